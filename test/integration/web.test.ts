import assert from 'node:assert/strict';
import http from 'node:http';
import { startModule, type TestModule } from '../support/module.js';
import { WebClient } from '../support/web-client.js';

const PASSWORD = 'correct horse battery';
const ADMIN_TOKEN = 'api-token-0123456789abcdef';

describe('web pages, login, CSRF and the REST API', () => {
  let mod: TestModule;
  let web: WebClient;

  beforeEach(async () => {
    mod = await startModule({ TGPBX_ADMIN_TOKEN: ADMIN_TOKEN });
    web = new WebClient(mod.app.url);
  });
  afterEach(async () => mod.close());

  it('sends the first visitor to choose a password, then to the Status page', async () => {
    const first = await web.get('/status');
    assert.equal(first.status, 302);
    assert.equal(first.location, '/setup');
    const done = await web.setUp(PASSWORD);
    assert.equal(done.status, 302);
    assert.equal(done.location, '/status');
    const page = await web.get('/status');
    assert.equal(page.status, 200);
    assert.match(page.text, /Asterisk AMI/);
    assert.match(page.text, /light-red/);
    assert.match(page.text, /not configured: set TGPBX_AMI_URL/);
  });

  it('refuses a short or mistyped first password', async () => {
    let _csrf = await web.csrfFrom('/setup');
    const short = await web.postForm('/setup', { _csrf, password: 'short', confirm: 'short' });
    assert.equal(short.status, 400);
    assert.match(short.text, /at least 10 characters/);
    _csrf = await web.csrfFrom('/setup');
    const differ = await web.postForm('/setup', { _csrf, password: PASSWORD, confirm: PASSWORD + 'x' });
    assert.equal(differ.status, 400);
    assert.match(differ.text, /differ/);
  });

  it('stores the password as an scrypt hash, never as text', async () => {
    await web.setUp(PASSWORD);
    const rows = await mod.app.db('settings').select('key', 'value');
    const all = JSON.stringify(rows);
    assert.doesNotMatch(all, /correct horse/);
    assert.match(all, /"scrypt\$16384\$8\$1\$/);
  });

  it('logs in with the right password only, and logs out', async () => {
    await web.setUp(PASSWORD);
    const other = new WebClient(mod.app.url);
    assert.equal((await other.get('/settings')).location, '/login?next=%2Fsettings');
    const wrong = await other.logIn('not the password');
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Wrong password/);
    const right = await other.logIn(PASSWORD);
    assert.equal(right.status, 302);
    assert.equal((await other.get('/settings')).status, 200);
    const _csrf = await other.csrfFrom('/settings');
    await other.postForm('/logout', { _csrf });
    assert.equal((await other.get('/settings')).status, 302);
  });

  it('locks an address out after five wrong passwords', async () => {
    await web.setUp(PASSWORD);
    const other = new WebClient(mod.app.url);
    for (let i = 0; i < 5; i++) assert.equal((await other.logIn('wrong-' + i)).status, 401);
    const locked = await other.logIn(PASSWORD);
    assert.equal(locked.status, 429);
    assert.match(locked.text, /Too many wrong passwords/);
  });

  it('does not redirect to another site after login', async () => {
    await web.setUp(PASSWORD);
    const other = new WebClient(mod.app.url);
    const _csrf = await other.csrfFrom('/login');
    const res = await other.postForm('/login', { _csrf, password: PASSWORD, next: '//evil.example/' });
    assert.equal(res.location, '/status');
  });

  it('rejects a form posted without its CSRF token, or with a forged one', async () => {
    await web.setUp(PASSWORD);
    const missing = await web.postForm('/settings', { 'general.language': 'ru' });
    assert.equal(missing.status, 403);
    const forged = await web.postForm('/settings', { _csrf: 'forged-token', 'general.language': 'ru' });
    assert.equal(forged.status, 403);
    assert.equal(mod.app.settings.get('general.language'), 'en');
  });

  it('rejects a CSRF token lifted from another session', async () => {
    await web.setUp(PASSWORD);
    const attacker = new WebClient(mod.app.url);
    const stolen = await attacker.csrfFrom('/login');
    const res = await web.postForm('/settings', { _csrf: stolen, 'general.language': 'ru' });
    assert.equal(res.status, 403);
  });

  it('refuses pages and forms to a visitor who is not logged in', async () => {
    await web.setUp(PASSWORD);
    const stranger = new WebClient(mod.app.url);
    const _csrf = await stranger.csrfFrom('/login');
    const res = await stranger.postForm('/settings', { _csrf, 'general.language': 'ru' });
    assert.equal(res.status, 401);
    assert.equal((await stranger.get('/status/events')).status, 401);
  });

  it('saves settings, shows a stored token masked, and explains a bad value next to its field', async () => {
    await web.setUp(PASSWORD);
    const token = '123456789:TESTabcdefghijklmnopqrstuvwxyz012345';
    let _csrf = await web.csrfFrom('/settings');
    const ok = await web.postForm('/settings', { _csrf, 'telegram.bot_token': token, 'general.language': 'ru', 'general.timezone': 'Europe/Moscow' });
    assert.equal(ok.location, '/settings?saved');
    assert.equal(mod.app.settings.get('general.language'), 'ru');
    const page = await web.get('/settings?saved');
    assert.match(page.text, /Settings saved/);
    assert.match(page.text, /••••2345/);
    assert.doesNotMatch(page.text, /TESTabcdefghijklmnop/);
    _csrf = await web.csrfFrom('/settings');
    const bad = await web.postForm('/settings', { _csrf, 'general.timezone': 'Mars/Olympus', 'telegram.rate.global_per_second': '0' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /PBX time zone is not a known IANA time zone/);
    assert.match(bad.text, /Nothing was saved/);
    assert.equal(mod.app.settings.get('general.timezone'), 'Europe/Moscow');
  });

  it('keeps a stored token when the form leaves its field empty', async () => {
    await web.setUp(PASSWORD);
    await mod.app.settings.update({ 'telegram.bot_token': '123456789:TESTabcdefghijklmnopqrstuvwxyz012345' });
    const _csrf = await web.csrfFrom('/settings');
    await web.postForm('/settings', { _csrf, 'telegram.bot_token': '', 'general.language': 'en' });
    assert.equal(mod.app.settings.get('telegram.bot_token'), '123456789:TESTabcdefghijklmnopqrstuvwxyz012345');
  });

  it('answers /health with 200 and every component, and /metrics in Prometheus text', async () => {
    const health = await web.get('/health');
    assert.equal(health.status, 200);
    const report = JSON.parse(health.text);
    assert.equal(report.status, 'degraded');
    const ids = report.components.map((c: { id: string }) => c.id);
    for (const id of ['ami', 'ari', 'bot:none', 'database']) assert.ok(ids.includes(id), id);
    assert.deepEqual(report.outbox, { pending: 0, sent: 0, failed: 0 });
    const metrics = await web.get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type')!, /text\/plain/);
    for (const name of ['tgpbx_ami_events_total 0', 'tgpbx_ami_connected 0', 'tgpbx_outbox_messages_total{state="queued"} 0', 'tgpbx_outbox_pending 0']) {
      assert.ok(metrics.text.includes(name), name);
    }
  });

  it('streams status changes to the Status page as server-sent events', async () => {
    await web.setUp(PASSWORD);
    const cookie = (await sessionCookie(web))!;
    const url = new URL('/status/events', mod.app.url);
    const chunks: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = http.get(url, { headers: { cookie } }, (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
        res.setEncoding('utf8');
        let changed = false;
        res.on('data', (chunk: string) => {
          chunks.push(chunk);
          const text = chunks.join('');
          if (!changed && text.includes('"id":"database"')) {
            changed = true;
            mod.app.status.set('test-component', 'Test component', 'orange', 'test change');
          }
          if (text.includes('"id":"test-component"')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', reject);
    });
    assert.match(chunks.join(''), /event: status\ndata: \{"id":"test-component","name":"Test component","light":"orange","detail":"test change"/);
  });

  describe('REST API', () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

    it('refuses requests without the bearer token or with a wrong one', async () => {
      assert.equal((await web.get('/api/v1/status')).status, 401);
      assert.equal((await web.get('/api/v1/status', { authorization: 'Bearer wrong-token-wrong-token' })).status, 401);
    });

    it('reports status and settings, secrets masked', async () => {
      await mod.app.settings.update({ 'telegram.bot_token': '123456789:TESTabcdefghijklmnopqrstuvwxyz012345' });
      const status = JSON.parse((await web.get('/api/v1/status', auth)).text);
      assert.equal(status.status, 'degraded');
      const settings = await web.get('/api/v1/settings', auth);
      assert.equal(settings.status, 200);
      assert.doesNotMatch(settings.text, /TESTabcdefghijklmnop/);
      const token = JSON.parse(settings.text).settings.find((s: { key: string }) => s.key === 'telegram.bot_token');
      assert.deepEqual([token.value, token.isSet], ['••••2345', true]);
    });

    it('changes settings with PATCH and answers 400 with every problem', async () => {
      const patch = (body: unknown) => web.request('PATCH', '/api/v1/settings', JSON.stringify(body), { ...auth, 'content-type': 'application/json' });
      const ok = await patch({ 'general.language': 'ru', 'telegram.rate.group_per_minute': 10 });
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(ok.text).changed.sort(), ['general.language', 'telegram.rate.group_per_minute']);
      const bad = await patch({ 'general.language': 'de', 'no.such': 1 });
      assert.equal(bad.status, 400);
      assert.deepEqual(Object.keys(JSON.parse(bad.text).problems).sort(), ['general.language', 'no.such']);
      assert.equal(mod.app.settings.get('general.language'), 'ru');
    });
  });

  it('keeps the REST API off when no admin token is configured', async () => {
    const other = await startModule({});
    try {
      const res = await new WebClient(other.app.url).get('/api/v1/status', { authorization: 'Bearer anything-anything' });
      assert.equal(res.status, 503);
      assert.match(res.text, /TGPBX_ADMIN_TOKEN/);
    } finally {
      await other.close();
    }
  });
});

async function sessionCookie(web: WebClient): Promise<string | undefined> {
  const c = (web as unknown as { cookies: Map<string, string> }).cookies;
  const v = c.get('tgpbx_session');
  return v ? `tgpbx_session=${v}` : undefined;
}
