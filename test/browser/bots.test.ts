import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BotApiServer } from '../support/bot-api-server.js';
import { adminPage, launchChromium, screenshotPath } from '../support/browser.js';
import { startModule, waitForLight, type TestModule } from '../support/module.js';

// Test tokens must never look like real ones.
const DEFAULT_TOKEN = '123456789:TESTbotsPageDefaultAbcdefghijklmnop';
const CUSTOM_TOKEN = '234567891:TESTbotsPageCustomAbcdefghijklmnopq';
const UNKNOWN_TOKEN = '345678912:TESTbotsPageUnknownAbcdefghijklmno';

describe('Bots page (missed calls) in Chromium', function () {
  let browser: Browser;
  let telegram: BotApiServer;
  let mod: TestModule;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
    telegram = await BotApiServer.start();
    telegram.addBot({ token: DEFAULT_TOKEN, username: 'tgpbx_default_bot' });
    telegram.addBot({ token: CUSTOM_TOKEN, username: 'acme_missed_calls_bot' });
    mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { start: false });
    await mod.app.settings.update({ 'telegram.bot_token': DEFAULT_TOKEN });
    await mod.app.start();
    await waitForLight(mod.app.status, 'bot:default', 'green');
    ({ context, page } = await adminPage(browser, mod.app, '/missed-calls'));
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await mod?.close();
    await telegram?.stop();
  });

  it('is linked from the Missed calls page and shows the default bot with its light', async () => {
    await page.click('#bots-link');
    await page.waitForURL('**/missed-calls/bots');
    const row = page.locator('tr[data-bot="default"]');
    assert.match((await row.textContent()) ?? '', /@tgpbx_default_bot/);
    assert.equal(await row.locator('.token code').textContent(), '••••mnop');
    assert.equal(await row.locator('.light').getAttribute('aria-label'), 'green');
    assert.equal(await page.locator('a[aria-current=page]').textContent(), 'Missed calls');
  });

  it('refuses a token Telegram refuses, with the reason next to the field', async () => {
    await page.fill('#bot-name', 'Nobody');
    await page.fill('#bot-token', UNKNOWN_TOKEN);
    await page.click('#add-bot button[type=submit]');
    await page.waitForSelector('#bot-token-problem');
    assert.match((await page.textContent('#bot-token-problem')) ?? '', /Telegram refused the token/);
    assert.equal(await page.inputValue('#bot-name'), 'Nobody');
    assert.equal(await page.inputValue('#bot-token'), '');
    assert.ok(!(await page.content()).includes(UNKNOWN_TOKEN));
  });

  it('adds a bot (off, @username, masked token), activates it and shows it green', async () => {
    await page.goto(mod.app.url + '/missed-calls/bots');
    await page.fill('#bot-name', 'ACME notices');
    await page.fill('#bot-token', CUSTOM_TOKEN);
    await page.click('#add-bot button[type=submit]');
    await page.waitForSelector('p.notice');
    const row = page.locator('tr[data-bot]:not([data-bot="default"])');
    assert.equal(await row.getAttribute('data-active'), 'no');
    assert.match((await row.locator('.name').textContent()) ?? '', /ACME notices\s*@acme_missed_calls_bot/);
    assert.equal(await row.locator('.token code').textContent(), '••••nopq');
    assert.equal((await row.locator('.status .badge').textContent())?.trim(), 'Off');
    assert.ok(!(await page.content()).includes(CUSTOM_TOKEN));

    await row.locator('button', { hasText: 'Activate' }).click();
    await page.waitForSelector('tr[data-active="yes"]');
    const id = mod.app.customBots.list()[0]!.id;
    await waitForLight(mod.app.status, `bot:custom:${id}`, 'green');
    await page.reload();
    const active = page.locator('tr[data-active="yes"]');
    assert.equal((await active.locator('.status .badge').textContent())?.trim(), 'Active');
    assert.match((await active.locator('.status').textContent()) ?? '', /sends the notices/);
    assert.equal(await active.locator('.light').getAttribute('aria-label'), 'green');
    assert.equal((await page.locator('tr[data-bot="default"] .serving').textContent())?.trim(), 'no');
    await page.screenshot({ path: screenshotPath('missed-calls-bots'), fullPage: true });

    await active.locator('button', { hasText: 'Switch off' }).click();
    await page.waitForSelector('tr[data-active="no"]');
    assert.equal(mod.app.customBots.active(), undefined);
  });

  it('refuses a form without the CSRF token', async () => {
    const res = await page.request.post(mod.app.url + '/missed-calls/bots/1/activate', { form: { _csrf: 'nope' }, maxRedirects: 0 });
    assert.equal(res.status(), 403);
    assert.equal(mod.app.customBots.active(), undefined);
  });
});
