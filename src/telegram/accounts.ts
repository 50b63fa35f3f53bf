import { EventEmitter } from 'node:events';
import { Api, type TelegramClient } from 'telegram';
import { computeCheck } from 'telegram/Password.js';
import type { Clock } from '../pbx/clock.js';
import { systemClock } from '../pbx/clock.js';
import { nextBackoff, type BackoffPolicy } from '../retry/backoff.js';
import { withTimeout } from '../retry/timeout.js';
import type { Light } from '../status/status-board.js';
import { newTelegramClient, type ApiCredentials, type MtprotoEndpoint } from './mtproto-endpoint.js';
import { explainTelegramError, type TelegramProblem } from './telegram-errors.js';

/**
 * Where an account stands. `unauthorized`: no valid session (red). `code`, `password`,
 * `name`, `qr`: a login waits for the admin's answer or for the QR code to be scanned
 * (red until it succeeds). `connecting`:
 * authorized, connecting or waiting to reconnect (orange). `connected`: connected and
 * answering (green). `stopped`: tgpbx is shutting down.
 */
export type AccountPhase = 'unauthorized' | 'code' | 'password' | 'name' | 'qr' | 'connecting' | 'connected' | 'stopped';

/** The Telegram user behind a session. */
export interface AccountUser {
  id: string;
  firstName: string;
  username: string | null;
}

/** What the provider page and the API show for an account. Never holds a secret. */
export interface AccountView {
  phase: AccountPhase;
  light: Light;
  /** One line: what is happening or what is wrong. */
  detail: string;
  /** The last login step's failure (wrong code...), shown next to its form. */
  error: string | null;
  /**
   * At `code`: where Telegram sent the code; at `password`: the password's hint; at `qr`:
   * the tg://login link the QR code shows (it changes as each token expires).
   */
  prompt: string | null;
  user: AccountUser | null;
  /** A flood wait ends at this time (ms), when Telegram asked to wait. */
  waitUntil: number | null;
  /** At `code`: how Telegram can send the code instead if it does not come ("by SMS"...), else null. */
  nextCodeBy: string | null;
}

/** The login steps that wait for the admin's answer. */
export type LoginStep = 'code' | 'password' | 'name';

/**
 * A login waiting for the admin's answer, kept so that a restart of tgpbx in the middle
 * does not throw away a code Telegram already sent (asking again costs a code and may hit
 * a flood wait). A secret, like the session.
 */
export interface SavedLogin {
  /**
   * The login client's GramJS session: not authorized yet, but its auth key is the one
   * Telegram tied the login to (the 2FA step is only accepted on that key).
   */
  session: string;
  phoneCodeHash: string;
  step: LoginStep;
  prompt: string | null;
  /** How Telegram can send the code instead (AccountView.nextCodeBy). */
  nextCodeBy?: string | null;
  /** When Telegram sent the code (ms). */
  startedAt: number;
}

/**
 * Reads and writes the account's session string and a login in progress (both logins:
 * keep them 0600, never log them).
 */
export interface SessionStore {
  load(): string | null;
  save(session: string): void;
  remove(): void;
  loadLogin(): SavedLogin | null;
  saveLogin(login: SavedLogin): void;
  removeLogin(): void;
}

/** The supervision's timings (short in tests). */
export interface AccountTimings {
  clock?: Clock;
  /** How often a connected account proves it answers (updates.getState). Default 60 s. */
  healthIntervalMs?: number;
  /** How long one request may take. Default 15 s. */
  requestTimeoutMs?: number;
  /** How long the health call may take before the connection counts as lost. Default 10 s. */
  healthTimeoutMs?: number;
  backoff?: BackoffPolicy;
}

export interface TelegramAccountOptions extends AccountTimings {
  phone: string;
  sessions: SessionStore;
  /** The App api_id / api_hash, read at each connect; null when not set. */
  credentials: () => ApiCredentials | null;
  endpoint?: MtprotoEndpoint;
  /** Told when Telegram refused the App credentials, so every account can stop. */
  onCredentialsRefused?: (problem: TelegramProblem) => void;
  /** Registers a secret (session strings) with the log scrubber. */
  onSecret?: (secret: string) => void;
}

