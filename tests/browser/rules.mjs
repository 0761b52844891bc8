// Browser check of the rule pages on a phone (issue 13 defect 12): the item column of a rule
// set stays readable (several characters per line, not a few), and a stored run's households
// are listed and filtered. Usage: node rules.mjs BASE_URL PASSWORD (the admin password).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

const [base, password] = process.argv.slice(2);
if (!base || !password) {
  console.error('usage: node rules.mjs BASE_URL PASSWORD');
  process.exit(2);
}
const shots = new URL('../../target/browser/', import.meta.url).pathname;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/regions\//);

  for (const set of ['quality', 'national-monitoring-2021', 'gx-household-exit-2018']) {
    await page.goto(`${base}/rules/${set}`);
    // Every item label cell: at least 6 CJK characters fit on a line (the defect: 1-3).
    const cells = await page.locator('#items td.label').evaluateAll((tds) => tds.map((td) => {
      const size = parseFloat(getComputedStyle(td).fontSize);
      return { width: td.clientWidth, size, text: td.innerText.split('\n')[0] };
    }));
    assert.ok(cells.length > 3, `${set}: items listed`);
    for (const c of cells) {
      assert.ok(c.width >= 6 * c.size, `${set}: item column ${c.width}px for ${c.size}px text ("${c.text}")`);
    }
    // The parameter labels never double their unit.
    const params = await page.locator('#params').innerText();
    assert.ok(!/（(元|岁|周岁|%|亩|㎡)）（\1）/.test(params), `${set}: doubled unit`);
    await page.screenshot({ path: `${shots}rules-${set}-phone.png`, fullPage: true });
  }

  // Run the quality checks and look at the stored run's failing households.
  await page.goto(`${base}/rules/quality`);
  await page.locator('form[action$="/runs"] button[type=submit]').click();
  await page.waitForURL(/\/rules\/runs\/\d+$/);
  const all = await page.locator('#run-households tbody tr').count();
  assert.ok(all > 0, 'the run lists households');
  await page.selectOption('#run-filters select[name=outcome]', 'pass');
  await page.click('#run-filters button[type=submit]');
  await page.waitForURL(/outcome=pass/);
  // A passing decision is never shown in red.
  assert.equal(await page.locator('#run-households tbody tr.t-bad, #run-households td:nth-child(5) .tag.t-bad').count(), 0,
    'pass rows are not red');
  await page.screenshot({ path: `${shots}rules-run-phone.png`, fullPage: true });
  assert.deepEqual(errors, []);
  console.log('rules browser check ok');
} finally {
  await browser.close();
}
