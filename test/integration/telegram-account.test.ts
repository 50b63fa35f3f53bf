import assert from 'node:assert/strict';
import { LOGIN_RESUMABLE_MS, QR_LOGIN_MAX_MS, TelegramAccount, type AccountView, type SavedLogin, type SessionStore } from '../../src/telegram/accounts.js';
import { explainTelegramError } from '../../src/telegram/telegram-errors.js';
import { TimeoutError } from '../../src/retry/timeout.js';
import { ManualClock } from '../support/manual-clock.js';
import { nextEvent, until } from '../support/module.js';
import { MtprotoEmulator } from '../support/mtproto/emulator.js';
import { authorizedSession, trustEmulatorKey } from '../support/mtproto/gramjs-test-client.js';

const API_ID = 70707;
const API_HASH = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const PHONE = '+79990006677';

/** A session kept in memory, as the provider keeps it in a file. */
class MemorySessions implements SessionStore {
  login: SavedLogin | null = null;
  constructor(public session: string | null) {}
  load = () => this.session;
  save = (session: string) => void (this.session = session);
  remove = () => void (this.session = null);
  loadLogin = () => this.login;
  saveLogin = (login: SavedLogin) => void (this.login = login);
  removeLogin = () => void (this.login = null);
}

function phase(account: TelegramAccount, wanted: AccountView['phase']): Promise<AccountView> {
  if (account.view.phase === wanted) return Promise.resolve(account.view);
  return nextEvent(account, 'change', (v: AccountView) => v.phase === wanted).then(([v]) => v as AccountView);
}

