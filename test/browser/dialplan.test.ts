import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AdminAuth } from '../../src/web/admin-auth.js';
import { AmiServer } from '../support/ami-server.js';
import { launchChromium, screenshotPath } from '../support/browser.js';
import { nextEvent, startModule, type TestModule } from '../support/module.js';

const PASSWORD = 'browser-test-password';

describe('Dialplan page in Chromium', function () {
  let browser: Browser;
  let ami: AmiServer;
  let mod: TestModule;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  beforeEach(async () => {
    ami = await AmiServer.start();
    mod = await startModule({ TGPBX_AMI_URL: ami.url }, { start: false });
    const reloaded = nextEvent(mod.app.dialplanHooks.dialplan, 'reloaded');
    await mod.app.start();
    await reloaded;
    await new AdminAuth(mod.app.db, mod.app.settings).setPassword(PASSWORD);
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: mod.app.url });
    page = await context.newPage();
  });
  afterEach(async () => {
    await context.close();
    await mod.close();
    await ami.stop();
  });

  /** What the page put on the clipboard (evaluated in the page: the tests have no DOM types). */
  const clipboard = () => page.evaluate('navigator.clipboard.readText()') as Promise<string>;

  async function logInTo(path: string): Promise<void> {
    await page.goto(mod.app.url + path);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`**${path}`);
  }

  it('copy button: puts the generated dialplan on the clipboard and says so', async () => {
    await logInTo('/dialplan');
    const button = page.locator('button.copy[data-copy-target="dialplan-text"]');
    await button.waitFor({ state: 'visible' });
    assert.equal(await page.locator('#no-lines').count(), 1, 'empty state while there is no Telegram line');
    await page.screenshot({ path: screenshotPath('dialplan-empty'), fullPage: true });

    await button.click();
    await page.waitForSelector('button.copy[data-copy-target="dialplan-text"][data-copied="yes"]');
    assert.equal(await button.textContent(), 'Copied');
    assert.equal(await page.textContent('#copy-status'), 'Copied to the clipboard.');
    const copied = await clipboard();
    assert.equal(copied, fs.readFileSync(mod.app.config.dialplanPath, 'utf8'));

    await page.click('button.copy[data-copy-target="pjsip-template"]');
    await page.waitForSelector('button.copy[data-copy-target="pjsip-template"][data-copied="yes"]');
    assert.match(await clipboard(), /^; Telegram line 1 \(\+79990001122\)[\s\S]*match = 127\.0\.0\.1:30001\n$/);
  });

  it('with Telegram lines: one PJSIP provider per line, each with its copy button', async () => {
    const published = nextEvent(mod.app.dialplanHooks.dialplan, 'reloaded');
    await mod.app.settings.update({ 'dialplan.telegram_lines': '1:+79990001122, 2:+79990002233' });
    await published;
    await logInTo('/dialplan');
    await page.waitForSelector('button.copy[data-copy-target="pjsip-line-2"]:not([hidden])');
    assert.equal(await page.locator('#no-lines').count(), 0);
    await page.click('button.copy[data-copy-target="pjsip-line-2"]');
    await page.waitForSelector('button.copy[data-copy-target="pjsip-line-2"][data-copied="yes"]');
    const copied = await clipboard();
    assert.match(copied, /^\[tgpbx-line-2\]\ntype = endpoint$/m);
    assert.match(copied, /^contact = sip:127\.0\.0\.1:30002$/m);
    await page.locator('#lines').screenshot({ path: screenshotPath('dialplan-lines') });
    await page.screenshot({ path: screenshotPath('dialplan-top') });
  });
});
