import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BotApiServer } from '../support/bot-api-server.js';
import { launchChromium, logInAsAdmin, screenshotPath } from '../support/browser.js';
import { startModule, waitForLight, type TestModule } from '../support/module.js';

// Test tokens must never look like real ones.
const BOT_TOKEN = '123456789:TESTmissedAbcdefghijklmnopqrstuvwxyz';

describe('Missed calls page in Chromium', function () {
  let browser: Browser;
  let telegram: BotApiServer;
  let mod: TestModule;
  let context: BrowserContext;
  let page: Page;
  let salesId: number;

  before(async () => {
    browser = await launchChromium();
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: BOT_TOKEN, username: 'tgpbx_missed_bot' });
    mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { start: false, outboxRetry: { initialMs: 10, maxMs: 40 } });
    await mod.app.settings.update({ 'telegram.rate.global_per_second': 1000, 'telegram.rate.private_chat_per_second': 1000, 'general.timezone': 'Europe/Moscow' });
    await mod.app.settings.update({ 'telegram.bot_token': BOT_TOKEN });
    const directory = mod.app.calls.directory;
    for (const [ext, name] of [['101', 'Reception'], ['102', 'Anna Petrova'], ['103', ''], ['104', 'Warehouse']] as const) await directory.saveEndpoint(ext, 'extension', name);
    salesId = await directory.saveGroup({ name: 'Sales', members: ['101', '102', '103'] });
    await directory.saveGroup({ name: 'Support', members: ['104'] });
    await mod.app.start();
    await waitForLight(mod.app.status, 'bot:default', 'green');
    // One subscriber who came through /activate, with a Telegram name of his own.
    await mod.app.missedCalls.store.activate('3002', { kind: 'extension', id: '101' }, 'Boris Telegramov');
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: mod.app.url });
    page = await context.newPage();
    await logInAsAdmin(page, mod.app, '/missed-calls');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await mod?.close();
    await telegram?.stop();
  });

  /** What the page put on the clipboard (evaluated in the page: the tests have no DOM types). */
  const clipboard = () => page.evaluate('navigator.clipboard.readText()') as Promise<string>;

  it('shows a group\'s key masked and copies it in full with the button', async () => {
    const key = await mod.app.missedCalls.store.keyFor({ kind: 'group', id: String(salesId) });
    const sales = page.locator('tr[data-group="Sales"]');
    assert.equal(await sales.locator('code.masked-key').textContent(), `••••${key.slice(-4)}`);
    assert.equal(await sales.locator('input[name=notify]').isChecked(), true);
    await page.screenshot({ path: screenshotPath('missed-calls'), fullPage: true });

    const copy = sales.locator(`button.copy[data-copy-target="key-group-${salesId}"]`);
    await copy.click();
    await page.waitForSelector(`button.copy[data-copy-target="key-group-${salesId}"][data-copied="yes"]`);
    assert.equal(await copy.textContent(), 'Copied');
    assert.equal(await clipboard(), key);
    assert.equal(await page.textContent('#copy-status'), 'Copied to the clipboard.');
    assert.equal(await page.locator(`#key-group-${salesId}`).getAttribute('type'), 'hidden', 'the key stays hidden after copying');

    await sales.locator('details.hand-out summary').click();
    await sales.locator(`button.copy[data-copy-target="key-group-${salesId}-activate"]`).click();
    await page.waitForSelector(`button.copy[data-copy-target="key-group-${salesId}-activate"][data-copied="yes"]`);
    assert.equal(await clipboard(), `/activate ${key}`);
    assert.equal(await sales.locator(`#key-group-${salesId}-link`).getAttribute('href'), `https://t.me/tgpbx_missed_bot?start=${key}`);
    await page.screenshot({ path: screenshotPath('missed-calls-hand-out'), fullPage: true });
  });

  it('adds a subscriber by hand, explains a bad chat id next to the field', async () => {
    await page.goto(mod.app.url + '/missed-calls');
    await page.fill('#add-name', 'Ann');
    await page.fill('#add-chat', '30O1');
    await page.selectOption('#add-scope', `group:${salesId}`);
    await page.click('#add-subscriber button[type=submit]');
    await page.waitForSelector('#add-chat-problem');
    assert.match((await page.textContent('#add-chat-problem')) ?? '', /This is not a chat id/);
    assert.equal(await page.inputValue('#add-name'), 'Ann', 'what was typed stays');
    await page.screenshot({ path: screenshotPath('missed-calls-bad-chat-id'), fullPage: true });

    await page.fill('#add-chat', '3001');
    await page.click('#add-subscriber button[type=submit]');
    await page.waitForURL('**/missed-calls?saved#subscribers');
    assert.equal(await page.textContent('p.notice'), 'Saved.');
    const [ann] = await mod.app.missedCalls.store.subscriptionsOf('3001');
    const row = page.locator(`tr[data-subscriber="${ann!.id}"]`);
    assert.equal(await row.locator('input[name=name]').inputValue(), 'Ann');
    assert.equal(await row.locator('td.scope').textContent(), 'group Sales');
    assert.equal(await row.locator('.mc-status').textContent(), 'notifications on');
  });

  it('switches a subscriber off: he is told, and the page shows "disabled by admin" with its time', async () => {
    const annUser = telegram.user({ id: 3001, first_name: 'Ann' });
    const [ann] = await mod.app.missedCalls.store.subscriptionsOf('3001');
    const row = page.locator(`tr[data-subscriber="${ann!.id}"]`);
    await row.locator('form.switch button').click();
    await page.waitForSelector(`tr[data-subscriber="${ann!.id}"][data-status="disabled"]`);
    assert.equal(await row.locator('.mc-status').textContent(), 'disabled by admin');
    const changed = (await mod.app.missedCalls.store.get(ann!.id))!.statusChangedAt;
    const when = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Moscow', dateStyle: 'medium', timeStyle: 'short' }).format(new Date(changed));
    assert.equal(await row.locator('.since time').textContent(), when);
    assert.equal(await row.locator('form.switch button').textContent(), 'Switch on');
    const told = await annUser.waitForMessage((m) => Boolean(m.text?.startsWith('The administrator has switched off')));
    assert.equal(told.text, 'The administrator has switched off your missed-call notices for group "Sales".');
    await page.screenshot({ path: screenshotPath('missed-calls-subscribers'), fullPage: true });
  });

  it('removes a subscriber only after the confirmation step', async () => {
    const [ann] = await mod.app.missedCalls.store.subscriptionsOf('3001');
    const row = page.locator(`tr[data-subscriber="${ann!.id}"]`);
    const confirm = row.locator('details.confirm-remove button');
    assert.equal(await confirm.isVisible(), false, 'the remove button hides behind "Remove…"');
    await row.locator('details.confirm-remove summary').click();
    await page.screenshot({ path: screenshotPath('missed-calls-remove'), fullPage: false });
    await confirm.click();
    await page.waitForURL('**/missed-calls?saved#subscribers');
    assert.equal(await page.locator(`tr[data-subscriber="${ann!.id}"]`).count(), 0);
    assert.equal(await mod.app.missedCalls.store.get(ann!.id), undefined);
  });
});