describe('TelegramAccount supervision (GramJS against the MTProto emulator, time on a manual clock)', function () {
  let emu: MtprotoEmulator;
  let account: TelegramAccount | null = null;

  before(async () => {
    emu = await MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH });
    trustEmulatorKey(emu);
    emu.addAccount({ phone: PHONE, firstName: 'Flood' });
  });
  afterEach(async () => {
    await account?.stop();
    account = null;
  });
  after(async () => emu?.stop());

  const accountWith = (clock: ManualClock, sessions: MemorySessions, phone = PHONE) =>
    new TelegramAccount({
      phone,
      sessions,
      credentials: () => ({ apiId: API_ID, apiHash: API_HASH }),
      endpoint: { dcId: emu.dcId, host: emu.host, port: emu.port },
      clock,
      requestTimeoutMs: 5_000,
      healthTimeoutMs: 300,
      backoff: { initialMs: 1_000, maxMs: 8_000 },
    });

  it('waits out a flood wait at connect (orange, the end time shown), then connects when the time is up', async () => {
    const clock = new ManualClock();
    const sessions = new MemorySessions(await authorizedSession(emu, PHONE));
    account = accountWith(clock, sessions);
    emu.floodWait({ method: 'users.GetUsers', seconds: 30 });
    await account.start();
    assert.equal(account.view.phase, 'connecting');
    assert.match(account.view.detail, /wait 30 s.*retrying in 30 s/);
    assert.equal(account.view.waitUntil, clock.now() + 30_000);
    clock.advance(29_000);
    assert.equal(account.view.phase, 'connecting', 'not before the wait is over');
    const connected = phase(account, 'connected');
    clock.advance(1_000);
    assert.equal((await connected).user?.firstName, 'Flood');
    assert.equal(account.view.waitUntil, null);
  });

  it('backs off between failed reconnects and starts over from the saved session', async () => {
    const clock = new ManualClock();
    const sessions = new MemorySessions(await authorizedSession(emu, PHONE));
    account = accountWith(clock, sessions);
    await account.start();
    assert.equal(account.view.phase, 'connected');
    // The health call times out (Telegram silent): orange with a retry delay from the backoff policy.
    emu.setUnresponsive(true);
    const lost = phase(account, 'connecting');
    await account.checkNow();
    await lost;
    assert.match(account.view.detail, /did not answer.*retrying in 1 s/);
    emu.setUnresponsive(false);
    const back = phase(account, 'connected');
    clock.advance(1_000);
    await back;
  });

  it('a login waiting for the 2FA password goes on after a restart of tgpbx: same auth key, no new code', async () => {
    const phone = '+79990005544';
    emu.addAccount({ phone, firstName: 'Resumed', password: 'correct horse', passwordHint: 'a horse' });
    const clock = new ManualClock();
    const sessions = new MemorySessions(null);
    account = accountWith(clock, sessions, phone);
    await account.start();
    assert.equal((await account.beginLogin()).phase, 'code');
    assert.equal(sessions.login?.step, 'code');
    assert.equal((await account.submitCode(emu.codeFor(phone)!)).phase, 'password');
    assert.equal(sessions.login?.step, 'password');
    await account.stop(); // tgpbx stops in the middle: the login stays saved
    assert.ok(sessions.login);
    const codesSent = emu.requests.filter((r) => r.method === 'auth.SendCode').length;

    clock.advance(LOGIN_RESUMABLE_MS - 60_000);
    account = accountWith(clock, sessions, phone);
    await account.start();
    assert.equal(account.view.phase, 'password');
    assert.equal(account.view.prompt, 'hint: a horse');
    assert.match(account.view.detail, /two-step verification password \(the login began before tgpbx restarted\)/);
    // Telegram accepts the password only on the auth key the code was given on: the saved one.
    const done = await account.submitPassword('correct horse');
    assert.equal(done.phase, 'connected', done.error ?? done.detail);
    assert.equal(done.user?.firstName, 'Resumed');
    assert.equal(sessions.login, null, 'a finished login is forgotten');
    assert.ok(sessions.session);
    assert.equal(emu.requests.filter((r) => r.method === 'auth.SendCode').length, codesSent, 'no new code asked');
  });

  it('a saved login 30 min old or a damaged one is forgotten: the saved session connects instead', async () => {
    const clock = new ManualClock();
    const sessions = new MemorySessions(await authorizedSession(emu, PHONE));
    const saved = { session: 'not a session', phoneCodeHash: 'abc', step: 'code' as const, prompt: null };
    /** Starts again with this login saved `age` ms ago; the phase it reaches. */
    const startWith = async (age: number): Promise<AccountView> => {
      await account?.stop();
      sessions.login = { ...saved, startedAt: clock.now() - age };
      const restarted = (account = accountWith(clock, sessions));
      await restarted.start();
      assert.equal(sessions.login, null, 'the saved login is forgotten');
      return restarted.view;
    };
    assert.equal((await startWith(LOGIN_RESUMABLE_MS)).phase, 'connected', 'too old');
    assert.equal((await startWith(0)).phase, 'connected', 'damaged');
    sessions.session = null;
    assert.deepEqual(await startWith(0).then((v) => [v.phase, v.detail]), ['unauthorized', 'authorization needed: the login in progress could not be resumed (the saved login is damaged)']);
  });

  it('a damaged session file turns the account red asking for authorization (start does not throw)', async () => {
    // Cut short (a full disk, a bad copy): GramJS cannot even read it.
    const sessions = new MemorySessions((await authorizedSession(emu, PHONE)).slice(0, 12));
    account = accountWith(new ManualClock(), sessions);
    await account.start();
    assert.equal(account.view.phase, 'unauthorized');
    assert.equal(account.view.detail, 'authorization needed: the session file was damaged (not a GramJS session)');
    assert.equal(sessions.session, null);
  });

  it('a new login ends the session it replaces at Telegram; logging out while not connected ends the saved one', async () => {
    const clock = new ManualClock();
    const sessions = new MemorySessions(await authorizedSession(emu, PHONE));
    account = accountWith(clock, sessions);
    await account.start();
    const before = emu.activeSessions(PHONE).length;
    await account.beginLogin();
    assert.equal((await account.submitCode(emu.codeFor(PHONE)!)).phase, 'connected');
    assert.equal(emu.activeSessions(PHONE).length, before, 'the new session replaced the old one');
    await account.beginLogin(); // not connected while the login waits for its code
    await account.logOut();
    assert.equal(emu.activeSessions(PHONE).length, before - 1);
    assert.equal(sessions.session, null);
  });

  describe('QR login', () => {
    const QR_PHONE = '+79990007788';
    const QR_2FA_PHONE = '+79990007799';
    before(() => {
      emu.addAccount({ phone: QR_PHONE, firstName: 'Scanner' });
      emu.addAccount({ phone: QR_2FA_PHONE, firstName: 'Careful', password: 'qr secret', passwordHint: 'qr' });
    });
    const exports = () => emu.requests.filter((r) => r.method === 'auth.ExportLoginToken').length;
    const tokenOf = (view: AccountView) => {
      const m = /^tg:\/\/login\?token=([A-Za-z0-9_-]+)$/.exec(view.prompt ?? '');
      assert.ok(m, `a tg://login link: ${view.prompt}`);
      return m[1]!;
    };

    it('shows a token that renews as it expires; scanned by the app of this number: connected, no code', async () => {
      const clock = new ManualClock();
      const sessions = new MemorySessions(null);
      account = accountWith(clock, sessions, QR_PHONE);
      await account.start();
      const before = exports();
      const codes = emu.requests.filter((r) => r.method === 'auth.SendCode').length;
      const shown = await account.beginQrLogin();
      assert.equal(shown.phase, 'qr');
      assert.equal(shown.light, 'red');
      assert.match(shown.detail, /Link Desktop Device/);
      const first = tokenOf(shown);
      // The token lives 30 s: a new one is asked for before it ends.
      const renewed = nextEvent(account, 'change', (v: AccountView) => v.phase === 'qr' && v.prompt !== shown.prompt);
      clock.advance(30_000);
      const second = tokenOf((await renewed)[0] as AccountView);
      assert.notEqual(second, first);
      assert.equal(exports(), before + 2);
      assert.throws(() => emu.acceptLoginToken(QR_PHONE, first), /AUTH_TOKEN_INVALID/, 'the replaced token no longer logs in');

      const connected = phase(account, 'connected');
      emu.acceptLoginToken(QR_PHONE, second);
      assert.equal((await connected).user?.firstName, 'Scanner');
      assert.ok(sessions.session);
      assert.equal(sessions.login, null);
      assert.equal(emu.requests.filter((r) => r.method === 'auth.SendCode').length, codes, 'no login code');
      const later = exports();
      clock.advance(120_000);
      assert.equal(exports(), later, 'no token asked for once logged in');
    });

    it('with 2FA: the password after the scan (saved: a restart keeps it)', async () => {
      const clock = new ManualClock();
      const sessions = new MemorySessions(null);
      account = accountWith(clock, sessions, QR_2FA_PHONE);
      const asked = phase(account, 'password');
      emu.acceptLoginToken(QR_2FA_PHONE, tokenOf(await account.beginQrLogin()));
      assert.equal((await asked).prompt, 'hint: qr');
      assert.equal(sessions.login?.step, 'password');
      await account.stop();
      account = accountWith(clock, sessions, QR_2FA_PHONE);
      await account.start();
      assert.equal(account.view.phase, 'password');
      const done = await account.submitPassword('qr secret');
      assert.equal(done.phase, 'connected', done.error ?? done.detail);
      assert.equal(done.user?.firstName, 'Careful');
    });

    it('scanned with the app of another account: refused, that session logged out, red with the reason', async () => {
      const clock = new ManualClock();
      account = accountWith(clock, new MemorySessions(null), QR_PHONE);
      const sessionsOfOther = emu.activeSessions(PHONE).length;
      const refused = nextEvent(account, 'change', (v: AccountView) => v.phase === 'unauthorized' && v.error !== null);
      emu.acceptLoginToken(PHONE, tokenOf(await account.beginQrLogin()));
      const [view] = (await refused) as [AccountView];
      assert.equal(view.error, `the QR code was scanned with another Telegram account (${PHONE}): scan it with the app of ${QR_PHONE}`);
      await until('the stranger logged out', () => emu.activeSessions(PHONE).length === sessionsOfOther);
    });

    it('a QR code nobody scans stops after 10 minutes: red, saying so, no more renewals', async () => {
      const clock = new ManualClock();
      const qr = (account = accountWith(clock, new MemorySessions(null), QR_PHONE));
      const before = exports();
      const startedAt = clock.now();
      await qr.beginQrLogin();
      while (qr.view.phase === 'qr') {
        const shown = qr.view.prompt;
        const next = nextEvent(qr, 'change', (v: AccountView) => v.phase !== 'qr' || v.prompt !== shown);
        clock.advance(30_000);
        await next;
      }
      // A token lives 30 s and is renewed a little early: 20 or more in 10 minutes, then the end
      // (the test's clock moves by 30 s steps, so the end is seen within a step or two).
      const tokens = exports() - before;
      assert.ok(tokens >= 20 && tokens <= 23, `${tokens} tokens`);
      const endedAfter = clock.now() - startedAt;
      assert.ok(endedAfter >= QR_LOGIN_MAX_MS && endedAfter <= QR_LOGIN_MAX_MS + 60_000, `ended after ${endedAfter} ms`);
      assert.equal(qr.view.error, 'the QR code was not scanned within 10 minutes: start again');
      const after = exports();
      clock.advance(120_000);
      assert.equal(exports(), after);
    });

    it('cancel stops renewing the token and goes back to the saved session', async () => {
      const clock = new ManualClock();
      const sessions = new MemorySessions(await authorizedSession(emu, PHONE));
      account = accountWith(clock, sessions);
      await account.start();
      assert.equal((await account.beginQrLogin()).phase, 'qr');
      assert.equal((await account.cancelLogin()).phase, 'connected');
      const after = exports();
      clock.advance(120_000);
      assert.equal(exports(), after);
    });
  });

  it('a banned number: the authorization ends red, saying so', async () => {
    emu.addAccount({ phone: '+79990008899', firstName: 'Banned', banned: true });
    account = new TelegramAccount({
      phone: '+79990008899',
      sessions: new MemorySessions(null),
      credentials: () => ({ apiId: API_ID, apiHash: API_HASH }),
      endpoint: { dcId: emu.dcId, host: emu.host, port: emu.port },
      requestTimeoutMs: 5_000,
    });
    await account.start();
    assert.match(account.view.detail, /authorization needed/);
    const view = await account.beginLogin();
    assert.equal(view.phase, 'unauthorized');
    assert.equal(view.error, 'Telegram has banned this phone number');
  });

  it('the code did not come: sent again the next way Telegram offers (SMS), then no other way is said next to the form', async () => {
    const sessions = new MemorySessions(null);
    account = accountWith(new ManualClock(), sessions, '+79990008811');
    emu.addAccount({ phone: '+79990008811', firstName: 'Nocode' });
    const first = await account.beginLogin();
    assert.deepEqual([first.phase, first.prompt, first.nextCodeBy], ['code', 'Telegram sent the code to the Telegram app on another device of this account', 'by SMS']);
    const appCode = emu.codeFor('+79990008811');
    const again = await account.resendCode();
    assert.deepEqual([again.phase, again.prompt, again.nextCodeBy, again.error], ['code', 'Telegram sent the code by SMS', null, null]);
    assert.equal(sessions.login?.nextCodeBy, null, 'saved as it is now');
    const code = emu.codeFor('+79990008811')!;
    assert.notEqual(code, appCode);
    const none = await account.resendCode();
    assert.equal(none.phase, 'code');
    assert.match(none.error ?? '', /no other way to send this code/);
    assert.equal((await account.submitCode(code)).phase, 'connected');
  });

  it('a number Telegram wants a login email for: the authorization ends red, saying what to do', async () => {
    emu.addAccount({ phone: '+79990008800', firstName: 'Mail', loginEmailRequired: true });
    account = accountWith(new ManualClock(), new MemorySessions(null), '+79990008800');
    const view = await account.beginLogin();
    assert.equal(view.phase, 'unauthorized');
    assert.match(view.error ?? '', /set up a login email first: log in once in an official Telegram app/);
  });

  it('explains Telegram errors in words, and never repeats what a request carried', () => {
    const rpc = (errorMessage: string, extra: object = {}) => Object.assign(new Error(`${errorMessage} (caused by auth.SignIn {"phoneCode":"12345"})`), { errorMessage, ...extra });
    assert.deepEqual(explainTelegramError(rpc('FLOOD', { seconds: 17 })), {
      trouble: 'flood',
      seconds: 17,
      code: 'FLOOD_WAIT_17',
      message: 'Telegram asks to wait 17 s before trying again (flood wait)',
    });
    assert.equal(explainTelegramError(rpc('FLOOD_WAIT_5')).seconds, 5);
    assert.equal(explainTelegramError(rpc('PHONE_CODE_INVALID')).trouble, 'input');
    assert.equal(explainTelegramError(rpc('PHONE_CODE_EXPIRED')).trouble, 'login');
    assert.equal(explainTelegramError(rpc('PHONE_NUMBER_BANNED')).message, 'Telegram has banned this phone number');
    assert.equal(explainTelegramError(rpc('AUTH_KEY_UNREGISTERED')).trouble, 'unauthorized');
    assert.equal(explainTelegramError(rpc('API_ID_INVALID')).trouble, 'credentials');
    assert.equal(explainTelegramError(rpc('SOMETHING_NEW')).message, 'Telegram refused the request: SOMETHING_NEW');
    assert.equal(explainTelegramError(new TimeoutError(15_000)).trouble, 'network');
    assert.equal(explainTelegramError(new Error('connect ECONNREFUSED 127.0.0.1:443')).trouble, 'network');
    for (const err of [rpc('PHONE_CODE_INVALID'), rpc('SOMETHING_NEW')]) assert.ok(!JSON.stringify(explainTelegramError(err)).includes('12345'));
  });
});

