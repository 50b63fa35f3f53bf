import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BotApiServer } from '../support/bot-api-server.js';
import { startModule, tempDataDir, until, waitForLight, type TestModule } from '../support/module.js';
import { MtprotoEmulator } from '../support/mtproto/emulator.js';
import { trustEmulatorKey } from '../support/mtproto/gramjs-test-client.js';
import type { AccountView } from '../../src/telegram/accounts.js';
import type { App, AppOptions } from '../../src/app.js';

// Test secrets: none may ever show in a log line or a page.
const API_ID = 94575;
const API_HASH = 'a3406de8d171bb422bb6ddf3bbd800e2';
const BOT_TOKEN = '123456789:TESTproviderBotAbcdefghijklmnopqrstu';
const ADMIN_TOKEN = 'provider-test-admin-token-0123456789';
const PASSWORD = 'correct horse battery staple';

const ALICE = '+79990001122';
const BOB = '+79990002233';
const CAROL = '+12025550123';

interface Api {
  get(url: string): Promise<{ status: number; body: any }>;
  post(url: string, body?: unknown): Promise<{ status: number; body: any }>;
  del(url: string): Promise<{ status: number; body: any }>;
}

function api(app: App): Api {
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${app.url}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return { get: (u) => call('GET', u), post: (u, b) => call('POST', u, b ?? {}), del: (u) => call('DELETE', u) };
}

/** Resolves when the account reaches `phase` (at once if it is there). */
function phaseOf(app: App, line: number, kind: 'client' | 'gateway', phase: string, timeoutMs = 15_000): Promise<AccountView> {
  return until(`line ${line} ${kind} to be ${phase}`, () => {
    const view = app.provider.account(line, kind).view;
    return view.phase === phase ? view : null;
  }, timeoutMs);
}

/** Logs a component in through the REST API: authorize, the code from the emulator, the password if asked. */
async function logIn(rest: Api, emu: MtprotoEmulator, line: number, kind: 'client' | 'gateway', phone: string, password?: string): Promise<any> {
  const before = emu.codeFor(phone);
  const asked = await rest.post(`/provider/numbers/${line}/${kind}/authorize`);
  assert.equal(asked.status, 200, JSON.stringify(asked.body));
  assert.equal(asked.body.phase, 'code');
  const code = await until('a new login code', () => (emu.codeFor(phone) !== before ? emu.codeFor(phone) : null));
  let answer = await rest.post(`/provider/numbers/${line}/${kind}/code`, { code });
  if (password) {
    assert.equal(answer.body.phase, 'password');
    answer = await rest.post(`/provider/numbers/${line}/${kind}/password`, { password });
  }
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.phase, 'connected');
  return answer.body;
}