interface Login {
  client: TelegramClient;
  phoneCodeHash: string;
  generation: number;
  startedAt: number;
  nextCodeBy?: string | null;
}

/**
 * A saved login older than this is not resumed at start (Telegram's codes do not live
 * that long; the saved session, if any, connects instead).
 */
export const LOGIN_RESUMABLE_MS = 30 * 60_000;

/** A QR login nobody scans stops renewing its token after this long (each renewal is a request). */
export const QR_LOGIN_MAX_MS = 10 * 60_000;

/** What the account says while a login step waits for the admin. */
const WAITING_FOR: Record<LoginStep, string> = {
  code: 'waiting for the login code',
  password: 'waiting for the two-step verification password',
  name: 'this number has no Telegram account yet: enter a name to create one',
};

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 2_000, maxMs: 5 * 60_000 };

/** The SentCode's next_type: how auth.resendCode would send the code. */
const NEXT_CODE_BY: Record<string, string> = {
  'auth.CodeTypeSms': 'by SMS',
  'auth.CodeTypeCall': 'by a phone call',
  'auth.CodeTypeFlashCall': 'by a flash call',
  'auth.CodeTypeMissedCall': 'by a missed call',
  'auth.CodeTypeFragmentSms': 'through fragment.com',
};

const CODE_SENT_TO: Record<string, string> = {
  'auth.SentCodeTypeApp': 'Telegram sent the code to the Telegram app on another device of this account',
  'auth.SentCodeTypeSms': 'Telegram sent the code by SMS',
  'auth.SentCodeTypeCall': 'Telegram will call the number and say the code',
  'auth.SentCodeTypeFlashCall': 'Telegram will call the number: the code is the last digits of the calling number',
  'auth.SentCodeTypeMissedCall': 'Telegram will call the number: the code is the last digits of the calling number',
  'auth.SentCodeTypeEmailCode': "Telegram sent the code to the account's login email",
  'auth.SentCodeTypeFragmentSms': 'Telegram sent the code through fragment.com',
  'auth.SentCodeTypeFirebaseSms': 'Telegram sent the code by SMS',
};

/**
 * One Telegram user account session (GramJS), supervised: it connects from its saved
 * session, proves it answers with a periodic light call, reconnects with backoff after a
 * failure, waits out flood waits, and turns red with the reason when Telegram no longer
 * knows the session. The login is driven step by step (code, 2FA password, name for a new
 * account) so that a web page can show what Telegram asks next. Emits `change` (AccountView).
 */
export class TelegramAccount extends EventEmitter {
  private client: TelegramClient | null = null;
  /** Bumped whenever the account changes course; a stale loop or step sees it and quits. */
  private generation = 0;
  private timer: unknown = null;
  private failures = 0;
  private busy = false;
  /** A login in progress: its own client, Telegram's code hash, and the course it belongs to. */
  private login: Login | null = null;
  private state: AccountView = { phase: 'unauthorized', light: 'red', detail: 'not started', error: null, prompt: null, user: null, waitUntil: null, nextCodeBy: null };

  constructor(private readonly opts: TelegramAccountOptions) {
    super();
  }

  get view(): AccountView {
    return this.state;
  }

  private get clock(): Clock {
    return this.opts.clock ?? systemClock;
  }

  private get requestTimeoutMs(): number {
    return this.opts.requestTimeoutMs ?? 15_000;
  }

  /**
   * Resumes a login that was waiting for the admin when tgpbx stopped, else connects from
   * the saved session, else turns red asking for authorization.
   */
  async start(): Promise<void> {
    const generation = this.restart();
    const saved = this.readSaved(() => this.resumableLogin());
    const session = saved === undefined ? undefined : this.readSaved(() => this.opts.sessions.load());
    if (saved === undefined || session === undefined) return;
    if (!session && !saved) return this.set({ phase: 'unauthorized', detail: 'authorization needed: no session yet' });
    if (!this.opts.credentials()) return this.set({ phase: 'unauthorized', detail: 'set the App api_id and api_hash in the provider settings' });
    let lost: TelegramProblem | null = null;
    if (saved) {
      lost = await this.resumeLogin(generation, saved);
      if (!lost || generation !== this.generation) return;
    }
    if (!session) return this.set({ phase: 'unauthorized', detail: `authorization needed: the login in progress could not be resumed (${lost!.message})` });
    this.opts.onSecret?.(session);
    await this.connect(generation, session);
  }

