// Browser test of imports below county level (issue 19 item 15): a village operator imports a
// small ledger of their own village through the upload page — a dry run, then the import — and
// finds the new household in the list.
// Usage: node imports.mjs BASE_URL PASSWORD   (the admin password printed on first run)
// The administrator first makes the village operator's account on the users page.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

const [base, password] = process.argv.slice(2);
if (!base || !password) {
  console.error('usage: node imports.mjs BASE_URL PASSWORD');
  process.exit(2);
}
const shots = new URL('../../target/browser/', import.meta.url).pathname;
mkdirSync(shots, { recursive: true });

/** A valid identity number (GB 11643 check character) of a 1931 birth in `region`. */
function identityNumber(region) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const pad = (n, w) => String(n).padStart(w, '0');
  const body = `${region}1931${pad(1 + Math.floor(Math.random() * 12), 2)}${pad(1 + Math.floor(Math.random() * 28), 2)}${pad(Math.floor(Math.random() * 1000), 3)}`;
  const sum = [...body].reduce((s, c, i) => s + Number(c) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

async function login(page, username, pw) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', pw);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** Submits the upload form with `csv`, then waits for the job's report; returns its heading. */
async function upload(page, csv, dryRun) {
  await page.goto(`${base}/imports`);
  await page.setInputFiles('input[name=file]', {
    name: '台账.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(csv, 'utf8'),
  });
  await page.setChecked('input[name=dry_run]', dryRun);
  await Promise.all([page.waitForLoadState('load'), page.click('form.upload button[type=submit]')]);
  // The upload answers with the job's progress page, whose script opens the report when the job
  // ends (at once for a small file): wait for the report, tolerating a page that is navigating.
  for (let i = 0; i < 120; i++) {
    try {
      const err = page.locator('#import-error');
      if (await err.count() > 0) throw new Error(`import refused: ${await err.innerText()}`);
      if (/\/imports\/jobs\/\d+\/report$/.test(page.url()) && await page.locator('#import-report').count() > 0) {
        return await page.locator('#import-report h2').innerText();
      }
    } catch (e) {
      if (String(e).includes('import refused')) throw e;
      // The page was navigating; look again.
    }
    await page.waitForTimeout(500);
  }
  throw new Error('the import did not finish');
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  // The administrator finds a township and a village of the demo county and makes the village
  // operator's account.
  const admin = await (await browser.newContext()).newPage();
  admin.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`); });
  await login(admin, 'admin', password);
  await admin.goto(`${base}/regions/451228`);
  const township = admin.locator('#children tbody tr th a').first();
  const townshipName = (await township.innerText()).trim();
  await township.click();
  await admin.waitForURL(/\/regions\/\d{9}$/);
  const village = admin.locator('#children tbody tr th a').first();
  const villageName = (await village.innerText()).trim();
  const villageCode = (await village.getAttribute('href')).split('/').pop();
  assert.match(villageCode, /^\d{12}$/);
  const operator = `village_${villageCode.slice(-6)}`;
  const operatorPassword = 'Village-import-2026x';
  await admin.goto(`${base}/admin/users`);
  await admin.fill('input[name=username]', operator);
  await admin.fill('input[name=display_name]', '村级导入');
  await admin.selectOption('select[name=role]', 'village');
  await admin.selectOption('#new-user select[name=region_code]', villageCode);
  await admin.fill('input[name=password]', operatorPassword);
  await admin.click('form:has(input[name=username]) button[type=submit]');
  await admin.waitForLoadState('load');
  assert.ok((await admin.content()).includes(operator), 'the account is listed');

  // The village operator: the form offers their own village, and a ledger of it imports.
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`); });
  await login(page, operator, operatorPassword);
  await page.goto(`${base}/imports`);
  const offered = await page.locator('select[name=county] option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(offered, [villageCode], 'the upload form offers the operator\'s village');
  const householdNo = `${villageCode}9${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
  const csv = '户编号,乡镇,行政村,户类型,主要致贫原因,姓名,证件号码,与户主关系\n'
    + `${householdNo},${townshipName},${villageName},贫困户,因病,导入测试,${identityNumber('451228')},户主\n`;
  const dry = await upload(page, csv, true);
  assert.ok(dry.includes('检查通过'), `dry run: ${dry}`);
  await page.screenshot({ path: `${shots}import-dry-run.png`, fullPage: true });
  const done = await upload(page, csv, false);
  assert.ok(done.includes('导入完成'), `import: ${done}`);
  await page.screenshot({ path: `${shots}import-done.png`, fullPage: true });
  await page.goto(`${base}/households?q=${householdNo}`);
  assert.equal(await page.locator('#households tbody tr').count(), 1, 'the new household is listed');
  assert.ok((await page.locator('#households tbody').innerText()).includes('导入测试'));
  assert.deepEqual(errors, [], `no page errors or 5xx: ${errors.join('; ')}`);
  console.log(`imports: ok (village ${villageCode}, household ${householdNo})`);
} finally {
  await browser.close();
}