describe('Telegram provider against the MTProto and Bot API emulators', function () {
  let emu: MtprotoEmulator;
  let telegram: BotApiServer;
  let dataDir: string;
  let mod: TestModule;
  let rest: Api;
  const codesSeen: string[] = [];
  /** Session strings of logins saved while they waited (the restart test). */
  const savedLogins: string[] = [];
  /** The logs of every module started here (the restart test starts a second one). */
  const logs = () => earlierLogs + mod.logs.text;
  let earlierLogs = '';

  const options = (): AppOptions & { dataDir: string } => ({
    dataDir,
    telegramEndpoint: { dcId: emu.dcId, host: emu.host, port: emu.port },
    telegramAccounts: { requestTimeoutMs: 5_000, healthTimeoutMs: 300, backoff: { initialMs: 50, maxMs: 200 } },
  });
  const env = () => ({ TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_ADMIN_TOKEN: ADMIN_TOKEN });

  before(async () => {
    emu = await MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH });
    trustEmulatorKey(emu);
    emu.addAccount({ phone: ALICE, firstName: 'Alice', username: 'alice_pbx' });
    emu.addAccount({ phone: BOB, firstName: 'Bob', password: PASSWORD, passwordHint: 'the horse' });
    telegram = await BotApiServer.start();
    telegram.addBot({ token: BOT_TOKEN, username: 'acme_keypad_bot' });
    dataDir = tempDataDir();
    mod = await startModule(env(), options());
    rest = api(mod.app);
    const put = await fetch(`${mod.app.url}/api/v1/provider/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 'provider.api_id': String(API_ID), 'provider.api_hash': API_HASH, 'provider.bot_token': BOT_TOKEN }),
    });
    assert.equal(put.status, 200);
    const body = await put.json();
    assert.ok(!JSON.stringify(body).includes(API_HASH) && !JSON.stringify(body).includes(BOT_TOKEN), 'secrets come back masked');
  });

  after(async () => {
    await mod?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await telegram?.stop();
    await emu?.stop();
  });

  afterEach(() => {
    for (const phone of [ALICE, BOB, CAROL]) {
      const code = emu.codeFor(phone);
      if (code && !codesSeen.includes(code)) codesSeen.push(code);
    }
  });

  it('adds numbers in E.164 with a line id and SIP line; refuses bad and duplicate numbers', async () => {
    const added = await rest.post('/provider/numbers', { phone: '+7 999 000-11-22' });
    assert.equal(added.status, 201);
    assert.deepEqual([added.body.id, added.body.phone, added.body.sipLine], [1, ALICE, '127.0.0.1:30001']);
    assert.equal((await rest.post('/provider/numbers', { phone: BOB })).body.sipLine, '127.0.0.1:30002');
    const bad = await rest.post('/provider/numbers', { phone: '12345' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /not a valid phone number/);
    const twice = await rest.post('/provider/numbers', { phone: '79990001122' });
    assert.equal(twice.status, 400);
    assert.match(twice.body.error, /already added \(line 1\)/);
    const state = await rest.get('/provider');
    assert.equal(state.body.numbers.length, 2);
    assert.equal(state.body.numbers[0].components.client.light, 'red');
    assert.match(state.body.numbers[0].components.client.detail, /authorization needed/);
    assert.equal(state.body.summary.linesConnected, false);
  });

  it('logs the client in with a code: green, session file 0600, status file, the user shown', async () => {
    const view = await logIn(rest, emu, 1, 'client', ALICE);
    assert.equal(view.light, 'green');
    assert.deepEqual(view.user, { id: String(emu.account(ALICE)!.id), firstName: 'Alice', username: 'alice_pbx' });
    const dir = path.join(dataDir, 'sessions', '79990001122', 'client');
    assert.equal(fs.statSync(path.join(dir, 'session')).mode & 0o777, 0o600);
    const status = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
    assert.equal(status.state, 'connected');
    assert.equal(emu.activeSessions(ALICE).length, 1);
  });

  it('says what went wrong with a wrong code, and takes the right one after it', async () => {
    await rest.post('/provider/numbers/1/gateway/authorize');
    const code = await until('the code', () => emu.codeFor(ALICE));
    const wrong = await rest.post('/provider/numbers/1/gateway/code', { code: code === '11111' ? '22222' : '11111' });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.phase, 'code', 'a wrong code asks again');
    assert.match(wrong.body.error, /wrong code/);
    const right = await rest.post('/provider/numbers/1/gateway/code', { code });
    assert.equal(right.body.phase, 'connected');
    assert.equal(emu.activeSessions(ALICE).length, 2, 'client and gateway are two sessions');
  });

  it('a login started again and cancelled goes back to the saved session', async () => {
    const asked = await rest.post('/provider/numbers/1/client/authorize');
    assert.equal(asked.body.phase, 'code');
    const back = await rest.post('/provider/numbers/1/client/cancel');
    assert.equal(back.body.phase, 'connected');
    assert.equal(back.body.user.firstName, 'Alice');
    const stale = await rest.post('/provider/numbers/1/client/code', { code: '12345' });
    assert.equal(stale.status, 422);
    assert.match(stale.body.error, /not waiting for a code now/);
  });

  it('logs in by QR code through the API: the new session replaces the old one at Telegram', async () => {
    const sessionsBefore = emu.activeSessions(ALICE).length;
    const shown = await rest.post('/provider/numbers/1/client/qr');
    assert.equal(shown.status, 200);
    assert.equal(shown.body.phase, 'qr');
    assert.match(shown.body.prompt, /^tg:\/\/login\?token=[\w-]+$/);
    emu.acceptLoginToken(ALICE, shown.body.prompt);
    const view = await phaseOf(mod.app, 1, 'client', 'connected');
    assert.equal(view.user?.firstName, 'Alice');
    assert.equal(emu.activeSessions(ALICE).length, sessionsBefore);
  });

  it('asks for the 2FA password (with its hint), refuses a wrong one, accepts the right one', async () => {
    await rest.post('/provider/numbers/2/client/authorize');
    const code = await until('the code', () => emu.codeFor(BOB));
    const asked = await rest.post('/provider/numbers/2/client/code', { code });
    assert.equal(asked.body.phase, 'password');
    assert.equal(asked.body.prompt, 'hint: the horse');
    const wrong = await rest.post('/provider/numbers/2/client/password', { password: 'wrong horse' });
    assert.equal(wrong.status, 422);
    assert.match(wrong.body.error, /wrong two-step verification password/);
    const right = await rest.post('/provider/numbers/2/client/password', { password: PASSWORD });
    assert.equal(right.body.phase, 'connected');
    assert.equal(right.body.user.firstName, 'Bob');
  });

  it('an expired code ends the attempt with the reason; a flood wait says how long', async () => {
    await rest.post('/provider/numbers/2/gateway/authorize');
    const code = await until('the code', () => emu.codeFor(BOB));
    emu.expireCode(BOB);
    const expired = await rest.post('/provider/numbers/2/gateway/code', { code });
    assert.equal(expired.body.phase, 'unauthorized');
    assert.match(expired.body.error, /code expired/);
    assert.equal(expired.body.light, 'red');

    emu.floodWait({ method: 'auth.SendCode', seconds: 42 });
    const flood = await rest.post('/provider/numbers/2/gateway/authorize');
    assert.equal(flood.body.phase, 'unauthorized');
    assert.match(flood.body.error, /wait 42 s/);
    assert.ok(flood.body.waitUntil > Date.now() + 30_000);
  });

  it('creates the account of a number Telegram does not know (sign-up with a name)', async () => {
    const added = await rest.post('/provider/numbers', { phone: CAROL });
    const line = added.body.id as number;
    await rest.post(`/provider/numbers/${line}/client/authorize`);
    const code = await until('the code', () => emu.codeFor(CAROL));
    const named = await rest.post(`/provider/numbers/${line}/client/code`, { code });
    assert.equal(named.body.phase, 'name');
    const empty = await rest.post(`/provider/numbers/${line}/client/name`, { first_name: ' ' });
    assert.equal(empty.status, 422);
    const created = await rest.post(`/provider/numbers/${line}/client/name`, { first_name: 'Carol', last_name: 'Support' });
    assert.equal(created.body.phase, 'connected');
    assert.equal(emu.account(CAROL)?.firstName, 'Carol');
  });

  it('removes a number: logs its sessions out at Telegram and deletes its directories', async () => {
    const dir = path.join(dataDir, 'sessions', '12025550123');
    assert.ok(fs.existsSync(dir));
    assert.equal(emu.activeSessions(CAROL).length, 1);
    const removed = await rest.del('/provider/numbers/3');
    assert.equal(removed.status, 204);
    assert.equal(emu.activeSessions(CAROL).length, 0);
    assert.ok(!fs.existsSync(dir));
    assert.equal((await rest.get('/provider/numbers/3')).status, 404);
  });

  it('the bot, then every component green: "lines connected" on the page, the API, the status board and /metrics', async () => {
    await logIn(rest, emu, 2, 'gateway', BOB, PASSWORD);
    await waitForLight(mod.app.status, 'provider', 'green');
    const state = await rest.get('/provider');
    assert.deepEqual(state.body.summary, { light: 'green', linesConnected: true, message: 'lines connected', problems: [] });
    assert.equal(state.body.numbers[0].components.bot.light, 'green');
    const metrics = await (await fetch(`${mod.app.url}/metrics`)).text();
    assert.match(metrics, /tgpbx_provider_lines_connected 1/);
    assert.match(metrics, /tgpbx_provider_component_light\{line="2",component="gateway"\} 2/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dataDir, 'sessions', 'bot', 'status.json'), 'utf8')).state, 'connected');
  });

  it('stays logged in across a restart: sessions are read from their directories, no new login; a login waiting for its password goes on', async () => {
    // Bob's client is authorized again and waits for its 2FA password when tgpbx stops.
    await rest.post('/provider/numbers/2/client/authorize');
    const code = await until('the code', () => emu.codeFor(BOB));
    assert.equal((await rest.post('/provider/numbers/2/client/code', { code })).body.phase, 'password');
    const loginFile = path.join(dataDir, 'sessions', '79990002233', 'client', 'login.json');
    assert.equal(fs.statSync(loginFile).mode & 0o777, 0o600);
    savedLogins.push(JSON.parse(fs.readFileSync(loginFile, 'utf8')).session);
    await mod.close();
    earlierLogs += mod.logs.text;
    const codesBefore = emu.requests.filter((r) => r.method === 'auth.SendCode').length;

    mod = await startModule(env(), options());
    rest = api(mod.app);
    const waiting = await phaseOf(mod.app, 2, 'client', 'password');
    assert.equal(waiting.prompt, 'hint: the horse');
    const page = await rest.get('/provider');
    assert.equal(page.body.summary.linesConnected, false);
    const right = await rest.post('/provider/numbers/2/client/password', { password: PASSWORD });
    assert.equal(right.body.phase, 'connected', JSON.stringify(right.body));
    assert.ok(!fs.existsSync(loginFile), 'a finished login leaves no file');
    await waitForLight(mod.app.status, 'provider', 'green');
    assert.equal(emu.requests.filter((r) => r.method === 'auth.SendCode').length, codesBefore, 'no new code');
    assert.equal(mod.app.provider.account(1, 'client').view.user?.firstName, 'Alice');
  });

  it('a session revoked on Telegram turns red with the reason and its file is forgotten', async () => {
    emu.revokeSessions(BOB);
    const client = await mod.app.provider.account(2, 'client').checkNow();
    assert.equal(client.light, 'red');
    assert.match(client.detail, /no longer valid/);
    assert.equal(mod.app.provider.dirs.readSession('client', BOB), null);
    const page = await rest.get('/provider');
    assert.equal(page.body.summary.linesConnected, false);
    assert.ok(page.body.summary.problems.some((p: string) => p.startsWith(`${BOB} client: the session is no longer valid`)));
  });

  it('deleting a component directory resets it (red) at the next check; an unreadable session is red with the reason', async () => {
    fs.rmSync(path.join(dataDir, 'sessions', '79990001122', 'gateway'), { recursive: true });
    const gateway = await mod.app.provider.account(1, 'gateway').checkNow();
    assert.equal(gateway.light, 'red');
    assert.match(gateway.detail, /session file was deleted/);
    assert.equal(mod.app.provider.account(1, 'client').view.light, 'green', 'the other component is untouched');
    // Something unreadable where the session goes (a directory: even root cannot read it as a file).
    const unreadable = path.join(dataDir, 'sessions', '79990001122', 'gateway', 'session');
    fs.mkdirSync(unreadable, { recursive: true });
    await mod.app.provider.account(1, 'gateway').start();
    assert.match(mod.app.provider.account(1, 'gateway').view.detail, /^cannot read the saved session: EISDIR/);
    fs.rmdirSync(unreadable);
    // The same at a connected account's health check (a timer: it must not throw either).
    const clientFile = path.join(dataDir, 'sessions', '79990001122', 'client', 'session');
    const kept = fs.readFileSync(clientFile, 'utf8');
    fs.rmSync(clientFile);
    fs.mkdirSync(clientFile);
    const checked = await mod.app.provider.account(1, 'client').checkNow();
    assert.equal(checked.light, 'red');
    assert.match(checked.detail, /^cannot read the saved session: EISDIR/);
    fs.rmdirSync(clientFile);
    fs.writeFileSync(clientFile, kept, { mode: 0o600 });
    await mod.app.provider.account(1, 'client').start();
    await phaseOf(mod.app, 1, 'client', 'connected');
  });

  it('a bot token Telegram refuses turns the bot red with the reason', async () => {
    const put = await fetch(`${mod.app.url}/api/v1/provider/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 'provider.bot_token': '987654321:TESTunknownBotAbcdefghijklmnopqrstuv' }),
    });
    assert.equal(put.status, 200);
    await waitForLight(mod.app.status, 'bot:provider', 'red');
    const bot = mod.app.provider.find(1).components.bot;
    assert.equal(bot.light, 'red');
    assert.match(bot.detail, /refused|401|Unauthorized/i);
  });

  it('App credentials Telegram refuses turn every account red with the reason, until they change', async () => {
    await mod.app.settings.update({ 'provider.api_hash': 'ffffffffffffffffffffffffffffffff' });
    const view = await rest.post('/provider/numbers/2/client/authorize');
    assert.match(view.body.error, /refused the App api_id/);
    const alice = await phaseOf(mod.app, 1, 'client', 'unauthorized');
    assert.match(alice.detail, /refused the App api_id/);
    await mod.app.settings.update({ 'provider.api_hash': API_HASH });
    await phaseOf(mod.app, 1, 'client', 'connected');
  });

  it('Telegram stops answering: orange while it reconnects with backoff, green again once it answers (a status file that cannot be written is only logged)', async () => {
    const account = mod.app.provider.account(1, 'client');
    assert.equal(account.view.light, 'green');
    // Something in the way of the status file (a directory where it goes: even root cannot write it).
    const statusFile = path.join(dataDir, 'sessions', '79990001122', 'client', 'status.json');
    fs.rmSync(statusFile);
    fs.mkdirSync(statusFile);
    emu.setUnresponsive(true);
    const lost = await account.checkNow();
    assert.equal(lost.light, 'orange');
    assert.match(lost.detail, /did not answer.*retrying in \d+ s/);
    emu.setUnresponsive(false);
    await phaseOf(mod.app, 1, 'client', 'connected');
    assert.match(mod.logs.text, /could not write the status file of a Telegram component/);
    fs.rmdirSync(statusFile);
    assert.deepEqual(fs.readdirSync(path.dirname(statusFile)), ['session'], 'no temporary file left behind');
  });

  it('texts default to the language of messages; the admin\'s own text wins', async () => {
    const texts = async () => (await rest.get('/provider/settings')).body.texts;
    assert.equal((await texts()).keyboard, 'Dial the extension number:');
    await mod.app.settings.update({ 'general.language': 'ru' });
    assert.deepEqual(await texts(), {
      keyboard: 'Наберите добавочный номер:',
      business_card: 'Мы пытались до вас дозвониться. Нажмите кнопку, и мы перезвоним.',
      auto_reply: 'Этот номер принимает только звонки. Позвоните нам, мы ответим.',
    });
    await mod.app.settings.update({ 'provider.text.keyboard': 'Введите добавочный' });
    assert.equal((await texts()).keyboard, 'Введите добавочный');
    await mod.app.settings.update({ 'general.language': 'en', 'provider.text.keyboard': '' });
  });

  it('no secret reaches the logs, the page or the API', async () => {
    const page = await fetch(`${mod.app.url}/provider`, { redirect: 'manual' });
    assert.equal(page.status, 302, 'the page needs a login');
    const api = JSON.stringify((await rest.get('/provider')).body) + JSON.stringify((await rest.get('/provider/settings')).body);
    const sessions = ['client', 'gateway'].map((k) => mod.app.provider.dirs.readSession(k as 'client', ALICE)).filter((s): s is string => !!s);
    assert.ok(sessions.length > 0);
    assert.equal(savedLogins.length, 1);
    const secrets = [API_HASH, BOT_TOKEN, PASSWORD, ...sessions, ...savedLogins, ...codesSeen.map((c) => `"${c}"`)];
    for (const secret of secrets) {
      assert.ok(!logs().includes(secret), `a secret is in the log: ${secret.slice(0, 4)}…`);
      assert.ok(!api.includes(secret), `a secret is in the API: ${secret.slice(0, 4)}…`);
    }
  });
});

describe('Telegram provider bot sharing the default bot\'s token', function () {
  it('does not run the token twice: the bot component follows the default bot', async () => {
    const telegram = await BotApiServer.start();
    telegram.addBot({ token: BOT_TOKEN, username: 'acme_everything_bot' });
    const mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { start: false });
    try {
      await mod.app.settings.update({ 'telegram.bot_token': BOT_TOKEN, 'provider.bot_token': BOT_TOKEN });
      await mod.app.start();
      await mod.app.provider.addNumber(ALICE);
      await waitForLight(mod.app.status, 'bot:default', 'green');
      const bot = await until('the bot component to be green', () => {
        const c = mod.app.provider.find(1).components.bot;
        return c.light === 'green' ? c : null;
      });
      assert.match(bot.detail, /acme_everything_bot/);
      assert.equal(mod.app.status.get('bot:provider'), undefined, 'no second bot on the same token');
      assert.ok(!telegram.requestsOf('getUpdates').some((r) => r.status === 409), 'no competing getUpdates');
    } finally {
      await mod.close();
      await telegram.stop();
    }
  });
});