  /** Disconnects and forgets timers; the session file stays. */
  async stop(): Promise<void> {
    this.restart();
    this.set({ phase: 'stopped', detail: 'stopped' });
  }

  /** Turns the account red without touching Telegram (e.g. the App credentials were refused). */
  async halt(detail: string): Promise<void> {
    this.restart();
    this.set({ phase: 'unauthorized', detail });
  }

  /**
   * Starts (or restarts) the authorization: asks Telegram to send a login code. The
   * running session, if any, is disconnected meanwhile and kept until a new login succeeds.
   */
  async beginLogin(): Promise<AccountView> {
    const started = await this.newLoginClient('asking Telegram to send a login code');
    if (!started) return this.state;
    const { client, generation, credentials } = started;
    try {
      const sent = await this.request(
        client.invoke(new Api.auth.SendCode({ phoneNumber: this.opts.phone, apiId: credentials.apiId, apiHash: credentials.apiHash, settings: new Api.CodeSettings({}) })),
      );
      if (generation !== this.generation) {
        await this.discard(client);
        return this.state;
      }
      if (sent instanceof Api.auth.SentCodeSuccess) return this.finishLogin(generation, client, sent.authorization);
      if (sent.type instanceof Api.auth.SentCodeTypeSetUpEmailRequired) {
        await this.discard(client);
        this.loginFailed(generation, { trouble: 'login', message: 'Telegram asks this account to set up a login email first: log in once in an official Telegram app, then authorize again here' });
        return this.state;
      }
      this.login = { client, phoneCodeHash: sent.phoneCodeHash, generation, startedAt: this.clock.now() };
      this.codeSent(sent);
    } catch (err) {
      await this.discard(client);
      this.loginFailed(generation, explainTelegramError(err));
    }
    return this.state;
  }

  /**
   * Starts (or restarts) the authorization by QR code, for when a code cannot be had: Telegram
   * gives a login token, the page shows it as a QR code, the Telegram app of this number scans
   * it (Settings > Devices > Link Desktop Device) and Telegram tells this client
   * (updateLoginToken); then the 2FA password if the account has one. A token lives about
   * 30 s: a new one is asked for as each expires.
   */
  async beginQrLogin(): Promise<AccountView> {
    const started = await this.newLoginClient('asking Telegram for a QR login code');
    if (!started) return this.state;
    const { client, generation } = started;
    this.login = { client, phoneCodeHash: '', generation, startedAt: this.clock.now() };
    client.addEventHandler((update: unknown) => {
      if (update instanceof Api.UpdateLoginToken) void this.exportQr(generation);
    });
    return this.exportQr(generation);
  }

  /**
   * A new login course (the running session is disconnected meanwhile) on a fresh, connected
   * client; null when there is none (the state says why, or a newer course took over).
   */
  private async newLoginClient(detail: string): Promise<{ client: TelegramClient; generation: number; credentials: ApiCredentials } | null> {
    const credentials = this.opts.credentials();
    if (!credentials) {
      this.fail('set the App api_id and api_hash in the provider settings first');
      return null;
    }
    const generation = this.restart();
    this.opts.sessions.removeLogin();
    this.set({ phase: 'connecting', detail, user: null });
    const client = newTelegramClient('', credentials, this.opts.endpoint);
    try {
      await this.request(client.connect());
    } catch (err) {
      await this.discard(client);
      this.loginFailed(generation, explainTelegramError(err));
      return null;
    }
    if (generation === this.generation) return { client, generation, credentials };
    await this.discard(client);
    return null;
  }

