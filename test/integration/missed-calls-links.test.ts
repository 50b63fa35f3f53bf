import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { BotApiServer, type SimUser } from '../support/bot-api-server.js';
import { launchChromium, logInAsAdmin, screenshotPath } from '../support/browser.js';
import { startModule, waitForLight, type TestModule } from '../support/module.js';
import { WebClient } from '../support/web-client.js';

const TOKEN = '123456789:TESTlinkTokensAbcdefghijklmnopqrstuv';

describe('one-time subscription links (t.me deep link + QR code)', () => {
  let telegram: BotApiServer;
  let mod: TestModule;
  let ann: SimUser;
  let bob: SimUser;

  async function say(user: SimUser, text: string): Promise<string> {
    const before = user.inbox().length;
    user.send(text);
    await user.waitForMessage(() => user.inbox().length > before);
    return user.inbox()[before]!.text!;
  }

  beforeEach(async () => {
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: TOKEN, username: 'tgpbx_link_bot' });
    ann = telegram.user({ id: 2001, first_name: 'Ann' });
    bob = telegram.user({ id: 2002, first_name: 'Bob' });
    mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { start: false });
    await mod.app.settings.update({ 'telegram.bot_token': TOKEN });
    await mod.app.start();
    await mod.app.calls.directory.saveEndpoint('101', 'extension', 'Reception');
    await waitForLight(mod.app.status, 'bot:default', 'green');
  });
  afterEach(async () => {
    await mod.close();
    await telegram.stop();
  });

  it('subscribes the first chat that opens it, and nobody after', async () => {
    const { token } = await mod.app.missedCalls.store.createLinkToken({ kind: 'extension', id: '101' });
    assert.equal(await say(ann, `/start ${token}`), 'Done: you will get a notice for every missed call of extension 101 (Reception).');
    assert.equal(await say(ann, `/start ${token}`), 'You are already subscribed to extension 101 (Reception); notices are on.', 'the same chat may open it again');
    assert.equal(await say(bob, `/start ${token}`), 'This subscription link was already used. Ask your PBX administrator for a new one.');
    assert.deepEqual((await mod.app.missedCalls.store.subscriptionsOf('2002')).length, 0);
  });

  it('stops working when it expires', async () => {
    const { token } = await mod.app.missedCalls.store.createLinkToken({ kind: 'extension', id: '101' }, -1);
    assert.equal(await say(ann, `/start ${token}`), 'This subscription link has expired. Ask your PBX administrator for a new one.');
  });

  it('the Missed calls page makes one, with its QR code, shown once', async () => {
    const web = new WebClient(mod.app.url);
    await web.setUp('link-test-password');
    const _csrf = await web.csrfFrom('/missed-calls');
    const res = await web.postForm('/missed-calls/links', { _csrf, kind: 'extension', id: '101' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const link = /href="(https:\/\/t\.me\/tgpbx_link_bot\?start=(L[A-Za-z0-9_-]{24}))"/.exec(res.text);
    assert.ok(link, 'a t.me link with a one-time token');
    assert.match(res.text, /<svg[^>]*viewBox/);
    assert.equal(await say(ann, `/start ${link[2]}`), 'Done: you will get a notice for every missed call of extension 101 (Reception).');
    const unknown = await web.postForm('/missed-calls/links', { _csrf: await web.csrfFrom('/missed-calls'), kind: 'extension', id: '999' });
    assert.equal(unknown.status, 404);
  });

  it('looks right in Chromium', async function () {
    const browser: Browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
      await logInAsAdmin(page, mod.app, '/missed-calls');
      await page.click('tr >> text=101 (Reception) >> xpath=ancestor::tr >> summary');
      await page.click('tr >> text=101 (Reception) >> xpath=ancestor::tr >> form.one-time-link button');
      await page.waitForSelector('.link-card .qr svg');
      assert.match((await page.textContent('#one-time-link')) ?? '', /^https:\/\/t\.me\/tgpbx_link_bot\?start=L/);
      await page.screenshot({ path: screenshotPath('missed-calls-link') });
    } finally {
      await browser.close();
    }
  });
});
