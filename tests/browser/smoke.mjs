// Browser smoke test of the xiuhua UI: a real Chromium (Debian's) driven by playwright-core.
// Usage: node smoke.mjs BASE_URL PASSWORD   (the admin password printed on first run)
// Walks the main path a county officer takes: log in, county page, click a count, open a
// household, look at it "as of" a past date with its policy checklists, open the rule sets and
// upload a ledger as a dry run (the page script follows the job to its report), simulate a
// monitoring-line change, switch to English; fails on anything the CSP blocks. Saves screenshots to
// ../../target/browser/.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

const [base, password] = process.argv.slice(2);
if (!base || !password) {
  console.error('usage: node smoke.mjs BASE_URL PASSWORD');
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
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`); });
  // Anything the Content-Security-Policy blocks (an inline script or style left behind).
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });

  // Unauthenticated visits land on the login form.
  await page.goto(`${base}/regions/451228`);
  assert.match(page.url(), /\/login$/);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('button[type=submit]');
  await page.waitForSelector('p.error');
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/regions\/451228$/);
  assert.equal(await page.locator('h1').first().innerText().then((t) => t.includes('都安瑶族自治县')), true);
  await page.screenshot({ path: `${shots}county.png`, fullPage: true });

  // The lifted-household count links to the list it counts.
  const liftedLink = page.locator('#totals tr:has(th:text("已脱贫户")) td a').first();
  const counted = Number(await liftedLink.innerText());
  assert.ok(counted > 0, 'demo county has lifted households');
  await liftedLink.click();
  await page.waitForURL(/\/households\?region=451228.*status=lifted/);
  const note = await page.locator('p.note').first().innerText();
  const total = Number((note.match(/(\d+)\s*户数/) || [])[1]);
  assert.equal(total, counted, `list total (${note}) equals the count ${counted}`);

  // Buttons are readable: the export button's text colour differs from the colour behind it
  // (its own background, or the first non-transparent one around it).
  const [fg, bg] = await page.locator('#export-list button').evaluate((b) => {
    let e = b;
    let back = getComputedStyle(e).backgroundColor;
    while (e && (back === 'rgba(0, 0, 0, 0)' || back === 'transparent')) {
      e = e.parentElement;
      back = e ? getComputedStyle(e).backgroundColor : 'rgb(255, 255, 255)';
    }
    return [getComputedStyle(b).color, back];
  });
  const luminance = (c) => {
    const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
  const ratio = (hi + 0.05) / (lo + 0.05);
  assert.ok(ratio >= 3, `export button text ${fg} on ${bg}: contrast ${ratio.toFixed(2)}`);

  // Open the first household.
  await page.locator('#households tbody tr a').first().click();
  await page.waitForURL(/\/households\/\d+$/);
  assert.ok(await page.locator('#members tbody tr').count() >= 1);
  assert.ok(await page.locator('#history > li').count() >= 2, 'registration and exit are in the history');
  await page.screenshot({ path: `${shots}household.png`, fullPage: true });

  // As of a date before the exit it was a poor household (or not yet registered).
  await page.fill('input[name=as_of]', '2015-06-30');
  await page.click('form.asof button');
  await page.waitForURL(/as_of=2015-06-30/);
  const tag = await page.locator('h1 .tag').first().innerText().catch(() => '');
  const notYet = await page.locator('text=该日期时此户尚未建档').count();
  assert.ok(tag === '贫困户' || notYet === 1, `as of 2015 the household was poor (got "${tag}")`);

  // The household's policy checklists: as of 2019 the Guangxi exit standard applies.
  await page.fill('input[name=as_of]', '2019-12-31');
  await page.click('form.asof button');
  await page.waitForURL(/as_of=2019-12-31/);
  if (await page.locator('text=该日期时此户尚未建档').count() === 0) {
    const exit = page.locator('section.checklist[data-set="gx-household-exit-2018"]');
    assert.equal(await exit.count(), 1, 'the 2018 Guangxi exit standard is shown');
    assert.ok(await exit.locator('tbody tr').count() >= 8, 'item by item');
    await page.screenshot({ path: `${shots}household-checklists.png`, fullPage: true });
  }

  // A ledger upload (dry run): the page script (/static/app.js, no inline script under the
  // CSP) follows the job and opens its report.
  await page.click('header nav a[href="/imports"]');
  await page.waitForURL(/\/imports$/);
  const ledger = '户编号,乡镇,行政村,户类型,主要致贫原因,姓名,身份证号,与户主关系\n' +
    '451228101201002,高岭镇,弄力村,贫困户,因病,潘大,11010519491231002X,户主\n';
  await page.setInputFiles('input[name=file]', { name: 'probe.csv', mimeType: 'text/csv', buffer: Buffer.from(ledger) });
  await page.click('form.upload button[type=submit]');
  await page.waitForSelector('#import-report', { timeout: 60000 });
  assert.match(page.url(), /\/imports\/jobs\/\d+\/report$/);
  await page.screenshot({ path: `${shots}import-report.png`, fullPage: true });

  // Rule sets: the list, one set, and a what-if simulation of the monitoring line.
  await page.click('header nav a[href="/rules"]');
  await page.waitForURL(/\/rules$/);
  assert.ok(await page.locator('#rule-sets tbody tr').count() >= 12);
  await page.click('#rule-sets a[href="/rules/national-monitoring-2021"]');
  await page.waitForURL(/\/rules\/national-monitoring-2021$/);
  await page.fill('input[name=set]', 'line=8000');
  await page.fill('input[name=as_of]', '2024-12-31');
  await page.click('form[action$="/simulate"] button');
  await page.waitForURL(/simulate\?/);
  assert.match(await page.locator('#summary').innerText(), /line = 8000/);
  assert.equal(await page.locator('#download').count(), 1);
  await page.screenshot({ path: `${shots}simulation.png`, fullPage: true });

  // English is one click away.
  await page.click('a[href="/lang/en"]');
  await page.waitForLoadState('load');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.ok((await page.content()).includes('Simulation'));
  await page.screenshot({ path: `${shots}simulation-en.png`, fullPage: true });

  assert.deepEqual(errors, []);
  console.log('browser smoke test passed');
} finally {
  await browser.close();
}
