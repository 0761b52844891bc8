// Browser test of the survey form (入户核查, issue 15) on a phone (390×844): a village operator
// opens a household, opens 入户核查, sets a fact, sees the monitoring verdict change live (the
// form posted to its preview address), saves, and sees the household's checklist give the new
// verdict and the survey in its history. A viewer sees the form read-only.
// Usage: node survey.mjs BASE_URL PASSWORD   (the admin password printed on first run)
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

const [base, password] = process.argv.slice(2);
if (!base || !password) {
  console.error('usage: node survey.mjs BASE_URL PASSWORD');
  process.exit(2);
}
const shots = new URL('../../target/browser/', import.meta.url).pathname;
mkdirSync(shots, { recursive: true });

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

const monitoring = '#checklists section.checklist[data-set^="national-monitoring"]';
const decision = (page) => page.locator(`${monitoring} h3 .tag`).first().innerText();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
const watch = (p) => {
  p.on('pageerror', (e) => errors.push(String(e)));
  p.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`); });
};
try {
  const admin = await (await browser.newContext()).newPage();
  watch(admin);
  await login(admin, 'admin', password);
  // A village of the demo county with households, from the second township on (imports.mjs
  // adds households to the first township's first village).
  await admin.goto(`${base}/regions/451228`);
  const townships = (await admin.locator('#children tbody tr th a').evaluateAll(
    (as) => as.map((a) => a.getAttribute('href')))).slice(1);
  let villageCode = null;
  for (const township of townships) {
    await admin.goto(`${base}${township}`);
    villageCode = await admin.locator('#children tbody tr').evaluateAll((rows) => {
      for (const r of rows) {
        const total = Number((r.querySelector('td') || {}).textContent || 0);
        if (total >= 3) return r.querySelector('th a').getAttribute('href').split('/').pop();
      }
      return null;
    });
    if (villageCode) break;
  }
  assert.match(villageCode, /^\d{12}$/);
  const operator = `survey_${villageCode.slice(-6)}`;
  const operatorPassword = 'Village-survey-2026x';
  await createUser(admin, operator, 'village', villageCode, operatorPassword);
  const viewer = `survey_view_${villageCode.slice(-6)}`;
  await createUser(admin, viewer, 'viewer', villageCode, operatorPassword);

  // The village operator, on a phone, at the household.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true });
  const page = await phone.newPage();
  watch(page);
  await login(page, operator, operatorPassword);
  await page.goto(`${base}/households?region=${villageCode}`);
  const links = await page.locator('#households tbody tr a').evaluateAll(
    (as) => as.map((a) => a.getAttribute('href')).filter((h) => /^\/households\/\d+$/.test(h)));
  assert.ok(links.length >= 1, 'the village has households');
  // A household the monitoring rules do not flag today (不纳入监测), judged from its facts.
  let household = null;
  for (const h of links) {
    await page.goto(`${base}${h}`);
    if (await page.locator(monitoring).count() === 0) continue;
    if ((await decision(page)).includes('不纳入监测')) { household = h; break; }
  }
  assert.ok(household, 'a household not flagged by the monitoring rules');
  assert.ok(!(await page.locator('#checklists').innerText()).includes('无法判断（数据不全）'),
    'the recorded facts give every checklist a verdict');
  await Promise.all([page.waitForURL(/\/survey$/), page.locator('#survey-link').click()]);
  await page.waitForLoadState('load');
  const form = page.locator('#survey-form');
  assert.ok(await form.locator('fieldset legend', { hasText: '收入与支出' }).count() === 1, 'grouped as the 信息采集表');
  assert.ok((await page.locator('#registry-facts').innerText()).includes('住房安全'), 'registry fields the rules read');
  // Pre-filled with the demo's survey: 突发严重困难 recorded as 否.
  const hardship = form.locator('input[name="fact.sudden_hardship"][value="yes"]');
  assert.ok(await form.locator('input[name="fact.sudden_hardship"][value="no"]').isChecked(), 'pre-filled');
  assert.ok((await decision(page)).includes('不纳入监测'));
  // The form fits the phone: no horizontal scrolling.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no horizontal scroll on a phone (${overflow}px)`);
  // Setting the fact changes the verdict live, before saving.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/survey/preview') && r.status() === 200),
    hardship.check(),
  ]);
  await page.waitForFunction((sel) => {
    const t = document.querySelector(sel);
    return t && t.textContent.includes('应纳入监测');
  }, `${monitoring} h3 .tag`);
  await page.screenshot({ path: `${shots}survey-live.png`, fullPage: false });
  // A refused value shows the reason beside the field and keeps what was typed.
  await form.locator('input[name="fact.rigid_expense"]').fill('很多');
  await Promise.all([page.waitForLoadState('load'), form.locator('button[type=submit]').click()]);
  await page.waitForLoadState('load');
  const rigid = page.locator('#fact-rigid_expense');
  assert.ok((await rigid.locator('.field-error').innerText()).includes('刚性支出'), 'reason beside the field');
  assert.equal(await rigid.locator('input').inputValue(), '很多', 'typed value kept');
  assert.ok(await page.locator('input[name="fact.sudden_hardship"][value="yes"]').isChecked(), 'other values kept');
  // Fixed and saved: the household page shows the new verdict and the survey event.
  await page.locator('#survey-form input[name="fact.rigid_expense"]').fill('2,000');
  await Promise.all([page.waitForURL(/\/households\/\d+(#checklists)?$/), page.locator('#survey-form button[type=submit]').click()]);
  await page.waitForLoadState('load');
  assert.ok((await decision(page)).includes('应纳入监测'), 'saved verdict on the household page');
  const hist = await page.locator('#history').innerText();
  assert.ok(hist.includes('入户核查'), 'the survey in the history');
  assert.ok(hist.includes('sudden_hardship: 否 → 是'), hist.slice(0, 400));
  await page.screenshot({ path: `${shots}survey-saved.png`, fullPage: false });

  // A viewer sees the facts, read-only, and no save button.
  const ro = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  watch(ro);
  await login(ro, viewer, operatorPassword);
  await ro.goto(`${base}${household}/survey`);
  assert.ok(await ro.locator('input[name="fact.sudden_hardship"][value="yes"]').isChecked(), 'the saved fact');
  assert.ok(await ro.locator('input[name="fact.sudden_hardship"][value="yes"]').isDisabled(), 'read-only');
  assert.equal(await ro.locator('#survey-form button[type=submit]').count(), 0, 'no save for a viewer');
  assert.deepEqual(errors, [], 'no page errors or server errors');
  console.log('survey.mjs: ok');
} finally {
  await browser.close();
}