describe('TelegramAccount with accounts in another data center (emulator with DCs 2 and 4)', function () {
  const HOME4 = '+79990004400';
  const HOME4_2FA = '+79990004411';
  let emu: MtprotoEmulator;
  let account: TelegramAccount | null = null;

  before(async () => {
    emu = await MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH, dcs: [2, 4] });
    trustEmulatorKey(emu);
    emu.addAccount({ phone: HOME4, firstName: 'Faraway', dcId: 4 });
    emu.addAccount({ phone: HOME4_2FA, firstName: 'Guarded', dcId: 4, password: 'dc4 secret', passwordHint: 'dc4' });
  });
  afterEach(async () => {
    await account?.stop();
    account = null;
  });
  after(async () => emu?.stop());

  /** Every new login starts on DC 2 (the endpoint), as tgpbx starts on GramJS's default DC. */
  const accountOn = (phone: string, sessions: MemorySessions) =>
    new TelegramAccount({
      phone,
      sessions,
      credentials: () => ({ apiId: API_ID, apiHash: API_HASH }),
      endpoint: { dcId: emu.dcId, host: emu.host, port: emu.port },
      clock: new ManualClock(),
      requestTimeoutMs: 5_000,
    });

  it('a code login follows PHONE_MIGRATE to the home DC; the saved session connects straight there after a restart', async () => {
    const sessions = new MemorySessions(null);
    account = accountOn(HOME4, sessions);
    assert.equal((await account.beginLogin()).phase, 'code');
    assert.ok(emu.requests.some((r) => r.method === 'auth.SendCode' && r.dcId === 2 && r.error?.includes('PHONE_MIGRATE_4')));
    assert.equal((await account.submitCode(emu.codeFor(HOME4)!)).phase, 'connected');
    assert.deepEqual(emu.activeSessions(HOME4).map((s) => s.dcId), [4]);
    await account.stop();

    const onDc2 = emu.requests.filter((r) => r.dcId === 2).length;
    account = accountOn(HOME4, sessions);
    await account.start();
    assert.equal(account.view.phase, 'connected');
    assert.equal(account.view.user?.firstName, 'Faraway');
    assert.equal(emu.requests.filter((r) => r.dcId === 2).length, onDc2, 'nothing asked of DC 2');
  });

  it('a login waiting for its 2FA password on the home DC resumes there after a restart', async () => {
    const sessions = new MemorySessions(null);
    account = accountOn(HOME4_2FA, sessions);
    await account.beginLogin();
    assert.equal((await account.submitCode(emu.codeFor(HOME4_2FA)!)).phase, 'password');
    await account.stop();
    account = accountOn(HOME4_2FA, sessions);
    await account.start();
    assert.equal(account.view.phase, 'password');
    const done = await account.submitPassword('dc4 secret');
    assert.equal(done.phase, 'connected', done.error ?? done.detail);
    assert.deepEqual(emu.activeSessions(HOME4_2FA).map((s) => s.dcId), [4]);
  });

  it('a QR code scanned by an account in DC 4: the login moves there and imports the token (then 2FA)', async () => {
    for (const [phone, password] of [[HOME4, null], [HOME4_2FA, 'dc4 secret']] as const) {
      const sessions = new MemorySessions(null);
      account = accountOn(phone, sessions);
      const before = emu.activeSessions(phone).length;
      const shown = await account.beginQrLogin();
      assert.equal(shown.phase, 'qr');
      const next = nextEvent(account, 'change', (v: AccountView) => ['connected', 'password', 'unauthorized'].includes(v.phase));
      emu.acceptLoginToken(phone, shown.prompt!);
      let [view] = (await next) as [AccountView];
      if (password) {
        assert.equal(view.phase, 'password', view.error ?? view.detail);
        view = await account.submitPassword(password);
      }
      assert.equal(view.phase, 'connected', view.error ?? view.detail);
      assert.ok(emu.requests.some((r) => r.method === 'auth.ImportLoginToken' && r.dcId === 4));
      assert.equal(emu.activeSessions(phone).length, before + 1);
      assert.ok(emu.activeSessions(phone).every((s) => s.dcId === 4));
      await account.stop();
    }
  });
});
