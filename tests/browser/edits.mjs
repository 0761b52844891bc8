// Browser test of every registry edit on the household page (issue 13): as a village operator
// on a phone, a field edit, a member added, the head changed (relations proposed and
// confirmed), a member moved to another household, a member removed and a status change, each
// seen in the history with old → new; then, as a county administrator, a change in a closed
// year is refused and made as a correction (更正).
// Usage: node edits.mjs BASE_URL PASSWORD   (the admin password printed on first run)
// The harness closes 2025 (`xiuhua close-year`) before it starts the server.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

const [base, password] = process.argv.slice(2);
if (!base || !password) {
  console.error('usage: node edits.mjs BASE_URL PASSWORD');
  process.exit(2);
}
const shots = new URL('../../target/browser/', import.meta.url).pathname;
mkdirSync(shots, { recursive: true });

/** A valid identity number (GB 11643 check character) of a birth on `date` (YYYYMMDD). */
function identityNumber(region, date) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const body = `${region}${date}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;
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

async function createUser(admin, username, role, region, pw) {
  await admin.goto(`${base}/admin/users`);
  await admin.fill('input[name=username]', username);
  await admin.fill('input[name=display_name]', username);
  await admin.selectOption('select[name=role]', role);
  await admin.selectOption('#new-user select[name=region_code]', region);
  await admin.fill('input[name=password]', pw);
  await admin.click('form:has(input[name=username]) button[type=submit]');
  await admin.waitForLoadState('load');
  assert.ok((await admin.content()).includes(username), `account ${username} is listed`);
}

/** Submits `form` (a locator) and waits for the page that answers. */
async function submit(page, form) {
  await Promise.all([page.waitForLoadState('load'), form.locator('button[type=submit]').click()]);
  await page.waitForLoadState('load');
}

async function history(page) {
  if (await page.locator('#history').count() === 0) {
    throw new Error(`not a household page: ${page.url()}: ${await page.locator('body').innerText()}`);
  }
  return page.locator('#history').innerText();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
// Names unique to this run (a rerun against the same database meets the last run's members).
const stems = '甲乙丙丁戊己庚辛壬癸';
const tag = [0, 1].map(() => stems[Math.floor(Math.random() * stems.length)]).join('');
const born = `韦新${tag}`;
const leaver = `韦嫁${tag}`;
const watch = (p) => {
  p.on('pageerror', (e) => errors.push(String(e)));
  p.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`); });
};
try {
  // The administrator picks a village of the demo county and makes the accounts.
  const admin = await (await browser.newContext()).newPage();
  watch(admin);
  await login(admin, 'admin', password);
  // A village with at least two households (one to edit, one to move a member into), taken
  // from the last township: imports.mjs adds households (registered today) to the first
  // village of the first township, and the correction below is dated in 2025.
  await admin.goto(`${base}/regions/451228`);
  const townships = (await admin.locator('#children tbody tr th a').evaluateAll(
    (as) => as.map((a) => a.getAttribute('href')))).reverse();
  let villageCode = null;
  for (const township of townships) {
    await admin.goto(`${base}${township}`);
    villageCode = await admin.locator('#children tbody tr').evaluateAll((rows) => {
      for (const r of rows) {
        const total = Number((r.querySelector('td') || {}).textContent || 0);
        if (total >= 2) return r.querySelector('th a').getAttribute('href').split('/').pop();
      }
      return null;
    });
    if (villageCode) break;
  }
  assert.match(villageCode, /^\d{12}$/);
  const operator = `edit_${villageCode.slice(-6)}`;
  const operatorPassword = 'Village-edits-2026x';
  await createUser(admin, operator, 'village', villageCode, operatorPassword);
  const clerk = 'county_clerk';
  const clerkPassword = 'County-edits-2026x';
  await createUser(admin, clerk, 'county', '451228', clerkPassword);

  // The village operator, on a phone.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true });
  const page = await phone.newPage();
  watch(page);
  await login(page, operator, operatorPassword);
  await page.goto(`${base}/households?region=${villageCode}`);
  const rows = page.locator('#households tbody tr');
  assert.ok(await rows.count() >= 2, 'the village has two households');
  const a = (await rows.nth(0).locator('a').getAttribute('href'));
  const targetNo = (await rows.nth(1).locator('a').innerText()).trim();
  const b = (await rows.nth(1).locator('a').getAttribute('href'));

  // 1. A field edit.
  await page.goto(`${base}${a}`);
  await page.locator('#edit summary').click();
  const edit = page.locator('#edit-household');
  await edit.locator('input[name=farmland_mu]').fill('8.4');
  await edit.locator('input[name=reason]').fill('入户核实耕地');
  await submit(page, edit);
  assert.match(await history(page), /耕地面积（亩）：.* → 8\.4/, 'field edit in the history');
  assert.ok((await page.locator('#attributes').innerText()).includes('8.4'));
  await page.screenshot({ path: `${shots}edits-field.png`, fullPage: false });

  // 2. A member added (a newborn).
  const headBefore = (await page.locator('h1').innerText()).split('·')[1].trim().split(/\s/)[0];
  await page.locator('#add-member summary').click();
  const add = page.locator('#add-member form');
  await add.locator('input[name=name]').fill(born);
  await add.locator('input[name=id_number]').fill(identityNumber('451228', '20260101'));
  await add.locator('select[name=relation]').selectOption('03');
  await add.locator('select[name=reason_code]').selectOption('06');
  await add.locator('input[name=reason]').fill('新生儿落户');
  await submit(page, add);
  assert.ok((await history(page)).includes(`+ ${born} (之子) · 新生儿`), 'member added in the history');

  // 3. The head changes to the newborn's parent? The newborn becomes head: the form proposes
  //    每位成员 relations relative to him, the clerk confirms.
  const newborn = page.locator('details.member-actions', { hasText: born });
  await newborn.locator(':scope > summary').click();
  await Promise.all([page.waitForURL(/\/head\?member=/), newborn.locator('form.make-head button').click()]);
  const relations = await page.locator('#relations tbody').innerText();
  assert.ok(relations.includes(born), relations);
  const head = page.locator('#change-head');
  await head.locator('input[name=reason]').fill('户主变更');
  await submit(page, head);
  const h3 = await history(page);
  assert.ok(h3.includes(`${born}: 与户主关系：之子 → 本人或户主`), 'head change in the history');
  assert.match(h3, new RegExp(`${headBefore}: 与户主关系：本人或户主 → 之(父|母)`), 'old head re-expressed');

  // 4. A member moved to the other household (by its number).
  await page.locator('details.member-actions', { hasText: headBefore }).locator(':scope > summary').click();
  const move = page.locator('details.member-actions', { hasText: headBefore }).locator('form.move-member');
  await move.locator('input[name=target_no]').fill(targetNo);
  await move.locator('input[name=reason]').fill('投靠亲属');
  await submit(page, move);
  assert.ok((await history(page)).includes(`− ${headBefore} · 其他转出`), 'moved out in the history');
  await page.goto(`${base}${b}`);
  assert.ok((await history(page)).includes(`+ ${headBefore}`), 'moved in at the target household');

  // 5. A member removed (the newborn's 原户 stays headed by him; remove another member if any,
  //    else add one and remove them).
  await page.goto(`${base}${a}`);
  await page.locator('#add-member summary').click();
  await add.locator('input[name=name]').fill(leaver);
  await add.locator('input[name=id_number]').fill(identityNumber('451228', '20000202'));
  await add.locator('select[name=relation]').selectOption('04');
  await add.locator('select[name=reason_code]').selectOption('07');
  await add.locator('input[name=reason]').fill('迁入');
  await submit(page, add);
  const leaving = page.locator('details.member-actions', { hasText: leaver });
  // 5a. Removing them effective in the closed year 2025: the village operator sees the form
  //     again with what was typed and is told to ask the county; no correction is offered.
  await leaving.locator(':scope > summary').click();
  let remove = leaving.locator('form.remove-member');
  await remove.locator('select[name=reason_code]').selectOption('02');
  await remove.locator('input[name=effective_date]').fill('2025-06-30');
  await remove.locator('input[name=reason]').fill('出嫁');
  await submit(page, remove);
  const refusedRemove = page.locator('#refused-form form.remove-member');
  assert.ok((await page.locator('p.refused').innerText()).includes('请联系县级管理员更正'), 'ask the county');
  assert.equal(await refusedRemove.locator('input[name=reason]').inputValue(), '出嫁', 'reason kept');
  assert.equal(await refusedRemove.locator('input[name=effective_date]').inputValue(), '2025-06-30');
  assert.equal(await refusedRemove.locator('select[name=reason_code]').inputValue(), '02');
  assert.equal(await page.locator('#correction').count(), 0, 'no correction offered to a village operator');
  await page.goto(`${base}${a}`);
  await leaving.locator(':scope > summary').click();
  remove = leaving.locator('form.remove-member');
  await remove.locator('select[name=reason_code]').selectOption('02');
  await remove.locator('input[name=reason]').fill('出嫁');
  await submit(page, remove);
  assert.ok((await history(page)).includes(`− ${leaver} · 嫁出`), 'member removed in the history');

  // 6. A status change: the first action offered from the current status.
  const action = page.locator('#status-changes details').first();
  const label = (await action.locator(':scope > summary').innerText()).trim();
  await action.locator(':scope > summary').click();
  const sform = action.locator('form');
  for (const name of ['identified_year', 'exit_year']) {
    const input = sform.locator(`input[name=${name}]`);
    if (await input.count() > 0) await input.fill('2026');
  }
  await sform.locator('input[name=reason]').fill('年度动态调整');
  await submit(page, sform);
  const h6 = await history(page);
  assert.match(h6, /状态变更/, `status change (${label}) in the history`);
  assert.match(h6, /(户类型|监测状态)：.+ → .+/, 'status old → new');
  await page.screenshot({ path: `${shots}edits-history.png`, fullPage: false });

  // The county administrator: a change effective in the closed year 2025 is refused, the
  // correction is offered with the typed values kept, and the correction goes through.
  const county = await (await browser.newContext()).newPage();
  watch(county);
  await login(county, clerk, clerkPassword);
  await county.goto(`${base}${a}`);
  await county.locator('#edit summary').click();
  const cedit = county.locator('#edit-household');
  await cedit.locator('input[name=forest_mu]').fill('3.5');
  await cedit.locator('input[name=effective_date]').fill('2025-06-30');
  await cedit.locator('input[name=reason]').fill('补录2025年林地');
  await submit(county, cedit);
  assert.ok((await county.locator('#refused').innerText()).includes('2025年度动态调整已结束'));
  assert.equal(await county.locator('#edit-household input[name=forest_mu]').inputValue(), '3.5');
  await county.locator('#correction input[name=correction]').check();
  await submit(county, county.locator('#edit-household'));
  await county.waitForURL((u) => /\/households\/\d+$/.test(u.pathname));
  const hc = await history(county);
  assert.ok(hc.includes('更正'), 'the correction is in the history');
  assert.match(hc, /林地面积（亩）：.* → 3\.5/);
  await county.screenshot({ path: `${shots}edits-correction.png`, fullPage: false });

  // A member change in the closed year: the add-member form comes back with what was typed
  // and the correction offer; ticked, the member is added as a correction.
  const late = '韦补录';
  await county.locator('#add-member summary').click();
  const cadd = county.locator('#add-member form');
  await cadd.locator('input[name=name]').fill(late);
  await cadd.locator('input[name=id_number]').fill(identityNumber('451228', '20250303'));
  await cadd.locator('select[name=relation]').selectOption('99');
  await cadd.locator('select[name=reason_code]').selectOption('06');
  await cadd.locator('input[name=effective_date]').fill('2025-04-01');
  await cadd.locator('input[name=reason]').fill('补录2025年出生');
  await submit(county, cadd);
  const again = county.locator('#refused-form form.add-member');
  assert.ok((await county.locator('p.refused').innerText()).includes('2025年度动态调整已结束'));
  assert.equal(await again.locator('input[name=name]').inputValue(), late, 'name kept');
  assert.equal(await again.locator('input[name=reason]').inputValue(), '补录2025年出生', 'reason kept');
  assert.equal(await again.locator('select[name=relation]').inputValue(), '99', 'relation kept');
  await again.locator('#correction input[name=correction]').check();
  await submit(county, again);
  await county.waitForURL((u) => /\/households\/\d+$/.test(u.pathname));
  const hm = await history(county);
  assert.ok(hm.includes(`+ ${late}`), 'the late member is in the history');
  assert.ok(hm.split('更正').length > 2, 'two corrections in the history');

  assert.deepEqual(errors, [], `no page errors or 5xx: ${errors.join('; ')}`);
  console.log(`edits: ok (village ${villageCode}, household ${a})`);
} finally {
  await browser.close();
}
