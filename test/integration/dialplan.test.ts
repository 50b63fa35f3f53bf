import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extensionLines, generateDialplan } from '../../src/pbx/dialplan.js';
import type { DialplanState } from '../../src/pbx/dialplan-publisher.js';
import { getField } from '../support/ami-frames.js';
import { AmiServer } from '../support/ami-server.js';
import { nextEvent, startModule, waitForLight, type TestModule } from '../support/module.js';
import { WebClient } from '../support/web-client.js';

const ADMIN_TOKEN = 'api-token-0123456789abcdef';
const PASSWORD = 'correct horse battery';

describe('generated dialplan in the running module', () => {
  let ami: AmiServer;
  let mod: TestModule | null;
  let asteriskDir: string;
  let includePath: string;

  beforeEach(async () => {
    ami = await AmiServer.start();
    asteriskDir = fs.mkdtempSync(path.join(os.tmpdir(), 'asterisk-etc-'));
    includePath = path.join(asteriskDir, 'extensions_tgpbx.conf');
    mod = null;
  });
  afterEach(async () => {
    await mod?.close();
    await ami.stop();
    fs.rmSync(asteriskDir, { recursive: true, force: true });
  });

  const reloads = () => ami.actions.filter((a) => a.name.toLowerCase() === 'reload');

  /** Starts the module and waits until Asterisk confirmed the first reload. */
  async function startReloaded(env: Record<string, string>): Promise<TestModule> {
    const m = await startModule(env, { start: false });
    const reloaded = nextEvent(m.app.dialplanHooks.dialplan, 'reloaded');
    await m.app.start();
    await reloaded;
    return m;
  }

  it('writes extensions_tgpbx.conf at TGPBX_DIALPLAN_PATH, then asks Asterisk over AMI to reload pbx_config', async () => {
    let fileAtReload: string | null = null;
    const reload = ami.waitForAction('Reload', () => ((fileAtReload = fs.existsSync(includePath) ? fs.readFileSync(includePath, 'utf8') : null), true));
    mod = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_DIALPLAN_PATH: includePath });
    const action = await reload;
    assert.equal(getField(action, 'Module'), 'pbx_config');
    const port = mod.app.dialplanHooks.fastAgi.address!.port;
    const expected = generateDialplan({ fastAgiUrl: `agi://127.0.0.1:${port}`, lines: [], incomingContext: 'from-trunk', internalContext: 'from-internal', outgoingContext: 'from-internal', generator: 'tgpbx' });
    assert.equal(fileAtReload, expected, 'the file was complete when Asterisk was asked to reload');
    assert.equal(fs.statSync(includePath).mode & 0o777, 0o644);
    assert.deepEqual(fs.readdirSync(asteriskDir), ['extensions_tgpbx.conf'], 'no temporary file left behind');
    await waitForLight(mod.app.status, 'dialplan', 'green');
    assert.match(mod.app.status.get('dialplan')!.detail, /extensions_tgpbx\.conf is current in Asterisk/);
    assert.deepEqual(extensionLines(expected, 'tgpbx-hooks', 'callerid')[1], ` same => n,AGI(agi://127.0.0.1:${port}/tg-callerid?line=\${TGPBX_LINE})`);
  });

  it('publishing an unchanged text neither rewrites the file nor reloads Asterisk again', async () => {
    mod = await startReloaded({ TGPBX_AMI_URL: ami.url, TGPBX_DIALPLAN_PATH: includePath });
    const before = fs.statSync(includePath).mtimeMs;
    const state = await mod.app.dialplanHooks.dialplan.publish();
    assert.equal(state.reloadPending, false);
    assert.equal(reloads().length, 1);
    assert.equal(fs.statSync(includePath).mtimeMs, before);
  });

  it('a Telegram line added in the settings rewrites the include and reloads it', async () => {
    mod = await startReloaded({ TGPBX_AMI_URL: ami.url, TGPBX_DIALPLAN_PATH: includePath });
    const reloaded = nextEvent(mod.app.dialplanHooks.dialplan, 'reloaded');
    await mod.app.settings.update({ 'dialplan.telegram_lines': '1:79990001122, 2:+79990002233', 'dialplan.incoming_context': 'from-pstn' });
    const [state] = (await reloaded) as [DialplanState];
    assert.equal(reloads().length, 2);
    const text = fs.readFileSync(includePath, 'utf8');
    assert.equal(state.text, text);
    assert.deepEqual(
      extensionLines(text, 'tgpbx-to-telegram', '_+X.').filter((l) => l.includes('Dial(')),
      [' same => n,Dial(PJSIP/${EXTEN}@tgpbx-line-1,120)', ' same => n,Dial(PJSIP/${EXTEN}@tgpbx-line-2,120)', ' same => n(chosen),Dial(PJSIP/${EXTEN}@tgpbx-line-${TGPBX_LINE},120)'],
    );
    assert.equal(extensionLines(text, 'tgpbx-from-telegram', 's').at(-1), ' same => n,Goto(from-pstn,s,1)');
  });

  it('a reload Asterisk refused is retried at the next AMI connection', async () => {
    ami.onAction('Reload', () => [['Response', 'Error'], ['Message', 'No such module']]);
    mod = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_DIALPLAN_PATH: includePath }, { amiBackoff: { initialMs: 10, maxMs: 20 } });
    await ami.waitForAction('Reload');
    await waitForLight(mod.app.status, 'dialplan', 'red');
    assert.match(mod.app.status.get('dialplan')!.detail, /Asterisk did not reload the dialplan: .*No such module/);
    assert.equal(mod.app.dialplanHooks.dialplan.current.reloadPending, true);

    ami.onAction('Reload', () => [['Response', 'Success'], ['Message', 'Module Reloaded']]);
    const reloaded = nextEvent(mod.app.dialplanHooks.dialplan, 'reloaded');
    await ami.dropConnections();
    await reloaded;
    assert.equal(reloads().length, 2);
    await waitForLight(mod.app.status, 'dialplan', 'green');
  });

  it('without AMI the include is still written, and the light says to reload by hand', async () => {
    mod = await startModule({ TGPBX_DIALPLAN_PATH: includePath });
    assert.ok(fs.existsSync(includePath));
    assert.equal(mod.app.status.get('dialplan')?.light, 'orange');
    assert.match(mod.app.status.get('dialplan')!.detail, /no AMI to reload it: run "dialplan reload" in Asterisk/);
  });

  it('an include path that cannot be written turns the light red; the module still starts', async () => {
    const blocked = path.join(asteriskDir, 'a-file');
    fs.writeFileSync(blocked, '');
    mod = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_DIALPLAN_PATH: path.join(blocked, 'extensions_tgpbx.conf') });
    assert.equal(mod.app.status.get('dialplan')?.light, 'red');
    assert.match(mod.app.status.get('dialplan')!.detail, /^cannot write .*a-file\/extensions_tgpbx\.conf: (ENOTDIR|EEXIST)$/);
    assert.equal((await fetch(mod.app.url + '/health')).status, 200);
    assert.equal(reloads().length, 0, 'nothing to reload');
  });

  it('the default path is extensions_tgpbx.conf in the data directory', async () => {
    mod = await startModule();
    assert.equal(mod.app.config.dialplanPath, path.join(mod.dataDir, 'extensions_tgpbx.conf'));
    assert.ok(fs.existsSync(mod.app.config.dialplanPath));
  });

  describe('Dialplan page and API', () => {
    it('shows the include, the wiring line, the hooks, and the empty state with the template of line 1', async () => {
      mod = await startModule({ TGPBX_DIALPLAN_PATH: includePath });
      const web = new WebClient(mod.app.url);
      assert.equal((await web.get('/dialplan')).location, '/setup');
      await web.setUp(PASSWORD);
      const page = await web.get('/dialplan');
      assert.equal(page.status, 200);
      assert.match(page.text, /<a href="\/dialplan" aria-current="page">Dialplan<\/a>/);
      assert.ok(page.text.includes(`#include ${includePath}`));
      assert.ok(page.text.includes('[tgpbx-from-telegram]'));
      assert.match(page.text, /id="no-lines"/);
      assert.match(page.text, /type = identify\nendpoint = tgpbx-line-1\nmatch = 127\.0\.0\.1:30001/);
      assert.match(page.text, /AGI\(agi:\/\/127\.0\.0\.1:\d+\/tg-callerid\)/);
      assert.ok(page.text.includes(`/agi/tg-callerid)`));
      assert.match(page.text, /generateIncomingRoutBeforeDial/);
      assert.match(page.text, /<script src="\/static\/js\/copy\.js" defer><\/script>/);
      assert.doesNotMatch(page.text, /<script>(?!<\/script>)/, 'no inline script');
    });

    it('shows a PJSIP provider per line, and "Write and reload now" needs the CSRF token', async () => {
      mod = await startReloaded({ TGPBX_AMI_URL: ami.url, TGPBX_DIALPLAN_PATH: includePath });
      const reloaded = nextEvent(mod.app.dialplanHooks.dialplan, 'reloaded');
      await mod.app.settings.update({ 'dialplan.telegram_lines': '1:+79990001122, 2:+79990002233' });
      await reloaded;
      const web = new WebClient(mod.app.url);
      await web.setUp(PASSWORD);
      const page = await web.get('/dialplan');
      assert.doesNotMatch(page.text, /id="no-lines"/);
      assert.match(page.text, /Line 2 · \+79990002233 · gateway 127\.0\.0\.1:30002/);
      assert.match(page.text, /id="pjsip-line-2"/);
      assert.equal((await web.postForm('/dialplan/publish', {})).status, 403);
      const _csrf = await web.csrfFrom('/dialplan');
      const done = await web.postForm('/dialplan/publish', { _csrf });
      assert.equal(done.status, 302);
      assert.equal(done.location, '/dialplan?published');
      assert.match((await web.get('/dialplan?published')).text, /Dialplan written and reloaded by Asterisk\./);
    });

    it('GET /api/v1/dialplan: bearer token; JSON with the include, the lines\' PJSIP sections and the MikoPBX hooks; or plain text', async () => {
      mod = await startModule({ TGPBX_ADMIN_TOKEN: ADMIN_TOKEN, TGPBX_DIALPLAN_PATH: includePath });
      const published = nextEvent(mod.app.dialplanHooks.dialplan, 'published');
      await mod.app.settings.update({ 'dialplan.telegram_lines': '1:+79990001122' });
      await published;
      const url = mod.app.url + '/api/v1/dialplan';
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0000000000' } })).status, 401);
      const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { path: string; dialplan: string; fastAgi: string; lines: unknown[]; pjsip: { lineId: number; text: string }[]; mikopbxHooks: Record<string, string> };
      assert.equal(body.path, includePath);
      assert.equal(body.dialplan, fs.readFileSync(includePath, 'utf8'));
      assert.match(body.fastAgi, /^agi:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(body.lines, [{ id: 1, phone: '+79990001122' }]);
      assert.match(body.pjsip[0]!.text, /contact = sip:127\.0\.0\.1:30001/);
      assert.deepEqual(Object.keys(body.mikopbxHooks), ['extensionGenContexts', 'generateIncomingRoutBeforeDial', 'generateOutRoutContext', 'generatePeersPj', 'overrideProviderPJSIPOptions']);
      const text = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/plain' } });
      assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(await text.text(), body.dialplan);
    });

    it('refuses a bad Telegram lines setting with the reason, and keeps the dialplan as it was', async () => {
      mod = await startModule({ TGPBX_ADMIN_TOKEN: ADMIN_TOKEN, TGPBX_DIALPLAN_PATH: includePath });
      const res = await fetch(mod.app.url + '/api/v1/settings', {
        method: 'PATCH',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ 'dialplan.telegram_lines': '1:+79990001122, 2:hello', 'dialplan.incoming_context': 'from trunk' }),
      });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { problems: Record<string, string> };
      assert.match(body.problems['dialplan.telegram_lines']!, /line 2: "hello" is not a phone number/);
      assert.match(body.problems['dialplan.incoming_context']!, /must be an Asterisk context name/);
    });
  });
});
