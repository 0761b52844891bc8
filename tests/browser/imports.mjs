// Browser test of imports below county level (issue 19 item 15): a village operator imports a
// small ledger of their own village through the upload page — a dry run, then the import — and
// finds the new household in the list.
// Then (issue 14) a county clerk on a desktop: a ledger with an unknown column is mapped in the
// column dialog and the mapping saved for the county, the dry run shows what would change, the
// file is imported without uploading it again; the next upload applies the saved mapping by
// itself; a file with one bad household is imported valid-only and the bad one is listed as held
// back. Last, the dialog on a 390×844 phone.
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
async function upload(page, csv, dryRun, validOnly = false) {
  await page.goto(`${base}/imports`);
  await page.setInputFiles('input[name=file]', {
    name: '台账.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(csv, 'utf8'),
  });
  await page.setChecked('form.upload input[name=dry_run]', dryRun);
  await page.setChecked('form.upload input[name=valid_only]', validOnly);
  await Promise.all([page.waitForLoadState('load'), page.click('form.upload button[type=submit]')]);
  return report(page);
}

/** Waits for the report of the job the page is following; returns its heading. */
async function report(page) {
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
  const csv = '户编号,乡镇,行政村,户类型,主要致贫原因,姓名,证件号码,与户主关系,民族\n'
    + `${householdNo},${townshipName},${villageName},贫困户,因病,导入测试,${identityNumber('451228')},户主,壮族\n`;
  const dry = await upload(page, csv, true);
  assert.ok(dry.includes('检查通过'), `dry run: ${dry}`);
  await page.screenshot({ path: `${shots}import-dry-run.png`, fullPage: true });
  const done = await upload(page, csv, false);
  assert.ok(done.includes('导入完成'), `import: ${done}`);
  await page.screenshot({ path: `${shots}import-done.png`, fullPage: true });
  await page.goto(`${base}/households?q=${householdNo}`);
  assert.equal(await page.locator('#households tbody tr').count(), 1, 'the new household is listed');
  assert.ok((await page.locator('#households tbody').innerText()).includes('导入测试'));

  // ---- issue 14: a county clerk, desktop ----
  const clerkName = `clerk_${Math.floor(Math.random() * 1e6)}`;
  const clerkPassword = 'County-clerk-2026x';
  await admin.goto(`${base}/admin/users`);
  await admin.fill('input[name=username]', clerkName);
  await admin.fill('input[name=display_name]', '县级导入');
  await admin.selectOption('select[name=role]', 'county');
  await admin.selectOption('#new-user select[name=region_code]', '451228');
  await admin.fill('input[name=password]', clerkPassword);
  await admin.click('form:has(input[name=username]) button[type=submit]');
  await admin.waitForLoadState('load');
  assert.ok((await admin.content()).includes(clerkName), 'the clerk\'s account is listed');
  const clerk = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  clerk.on('pageerror', (e) => errors.push(String(e)));
  clerk.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`); });
  await login(clerk, clerkName, clerkPassword);
  const header = '户编号,乡镇,行政村,户类型,主要致贫原因,姓名,证件号码,与户主关系,民族';
  const row = (no, name, id, extra) => `${no},${townshipName},${villageName},贫困户,因病,${name},${id},户主,壮族${extra}\n`;
  const no1 = `${villageCode}8${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
  const mapped = `${header},户主手机\n${row(no1, '列名测试', identityNumber('451228'), ',13812345678')}`;
  let h = await upload(clerk, mapped, true);
  assert.ok(h.includes('检查通过'), `dry run with an unknown column: ${h}`);
  const dialog = clerk.locator('#column-dialog');
  assert.equal(await dialog.count(), 1, 'the column dialog is shown');
  const col = dialog.locator('fieldset[data-header="户主手机"]');
  assert.equal(await col.count(), 1, 'the unknown column is listed');
  assert.ok((await col.innerText()).includes('13812345678'), 'with a sample value');
  assert.equal(await col.locator('select').inputValue(), '', '忽略此列 by default');
  await clerk.screenshot({ path: `${shots}import-column-dialog.png`, fullPage: true });
  await col.locator('select').selectOption('phone');
  await clerk.setChecked('#column-dialog input[name=save]', true);
  await Promise.all([clerk.waitForLoadState('load'), clerk.click('#column-dialog button[type=submit]')]);
  h = await report(clerk);
  assert.ok(h.includes('检查通过'), `re-checked: ${h}`);
  assert.equal(await clerk.locator('#column-dialog').count(), 0, 'mapped: no dialog');
  const diff = clerk.locator(`#import-diff .diff[data-household="${no1}"]`);
  assert.equal(await diff.count(), 1, 'the dry run lists the household');
  assert.ok((await diff.innerText()).includes('新增户'), 'as new');
  assert.ok((await diff.innerText()).includes('列名测试'));
  await clerk.screenshot({ path: `${shots}import-diff.png`, fullPage: true });
  await Promise.all([clerk.waitForLoadState('load'), clerk.click('#import-now button[type=submit]')]);
  h = await report(clerk);
  assert.ok(h.includes('导入完成'), `imported without uploading again: ${h}`);
  await clerk.goto(`${base}/imports`);
  assert.ok((await clerk.locator('#saved-mappings').innerText()).includes('户主手机'), 'the saved mapping is listed');

  // The next upload of the county: the saved mapping applies by itself.
  const no2 = `${villageCode}7${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
  h = await upload(clerk, `${header},户主手机\n${row(no2, '列名再测', identityNumber('451228'), ',13900001111')}`, true);
  assert.ok(h.includes('检查通过'), `second upload: ${h}`);
  assert.equal(await clerk.locator('#column-dialog').count(), 0, 'no dialog: the mapping was applied');
  assert.ok(!(await clerk.locator('#import-report').innerText()).includes('列“户主手机”'), 'not reported unknown');
  assert.equal(await clerk.locator(`#import-diff .diff[data-household="${no2}"]`).count(), 1);

  // Valid-only: one good household imported, the bad one held back with its error.
  const good = `${villageCode}6${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
  const badNo = `${villageCode}5${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
  const okId = identityNumber('451228');
  const badId = okId.slice(0, 14) + String((Number(okId[14]) + 1) % 10) + okId.slice(15, 17) + okId[17];
  const mixed = `${header}\n${row(good, '无误户', identityNumber('451228'), '')}${row(badNo, '有误户', badId, '')}`;
  h = await upload(clerk, mixed, false, true);
  assert.ok(h.includes('已导入无误的户'), `valid-only: ${h}`);
  const held = clerk.locator(`#held-back li[data-household="${badNo}"]`);
  assert.equal(await held.count(), 1, 'the bad household is listed as held back');
  assert.ok((await held.innerText()).includes('第3行'), 'with its error');
  await clerk.screenshot({ path: `${shots}import-valid-only.png`, fullPage: true });
  await clerk.goto(`${base}/households?q=${good}`);
  assert.equal(await clerk.locator('#households tbody tr').count(), 1, 'the valid household was imported');

  // ---- the dialog on a phone ----
  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
  phone.on('pageerror', (e) => errors.push(String(e)));
  phone.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`); });
  await login(phone, clerkName, clerkPassword);
  const no3 = `${villageCode}4${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
  h = await upload(phone, `${header},户主微信号码\n${row(no3, '手机测试', identityNumber('451228'), ',wx_1234')}`, true);
  const pcol = phone.locator('#column-dialog fieldset[data-header="户主微信号码"]');
  assert.equal(await pcol.count(), 1, 'the dialog on a phone');
  await pcol.scrollIntoViewIfNeeded();
  const box = await pcol.locator('select').boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the select fits the screen: ${JSON.stringify(box)}`);
  const dbox = await phone.locator('#column-dialog').boundingBox();
  assert.ok(dbox.x >= 0 && dbox.x + dbox.width <= 390, `the dialog fits the screen: ${JSON.stringify(dbox)}`);
  await phone.screenshot({ path: `${shots}import-column-dialog-phone.png`, fullPage: true });
  await pcol.locator('select').selectOption({ label: '联系电话' });
  await Promise.all([phone.waitForLoadState('load'), phone.tap('#column-dialog button[type=submit]')]);
  h = await report(phone);
  assert.ok(h.includes('检查通过'), `re-checked on the phone: ${h}`);

  assert.deepEqual(errors, [], `no page errors or 5xx: ${errors.join('; ')}`);
  console.log(`imports: ok (village ${villageCode}, household ${householdNo}; column dialog, diff, valid-only, phone)`);
} finally {
  await browser.close();
}