  /**
   * The account that scanned lives in another data center than the one the login started in:
   * move the login client there (a new auth key, as GramJS does for PHONE_MIGRATE) and import
   * the token.
   */
  private async importQr(generation: number, login: Login, migrate: Api.auth.LoginTokenMigrateTo): Promise<AccountView> {
    try {
      await this.request(login.client._switchDC(migrate.dcId));
      const result = await this.request(login.client.invoke(new Api.auth.ImportLoginToken({ token: migrate.token })));
      if (this.login !== login) return this.state;
      if (result instanceof Api.auth.LoginTokenSuccess) return this.finishLogin(generation, login.client, result.authorization);
      return this.stepFailed({ trouble: 'login', message: `Telegram did not complete the QR login (${result.className})` });
    } catch (err) {
      if (this.login !== login) return this.state;
      const problem = explainTelegramError(err);
      if (problem.code === 'SESSION_PASSWORD_NEEDED') return this.askPassword(login.client);
      return this.stepFailed(problem);
    }
  }

  /** The token expires: a new one, unless nobody scanned for QR_LOGIN_MAX_MS. */
  private async renewQr(generation: number): Promise<AccountView> {
    const login = this.login;
    if (login?.generation === generation && this.clock.now() - login.startedAt >= QR_LOGIN_MAX_MS) {
      return this.stepFailed({ trouble: 'login', message: `the QR code was not scanned within ${QR_LOGIN_MAX_MS / 60_000} minutes: start again` });
    }
    return this.exportQr(generation);
  }

  /** Asks for the QR login token again: a fresh one to show, or the login once it was scanned. */
  private async exportQr(generation: number): Promise<AccountView> {
    const login = this.login;
    const credentials = this.opts.credentials();
    if (!login || login.generation !== generation || !credentials) return this.state;
    this.clock.clearTimeout(this.timer);
    try {
      const result = await this.request(
        login.client.invoke(new Api.auth.ExportLoginToken({ apiId: credentials.apiId, apiHash: credentials.apiHash, exceptIds: [] })),
      );
      // A newer export (the update and the refresh timer can cross) or another course took over.
      if (this.login !== login) return this.state;
      if (result instanceof Api.auth.LoginTokenSuccess) return this.finishLogin(generation, login.client, result.authorization);
      if (result instanceof Api.auth.LoginTokenMigrateTo) return this.importQr(generation, login, result);
      const link = `tg://login?token=${Buffer.from(result.token).toString('base64url')}`;
      this.set({ phase: 'qr', detail: 'scan the QR code with the Telegram app of this number: Settings > Devices > Link Desktop Device', prompt: link, error: null });
      // `expires` is Telegram's clock (unix seconds); a little early, never in a loop.
      const refreshMs = Math.min(Math.max(result.expires * 1000 - Date.now() - 1_000, 5_000), 60_000);
      this.timer = this.clock.setTimeout(() => void this.renewQr(generation), refreshMs);
      return this.state;
    } catch (err) {
      if (this.login !== login) return this.state;
      const problem = explainTelegramError(err);
      if (problem.code === 'SESSION_PASSWORD_NEEDED') return this.askPassword(login.client);
      return this.stepFailed(problem);
    }
  }

  /** The login code the admin typed. */
  submitCode(code: string): Promise<AccountView> {
    return this.step('code', async (login) => {
      const phoneCode = code.replace(/[\s-]/g, '');
      if (!/^\d{3,10}$/.test(phoneCode)) return this.fail('the code is digits only (usually 5)');
      try {
        const result = await this.request(login.client.invoke(new Api.auth.SignIn({ phoneNumber: this.opts.phone, phoneCodeHash: login.phoneCodeHash, phoneCode })));
        if (result instanceof Api.auth.AuthorizationSignUpRequired) return this.waitFor('name', null);
        return this.finishLogin(login.generation, login.client, result);
      } catch (err) {
        const problem = explainTelegramError(err);
        if (problem.code === 'SESSION_PASSWORD_NEEDED') return this.askPassword(login.client);
        return this.stepFailed(problem);
      }
    });
  }

