import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BotApiServer } from '../support/bot-api-server.js';
import { adminPage, launchChromium, screenshotPath } from '../support/browser.js';
import { startModule, tempDataDir, until, type TestModule } from '../support/module.js';
import { MtprotoEmulator } from '../support/mtproto/emulator.js';
import { trustEmulatorKey } from '../support/mtproto/gramjs-test-client.js';

const API_ID = 61234;
const API_HASH = '5f0c9e1d2b3a4c5d6e7f80919a8b7c6d';
const BOT_TOKEN = '123456789:TESTkeypadBotAbcdefghijklmnopqrstuvw';
const PASSWORD = 'pbx-2fa-password';
const PHONE = '+79990004455';

describe('Telegram provider page in Chromium: a full login', function () {
  let browser: Browser;
  let emu: MtprotoEmulator;
  let telegram: BotApiServer;
  let mod: TestModule;
  let context: BrowserContext;
  let page: Page;
  let dataDir: string;

  const startProvider = () =>
    startModule(
      { TGPBX_BOT_API_ROOT: telegram.apiRoot },
      { dataDir, telegramEndpoint: { dcId: emu.dcId, host: emu.host, port: emu.port }, telegramAccounts: { requestTimeoutMs: 5_000, backoff: { initialMs: 50, maxMs: 200 } } },
    );

  before(async () => {
    browser = await launchChromium();
    emu = await MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH });
    trustEmulatorKey(emu);
    emu.addAccount({ phone: PHONE, firstName: 'Acme', lastName: 'Support', username: 'acme_support', password: PASSWORD, passwordHint: 'office safe' });
    telegram = await BotApiServer.start();
    telegram.addBot({ token: BOT_TOKEN, username: 'acme_keypad_bot' });
    dataDir = tempDataDir();
    mod = await startProvider();
    ({ context, page } = await adminPage(browser, mod.app, '/provider', { width: 1280, height: 1000 }));
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await mod?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await telegram?.stop();
    await emu?.stop();
  });

  /** Waits for the live stream, so that changes made elsewhere reach the page. */
  const live = () => page.waitForSelector('body[data-live="on"]');

  it('saves the App credentials and the bot token: secrets come back masked', async () => {
    await page.fill('[name="provider.api_id"]', String(API_ID));
    await page.fill('[name="provider.api_hash"]', API_HASH);
    await page.fill('[name="provider.bot_token"]', BOT_TOKEN);
    await page.click('#provider-settings button[type=submit]');
    await page.waitForURL('**/provider?saved=settings');
    assert.match((await page.getAttribute('[name="provider.api_hash"]', 'placeholder')) ?? '', /^••••7c6d/);
    const html = await page.content();
    assert.ok(!html.includes(API_HASH) && !html.includes(BOT_TOKEN));
  });

  it('refuses a bad number next to the field, then adds the number with its SIP line', async () => {
    await page.fill('#f-phone', '555');
    await page.click('#add-number button[type=submit]');
    assert.match((await page.textContent('#add-number .problem')) ?? '', /not a valid phone number/);
    assert.equal(await page.inputValue('#f-phone'), '555');
    await page.fill('#f-phone', '+7 999 000-44-55');
    await page.click('#add-number button[type=submit]');
    await page.waitForSelector('#line-1');
    assert.equal(await page.textContent('#sip-line-1'), '127.0.0.1:30001');
    assert.equal(await page.getAttribute('#line-1-client', 'data-light'), 'red');
    await page.screenshot({ path: screenshotPath('provider-1-added'), fullPage: true });
  });

  it('logs the client in: code, then the 2FA password with its hint, then green', async () => {
    await page.click('#line-1-client form[action$="/authorize"] button');
    await page.waitForSelector('#code-1-client');
    assert.match((await page.textContent('#line-1-client')) ?? '', /Telegram app on another device/);
    await page.screenshot({ path: screenshotPath('provider-2-code'), fullPage: true });
    // The code did not come to the app: the page offers the next way Telegram gives.
    const appCode = await emu.waitForCode(PHONE);
    assert.equal(await page.textContent('#line-1-client form.resend button'), 'No code? Send it by SMS');
    await page.click('#line-1-client form.resend button');
    await page.locator('#line-1-client', { hasText: 'Telegram sent the code by SMS' }).waitFor();
    assert.equal(await page.locator('#line-1-client form.resend').count(), 0, 'no third way');
    const code = emu.codeFor(PHONE)!;
    assert.notEqual(code, appCode);
    await page.fill('#code-1-client', '00000');
    await page.click('#line-1-client form[action$="/code"] button');
    await page.waitForSelector('#line-1-client .problem');
    assert.match((await page.textContent('#line-1-client .problem')) ?? '', /wrong code/);
    await page.fill('#code-1-client', code);
    await page.click('#line-1-client form[action$="/code"] button');
    await page.waitForSelector('#password-1-client');
    assert.match((await page.textContent('#line-1-client')) ?? '', /hint: office safe/);
    await page.screenshot({ path: screenshotPath('provider-3-password'), fullPage: true });
    await page.fill('#password-1-client', PASSWORD);
    await page.click('#line-1-client form[action$="/password"] button');
    await page.waitForSelector('#line-1-client[data-light="green"]');
    assert.match((await page.textContent('#line-1-client .user')) ?? '', /Acme @acme_support/);
  });

  it('logs the gateway in too; with the bot green the page says "Lines connected"', async () => {
    const before = emu.codeFor(PHONE);
    await page.click('#line-1-gateway form[action$="/authorize"] button');
    await page.waitForSelector('#code-1-gateway');
    const code = await until('a new code', () => (emu.codeFor(PHONE) !== before ? emu.codeFor(PHONE) : null));
    await page.fill('#code-1-gateway', code);
    await page.click('#line-1-gateway form[action$="/code"] button');
    await page.fill('#password-1-gateway', PASSWORD);
    await page.click('#line-1-gateway form[action$="/password"] button');
    await page.waitForSelector('#line-1-gateway[data-light="green"]');
    await page.waitForSelector('#line-1-bot[data-light="green"]');
    await page.waitForSelector('#summary[data-light="green"]');
    assert.equal(await page.textContent('#summary-message'), 'Lines connected');
    await page.screenshot({ path: screenshotPath('provider-4-connected'), fullPage: true });
  });

  it('shows a session revoked on Telegram live: red with the reason, the Authorize button back', async () => {
    await live();
    emu.revokeSessions(PHONE);
    await mod.app.provider.account(1, 'client').checkNow();
    await page.waitForSelector('#line-1-client[data-light="red"]');
    assert.match((await page.textContent('#line-1-client .detail')) ?? '', /no longer valid/);
    assert.equal(await page.textContent('#line-1-client form[action$="/authorize"] button'), 'Authorize');
    assert.match((await page.textContent('#summary')) ?? '', /client: the session is no longer valid/);
    await page.screenshot({ path: screenshotPath('provider-5-revoked'), fullPage: true });
  });

  it('a login waiting for its code when tgpbx restarts: after the restart the page asks for the same code', async () => {
    const before = emu.codeFor(PHONE);
    await page.click('#line-1-client form[action$="/authorize"] button');
    await page.waitForSelector('#code-1-client');
    const code = await until('a new code', () => (emu.codeFor(PHONE) !== before ? emu.codeFor(PHONE) : null));
    await context.close();
    await mod.app.stop();
    const codesSent = emu.requests.filter((r) => r.method === 'auth.SendCode').length;

    mod = await startProvider();
    ({ context, page } = await adminPage(browser, mod.app, '/provider', { width: 1280, height: 1000 }));
    await page.waitForSelector('#code-1-client');
    assert.match((await page.textContent('#line-1-client')) ?? '', /login code \(the login began before tgpbx restarted\)/);
    await page.screenshot({ path: screenshotPath('provider-6-resumed'), fullPage: true });
    await page.fill('#code-1-client', code);
    await page.click('#line-1-client form[action$="/code"] button');
    await page.fill('#password-1-client', PASSWORD);
    await page.click('#line-1-client form[action$="/password"] button');
    await page.waitForSelector('#line-1-client[data-light="green"]');
    assert.equal(emu.requests.filter((r) => r.method === 'auth.SendCode').length, codesSent, 'no new code was asked for');
  });

  it('logs in again by QR code: the page draws it, the app of the number scans it, then the 2FA password', async () => {
    await live();
    await page.click('#line-1-client form[action$="/qr"] button');
    await page.waitForSelector('#qr-1-client svg');
    assert.match((await page.textContent('#line-1-client')) ?? '', /Link Desktop Device/);
    await page.screenshot({ path: screenshotPath('provider-7-qr'), fullPage: true });
    const link = mod.app.provider.account(1, 'client').view.prompt ?? '';
    assert.equal(await page.getAttribute('#line-1-client', 'data-qr'), link);
    await live();
    emu.acceptLoginToken(PHONE, link.replace('tg://login?token=', ''));
    await page.waitForSelector('#password-1-client');
    await page.fill('#password-1-client', PASSWORD);
    await page.click('#line-1-client form[action$="/password"] button');
    await page.waitForSelector('#line-1-client[data-light="green"]');
  });

  it('removes the number after asking', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#line-1 .remove-number button');
    await page.waitForURL('**/provider?saved=removed');
    assert.equal(await page.locator('article.number').count(), 0);
    assert.equal(emu.activeSessions(PHONE).length, 0);
  });
});
