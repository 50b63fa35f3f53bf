import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { AmiServer } from '../support/ami-server.js';
import { launchChromium, screenshotPath } from '../support/browser.js';
import { startModule, type TestModule } from '../support/module.js';

const PASSWORD = 'browser-test-password';

describe('pages in Chromium', function () {
  let browser: Browser;
  let ami: AmiServer;
  let mod: TestModule;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  beforeEach(async () => {
    ami = await AmiServer.start();
    // A long backoff keeps the red light steady while the page is inspected.
    mod = await startModule({ TGPBX_AMI_URL: ami.url }, { amiBackoff: { initialMs: 60_000, maxMs: 60_000 } });
    page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  });
  afterEach(async () => {
    await page.close();
    await mod.close();
    await ami.stop();
  });

  it('first visit: choose a password, land on Status with AMI green, then see AMI go red live', async () => {
    await page.goto(mod.app.url + '/');
    assert.equal(new URL(page.url()).pathname, '/setup');
    await page.screenshot({ path: screenshotPath('setup') });
    await page.fill('input[name=password]', PASSWORD);
    await page.fill('input[name=confirm]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL('**/status');
    await page.waitForSelector('body[data-live="on"]');
    await page.waitForSelector('tr[data-id="ami"] .light-green');
    assert.match(await page.textContent('tr[data-id="ami"] .detail') ?? '', /logged in to ami:\/\/127\.0\.0\.1/);
    await page.screenshot({ path: screenshotPath('status-green') });

    await ami.stop();
    await page.waitForSelector('tr[data-id="ami"] .light-red');
    assert.match(await page.textContent('tr[data-id="ami"] .detail') ?? '', /retrying in/);
    assert.equal(await page.textContent('tr[data-id="ami"] .light-word'), 'needs attention');
    assert.equal(await page.textContent('#overall'), 'something needs attention');
    await page.screenshot({ path: screenshotPath('status-ami-red') });
  });

  it('login page: a wrong password is refused with a message, the right one opens the page asked for', async () => {
    const auth = await import('../../src/web/admin-auth.js');
    await new auth.AdminAuth(mod.app.db, mod.app.settings).setPassword(PASSWORD);
    await page.goto(mod.app.url + '/settings');
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error');
    assert.equal(await page.textContent('.error'), 'Wrong password.');
    await page.screenshot({ path: screenshotPath('login-wrong') });
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL('**/settings');
    await page.waitForSelector('form.settings');
    await page.screenshot({ path: screenshotPath('settings'), fullPage: true });
    await page.click('button.link');
    await page.waitForURL('**/login');
  });
});