  /**
   * The code did not come: Telegram sends it the next way it offered (SMS, a call...). The
   * code already sent stays good if Telegram cannot; a wrong moment is said next to the form.
   */
  resendCode(): Promise<AccountView> {
    return this.step('code', async (login) => {
      if (!login.nextCodeBy) return this.fail('Telegram offers no other way to send this code: enter the code you got, or start again later');
      try {
        const sent = await this.request(login.client.invoke(new Api.auth.ResendCode({ phoneNumber: this.opts.phone, phoneCodeHash: login.phoneCodeHash })));
        if (this.login !== login) return this.state;
        if (sent instanceof Api.auth.SentCodeSuccess) return this.finishLogin(login.generation, login.client, sent.authorization);
        login.phoneCodeHash = sent.phoneCodeHash;
        return this.codeSent(sent);
      } catch (err) {
        const problem = explainTelegramError(err);
        // The code already sent is still good: a refusal or a wait keeps the form.
        if (problem.code === 'SEND_CODE_UNAVAILABLE' || problem.trouble === 'flood') return this.fail(problem.message);
        return this.stepFailed(problem);
      }
    });
  }

  /** Telegram sent a code: wait for it, saying where it went and how else it could come. */
  private codeSent(sent: Api.auth.SentCode): AccountView {
    this.login!.nextCodeBy = sent.nextType ? (NEXT_CODE_BY[sent.nextType.className] ?? 'another way') : null;
    return this.waitFor('code', CODE_SENT_TO[sent.type.className] ?? 'Telegram sent a login code');
  }

  /** The account's two-step verification password (checked by SRP; never sent or stored). */
  submitPassword(password: string): Promise<AccountView> {
    return this.step('password', async (login) => {
      if (!password) return this.fail('enter the password');
      try {
        const params = await this.request(login.client.invoke(new Api.account.GetPassword()));
        const check = await computeCheck(params, password);
        const result = await this.request(login.client.invoke(new Api.auth.CheckPassword({ password: check })));
        return this.finishLogin(login.generation, login.client, result);
      } catch (err) {
        return this.stepFailed(explainTelegramError(err));
      }
    });
  }

  /** The name of a new Telegram account (the number had none). */
  submitName(firstName: string, lastName: string): Promise<AccountView> {
    return this.step('name', async (login) => {
      const first = firstName.trim();
      if (!first || first.length > 64 || lastName.trim().length > 64) return this.fail('enter a first name (up to 64 characters)');
      try {
        const result = await this.request(
          login.client.invoke(new Api.auth.SignUp({ phoneNumber: this.opts.phone, phoneCodeHash: login.phoneCodeHash, firstName: first, lastName: lastName.trim() })),
        );
        return this.finishLogin(login.generation, login.client, result);
      } catch (err) {
        return this.stepFailed(explainTelegramError(err));
      }
    });
  }

  /** Abandons a login in progress and goes back to the saved session, if any. */
  async cancelLogin(): Promise<AccountView> {
    this.opts.sessions.removeLogin();
    await this.start();
    return this.state;
  }

  /** Logs the session out at Telegram (best effort) and forgets it. */
  async logOut(): Promise<void> {
    const client = this.client;
    this.client = null; // kept connected for the LogOut below; restart() would drop it
    this.restart();
    if (client) {
      await this.request(client.invoke(new Api.auth.LogOut())).catch(() => undefined);
      await this.discard(client);
    } else {
      // Not connected now (a login in progress, reconnecting): the saved session still counts at Telegram.
      const saved = this.opts.sessions.load();
      if (saved) await this.logOutSession(saved);
    }
    this.opts.sessions.remove();
    this.opts.sessions.removeLogin();
    this.set({ phase: 'unauthorized', detail: 'logged out', user: null });
  }

  /** Runs the light health call now (tests and the page's "check now"). */
  async checkNow(): Promise<AccountView> {
    if (this.state.phase === 'connected' && this.client) await this.healthCheck(this.generation, this.client);
    return this.state;
  }

  private async connect(generation: number, session: string): Promise<void> {
    const credentials = this.opts.credentials();
    if (!credentials) return this.set({ phase: 'unauthorized', detail: 'set the App api_id and api_hash in the provider settings' });
    this.set({ phase: 'connecting', detail: this.failures ? 'reconnecting to Telegram' : 'connecting to Telegram', error: null, prompt: null });
    const client = this.clientOn(session, credentials);
    if (!client) {
      this.opts.sessions.remove();
      return this.set({ phase: 'unauthorized', detail: 'authorization needed: the session file was damaged (not a GramJS session)', user: null });
    }
    try {
      const connected = await this.request(client.connect());
      if ((connected as unknown) === false) throw new Error('Not connected: GramJS could not connect');
      const me = await this.request(client.getMe());
      if (generation !== this.generation) return this.discard(client);
      this.client = client;
      this.failures = 0;
      this.set({ phase: 'connected', detail: 'connected', user: userOf(me), waitUntil: null });
      this.scheduleHealth(generation, client);
    } catch (err) {
      await this.discard(client);
      if (generation !== this.generation) return;
      this.connectionLost(generation, session, explainTelegramError(err));
    }
  }

  private scheduleHealth(generation: number, client: TelegramClient): void {
    this.timer = this.clock.setTimeout(() => void this.healthCheck(generation, client), this.opts.healthIntervalMs ?? 60_000);
  }

  private async healthCheck(generation: number, client: TelegramClient): Promise<void> {
    if (generation !== this.generation) return;
    this.clock.clearTimeout(this.timer);
    // The admin deleted the session (its directory) to reset the component: drop the connection too.
    const saved = this.savedSession();
    if (saved === undefined) return;
    if (!saved) {
      this.restart();
      return this.set({ phase: 'unauthorized', detail: 'authorization needed: the session file was deleted', user: null });
    }
    try {
      await withTimeout(client.invoke(new Api.updates.GetState()), this.opts.healthTimeoutMs ?? 10_000);
      if (generation !== this.generation) return;
      this.scheduleHealth(generation, client);
    } catch (err) {
      if (generation !== this.generation) return;
      this.client = null;
      await this.discard(client);
      const session = this.savedSession();
      if (session === undefined) return;
      if (!session) return this.set({ phase: 'unauthorized', detail: 'authorization needed: the session file was deleted', user: null });
      this.connectionLost(generation, session, explainTelegramError(err));
    }
  }

  /** The saved session read again (the admin may have deleted it); undefined: see readSaved. */
  private savedSession(): string | null | undefined {
    return this.readSaved(() => this.opts.sessions.load());
  }

  /**
   * Reads what is saved in the component's directory, or undefined when it cannot be read
   * (permissions, a disk error): the account is then red with the reason. Never throws: it
   * runs in timers' callbacks too.
   */
  private readSaved<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (err) {
      this.restart();
      this.set({ phase: 'unauthorized', detail: `cannot read the saved session: ${(err as Error).message}`, user: null });
      return undefined;
    }
  }

  /** After a failed connect or health check: red for a dead session, else retry later. */
  private connectionLost(generation: number, session: string, problem: TelegramProblem): void {
    if (problem.trouble === 'unauthorized') {
      this.opts.sessions.remove();
      return this.set({ phase: 'unauthorized', detail: problem.message, user: null });
    }
    if (problem.trouble === 'credentials') {
      this.set({ phase: 'unauthorized', detail: problem.message });
      this.opts.onCredentialsRefused?.(problem);
      return;
    }
    const delay = problem.trouble === 'flood' ? problem.seconds! * 1000 : nextBackoff(this.opts.backoff ?? DEFAULT_BACKOFF, this.failures);
    this.failures++;
    const waitUntil = this.clock.now() + delay;
    this.set({ phase: 'connecting', detail: `${problem.message}; retrying in ${Math.ceil(delay / 1000)} s`, waitUntil: problem.trouble === 'flood' ? waitUntil : null });
    this.timer = this.clock.setTimeout(() => {
      if (generation !== this.generation) return;
      const saved = this.savedSession();
      if (saved !== undefined) void this.connect(generation, saved ?? session);
    }, delay);
  }

  private async finishLogin(generation: number, client: TelegramClient, authorization: Api.auth.TypeAuthorization): Promise<AccountView> {
    if (generation !== this.generation) {
      await this.discard(client);
      return this.state;
    }
    this.login = null;
    const stranger = strangerOf(authorization, this.opts.phone);
    if (stranger) {
      // A QR code scanned with the app of another account: that account must not become this line.
      this.opts.sessions.removeLogin();
      await this.request(client.invoke(new Api.auth.LogOut())).catch(() => undefined);
      await this.discard(client);
      this.loginFailed(generation, { trouble: 'login', message: `the QR code was scanned with another Telegram account (${stranger}): scan it with the app of ${this.opts.phone}` });
      return this.state;
    }
    const session = (client.session.save() as unknown as string) ?? '';
    this.opts.onSecret?.(session);
    const replaced = this.opts.sessions.load();
    this.opts.sessions.save(session);
    this.opts.sessions.removeLogin();
    // The session this login replaces would linger in the account's device list: end it.
    if (replaced && replaced !== session) await this.logOutSession(replaced);
    if (generation !== this.generation) {
      // Cancelled or restarted meanwhile: the new course reads the saved session itself.
      await this.discard(client);
      return this.state;
    }
    this.client = client;
    this.failures = 0;
    const user = authorization instanceof Api.auth.Authorization ? userOf(authorization.user) : null;
    this.set({ phase: 'connected', detail: 'connected', error: null, prompt: null, user, waitUntil: null });
    this.scheduleHealth(generation, client);
    return this.state;
  }

  private async askPassword(client: TelegramClient): Promise<AccountView> {
    try {
      const params = await this.request(client.invoke(new Api.account.GetPassword()));
      return this.waitFor('password', params.hint ? `hint: ${params.hint}` : null);
    } catch (err) {
      return this.stepFailed(explainTelegramError(err));
    }
  }

  /** The login now waits for the admin at `step`; saved, so that a restart resumes it there. */
  private waitFor(step: LoginStep, prompt: string | null): AccountView {
    const login = this.login!;
    const session = (login.client.session.save() as unknown as string) ?? '';
    this.opts.onSecret?.(session);
    const nextCodeBy = step === 'code' ? (login.nextCodeBy ?? null) : null;
    this.opts.sessions.saveLogin({ session, phoneCodeHash: login.phoneCodeHash, step, prompt, nextCodeBy, startedAt: login.startedAt });
    this.set({ phase: step, detail: WAITING_FOR[step], error: null, prompt, nextCodeBy });
    return this.state;
  }

  /** The saved login, if young enough to resume; an older one is forgotten. */
  private resumableLogin(): SavedLogin | null {
    const saved = this.opts.sessions.loadLogin();
    if (!saved) return null;
    const age = this.clock.now() - saved.startedAt;
    if (age >= 0 && age < LOGIN_RESUMABLE_MS) return saved;
    this.opts.sessions.removeLogin();
    return null;
  }

  /**
   * Reconnects the login client of a saved login and waits at its step again. Returns
   * null when resumed, or why it could not be (the saved login is then forgotten).
   */
  private async resumeLogin(generation: number, saved: SavedLogin): Promise<TelegramProblem | null> {
    this.opts.onSecret?.(saved.session);
    this.set({ phase: 'connecting', detail: 'resuming the login in progress' });
    const client = this.clientOn(saved.session, this.opts.credentials()!);
    if (!client) {
      this.opts.sessions.removeLogin();
      return { trouble: 'login', message: 'the saved login is damaged' };
    }
    try {
      await this.request(client.connect());
    } catch (err) {
      await this.discard(client);
      this.opts.sessions.removeLogin();
      return explainTelegramError(err);
    }
    if (generation !== this.generation) {
      await this.discard(client);
      return null;
    }
    const nextCodeBy = saved.nextCodeBy ?? null;
    this.login = { client, phoneCodeHash: saved.phoneCodeHash, generation, startedAt: saved.startedAt, nextCodeBy };
    this.set({ phase: saved.step, detail: `${WAITING_FOR[saved.step]} (the login began before tgpbx restarted)`, error: null, prompt: saved.prompt, nextCodeBy });
    return null;
  }

  /** Runs one login step if the account is at `phase`, one step at a time. */
  private async step(phase: AccountPhase, run: (login: Login) => Promise<AccountView>): Promise<AccountView> {
    if (this.state.phase !== phase || !this.login) return this.fail(`not waiting for a ${phase === 'name' ? 'name' : phase} now: start the authorization`);
    if (this.busy) return this.fail('the previous answer is still being checked');
    this.busy = true;
    try {
      return await run(this.login);
    } finally {
      this.busy = false;
    }
  }

  /** A step failed: a wrong answer asks again, anything else ends the login. */
  private async stepFailed(problem: TelegramProblem): Promise<AccountView> {
    if (problem.trouble === 'input') return this.fail(problem.message);
    const generation = this.generation;
    this.opts.sessions.removeLogin();
    await this.dropLogin();
    this.loginFailed(generation, problem);
    return this.state;
  }

  private loginFailed(generation: number, problem: TelegramProblem): void {
    if (generation !== this.generation) return;
    const waitUntil = problem.trouble === 'flood' ? this.clock.now() + problem.seconds! * 1000 : null;
    this.set({ phase: 'unauthorized', detail: `authorization failed: ${problem.message}`, error: problem.message, prompt: null, waitUntil });
    if (problem.trouble === 'credentials') this.opts.onCredentialsRefused?.(problem);
  }

  /** Records a step's error without changing the phase. */
  private fail(message: string): AccountView {
    this.set({ error: message });
    return this.state;
  }

  /** Logs a session we no longer use out at Telegram (best effort: it may be dead already). */
  private async logOutSession(session: string): Promise<void> {
    const credentials = this.opts.credentials();
    const client = credentials && this.clientOn(session, credentials);
    if (!client) return;
    try {
      await this.request(client.connect());
      await this.request(client.invoke(new Api.auth.LogOut()));
    } catch {
      // Revoked, expired or unreachable: nothing more to end.
    } finally {
      await this.discard(client);
    }
  }

  /** A client on a saved session string, or null when the string is not a GramJS session (a damaged file). */
  private clientOn(session: string, credentials: ApiCredentials): TelegramClient | null {
    try {
      return newTelegramClient(session, credentials, this.opts.endpoint);
    } catch {
      return null;
    }
  }

  private request<T>(p: Promise<T>): Promise<T> {
    return withTimeout(p, this.requestTimeoutMs);
  }

  /** Starts a new course: cancels timers, the connected client, a login in progress and stale loops. */
  private restart(): number {
    this.generation++;
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (client) void this.discard(client);
    void this.dropLogin();
    return this.generation;
  }

  private async dropLogin(): Promise<void> {
    const login = this.login;
    this.login = null;
    if (login) await this.discard(login.client);
  }

  private async discard(client: TelegramClient): Promise<void> {
    await withTimeout(client.destroy(), 5_000).catch(() => undefined);
  }

  /** Applies a change; a new phase starts without the old error, prompt and wait. Emits `change`. */
  private set(change: Partial<Omit<AccountView, 'light'>>): void {
    const phaseChanged = change.phase !== undefined && change.phase !== this.state.phase;
    const next: AccountView = { ...this.state, ...(phaseChanged ? { error: null, prompt: null, waitUntil: null, nextCodeBy: null } : {}), ...change };
    next.light = lightOf(next.phase);
    const same = JSON.stringify(next) === JSON.stringify(this.state);
    this.state = next;
    if (!same) this.emit('change', next);
  }
}

function lightOf(phase: AccountPhase): Light {
  if (phase === 'connected') return 'green';
  if (phase === 'connecting') return 'orange';
  if (phase === 'stopped') return 'off';
  return 'red';
}

/** The phone of the account an authorization belongs to, when it is not `phone` (else null). */
function strangerOf(authorization: Api.auth.TypeAuthorization, phone: string): string | null {
  const user = authorization instanceof Api.auth.Authorization ? authorization.user : null;
  if (!(user instanceof Api.User) || !user.phone) return null;
  const digits = user.phone.replace(/\D/g, '');
  return digits === phone.replace(/\D/g, '') ? null : `+${digits}`;
}

function userOf(user: Api.TypeUser): AccountUser | null {
  if (!(user instanceof Api.User)) return null;
  return { id: user.id.toString(), firstName: user.firstName ?? '', username: user.username ?? null };
}
