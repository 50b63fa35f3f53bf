import { EventEmitter } from 'node:events';
import type { Logger } from '../../log/logger.js';
import type { SecretScrubber } from '../../log/secret-scrubber.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { Metrics } from '../../status/metrics.js';
import type { ComponentStatus, Light, StatusBoard } from '../../status/status-board.js';
import type { Database } from '../../storage/database.js';
import { TelegramAccount, type AccountTimings, type AccountView } from '../../telegram/accounts.js';
import type { ApiCredentials, MtprotoEndpoint } from '../../telegram/mtproto-endpoint.js';
import { NumberStore, type ProviderNumber } from './numbers-store.js';
import { ACCOUNT_KINDS, SessionDirs, type AccountKind, type ComponentKind, type ComponentStatusFile } from './session-dirs.js';

/** One component of a number as the page and the API show it. */
export interface ComponentView extends AccountView {
  kind: ComponentKind;
}

/** A number with its three components. */
export interface NumberView extends ProviderNumber {
  components: Record<ComponentKind, ComponentView>;
  connected: boolean;
}

/** The page's headline: "lines connected", or which components are not and why. */
export interface ProviderSummary {
  light: Light;
  linesConnected: boolean;
  message: string;
  problems: string[];
}

export interface ProviderDeps {
  db: Database;
  dataDir: string;
  settings: SettingsStore;
  status: StatusBoard;
  metrics: Metrics;
  logger: Logger;
  scrubber: SecretScrubber;
  /** The light of the bot that serves the provider (`bot:provider`, or the default bot's when they share a token). */
  botStatus: () => ComponentStatus | undefined;
  /** Restarts the bots (the page's "authorize" for the bot component). */
  reloadBots: () => Promise<void>;
  /** A private MTProto server instead of Telegram's data centers (tests: the emulator). */
  endpoint?: MtprotoEndpoint;
  timings?: AccountTimings;
}

const LIGHT_VALUE: Record<Light, number> = { red: 0, orange: 1, green: 2, off: -1 };
const PROVIDER_SETTINGS = ['provider.api_id', 'provider.api_hash'];

/** Thrown for a number or component that does not exist. */
export class NotFoundError extends Error {}

/**
 * The Telegram provider's numbers and their accounts: starts a supervised TelegramAccount
 * for each number's client and gateway, drives logins from the page, keeps each
 * component's status file and light, and turns everything red when Telegram refuses the
 * App credentials (until they change). Emits `change` whenever a component changes and
 * `numbers` when a number was added or removed (the dialplan's lines follow them).
 */
export class Provider extends EventEmitter {
  readonly numbers: NumberStore;
  readonly dirs: SessionDirs;
  private readonly accounts = new Map<string, TelegramAccount>();
  private known: ProviderNumber[] = [];
  private credentialsProblem: string | null = null;
  private started = false;

  constructor(private readonly deps: ProviderDeps) {
    super();
    this.setMaxListeners(0);
    this.numbers = new NumberStore(deps.db);
    this.dirs = new SessionDirs(deps.dataDir);
    deps.settings.on('change', (keys: string[]) => {
      if (keys.some((k) => PROVIDER_SETTINGS.includes(k))) void this.credentialsChanged();
    });
    deps.status.on('change', (status: ComponentStatus) => {
      if (status.id === this.deps.botStatus()?.id) this.botChanged();
    });
  }

  async start(): Promise<void> {
    this.started = true;
    this.known = await this.numbers.list();
    for (const number of this.known) this.createAccounts(number);
    this.botChanged();
    this.refresh();
    // Connecting may take a while (or hang until a timeout): the module does not wait for Telegram.
    for (const [key, account] of this.accounts) {
      account.start().catch((err: Error) => this.deps.logger.error({ account: key, reason: err.message }, 'Telegram account could not start'));
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.accounts.values()].map((a) => a.stop()));
  }

  /** Every number with its components, in line order. */
  list(): NumberView[] {
    return this.known.map((n) => this.viewOf(n));
  }

  find(id: number): NumberView {
    const number = this.known.find((n) => n.id === id);
    if (!number) throw new NotFoundError(`no Telegram number with line id ${id}`);
    return this.viewOf(number);
  }

  summary(): ProviderSummary {
    const views = this.list();
    if (!views.length) return { light: 'off', linesConnected: false, message: 'no Telegram number yet: add one', problems: [] };
    const problems: string[] = [];
    for (const v of views) {
      for (const kind of ['gateway', 'client', 'bot'] as const) {
        const c = v.components[kind];
        if (c.light !== 'green') problems.push(`${v.phone} ${kind}: ${c.detail}`);
      }
    }
    if (!problems.length) return { light: 'green', linesConnected: true, message: 'lines connected', problems };
    const anyRed = views.some((v) => Object.values(v.components).some((c) => c.light === 'red'));
    return { light: anyRed ? 'red' : 'orange', linesConnected: false, message: `${problems.length} not connected`, problems };
  }

  /** Adds a number; its components start red (authorization needed). */
  async addNumber(input: string): Promise<NumberView> {
    const number = await this.numbers.add(input);
    this.known = await this.numbers.list();
    this.createAccounts(number);
    await Promise.all(ACCOUNT_KINDS.map((kind) => this.account(number.id, kind).start()));
    this.deps.logger.info({ line: number.id, phone: number.phone }, 'Telegram number added');
    this.refresh();
    this.emit('numbers');
    return this.find(number.id);
  }

  /** Logs both sessions out at Telegram, deletes the number's directories and its row. */
  async removeNumber(id: number): Promise<void> {
    const number = this.find(id);
    this.known = this.known.filter((n) => n.id !== id);
    for (const kind of ACCOUNT_KINDS) {
      const key = accountKey(id, kind);
      const account = this.accounts.get(key);
      if (account) {
        await account.logOut().catch(() => undefined);
        await account.stop();
        this.accounts.delete(key);
      }
    }
    this.dirs.removeNumber(number.phone);
    await this.numbers.remove(id);
    this.known = await this.numbers.list();
    for (const kind of ['client', 'gateway', 'bot'] as const) this.deps.metrics.providerComponentLight.remove({ line: String(id), component: kind });
    this.deps.logger.info({ line: id, phone: number.phone }, 'Telegram number removed');
    this.refresh();
    this.emit('numbers');
  }

  /** The supervised account of a number's client or gateway. */
  account(id: number, kind: AccountKind): TelegramAccount {
    const account = this.accounts.get(accountKey(id, kind));
    if (!account) throw new NotFoundError(`no Telegram number with line id ${id}`);
    return account;
  }

  /** The bot component's "authorize": restart the bots so the token is checked again. */
  async restartBot(): Promise<void> {
    await this.deps.reloadBots();
    this.botChanged();
  }

  private createAccounts(number: ProviderNumber): void {
    for (const kind of ACCOUNT_KINDS) {
      const key = accountKey(number.id, kind);
      if (this.accounts.has(key)) continue;
      const account = new TelegramAccount({
        phone: number.phone,
        sessions: {
          load: () => this.dirs.readSession(kind, number.phone),
          save: (session) => this.dirs.writeSession(kind, number.phone, session),
          remove: () => this.dirs.removeSession(kind, number.phone),
          loadLogin: () => this.dirs.readLogin(kind, number.phone),
          saveLogin: (login) => this.dirs.writeLogin(kind, number.phone, login),
          removeLogin: () => this.dirs.removeLogin(kind, number.phone),
        },
        credentials: () => this.credentials(),
        endpoint: this.deps.endpoint,
        ...this.deps.timings,
        onCredentialsRefused: (problem) => void this.credentialsRefused(problem.message),
        onSecret: (session) => this.deps.scrubber.add(session),
      });
      account.on('change', (view: AccountView) => this.accountChanged(number, kind, view));
      this.accounts.set(key, account);
    }
  }

  private credentials(): ApiCredentials | null {
    if (this.credentialsProblem) return null;
    const apiId = this.deps.settings.get('provider.api_id');
    const apiHash = this.deps.settings.get('provider.api_hash');
    if (!apiId || !apiHash) return null;
    return { apiId: Number(apiId), apiHash };
  }

  /** Telegram refused api_id/api_hash: every account stops with the reason until they change. */
  private async credentialsRefused(message: string): Promise<void> {
    if (this.credentialsProblem) return;
    this.credentialsProblem = message;
    this.deps.logger.error({ reason: message }, 'Telegram refused the App credentials: every Telegram account stops');
    await Promise.all([...this.accounts.values()].map((a) => a.halt(message)));
  }

  private async credentialsChanged(): Promise<void> {
    this.credentialsProblem = null;
    if (!this.started) return;
    this.deps.logger.info('App credentials changed: Telegram accounts reconnect');
    await Promise.all([...this.accounts.values()].map((a) => a.start()));
  }

  private accountChanged(number: ProviderNumber, kind: AccountKind, view: AccountView): void {
    if (view.phase !== 'stopped' && this.known.some((n) => n.id === number.id)) {
      this.writeStatus(kind, number.phone, { state: view.phase, detail: view.detail, user: view.user ?? undefined, updatedAt: new Date().toISOString() });
    }
    if (view.phase === 'unauthorized' && view.error) this.deps.logger.warn({ line: number.id, component: kind, reason: view.error }, 'Telegram authorization step failed');
    else if (view.light === 'red') this.deps.logger.warn({ line: number.id, component: kind, reason: view.detail }, 'Telegram account needs authorization');
    this.refresh();
  }

  private botChanged(): void {
    const bot = this.botView();
    this.writeStatus('bot', undefined, { state: bot.phase, detail: bot.detail, updatedAt: new Date().toISOString() });
    this.refresh();
  }

  /** The status files are for the admin who looks at the directories: one that cannot be written is logged, nothing stops. */
  private writeStatus(kind: ComponentKind, phone: string | undefined, status: ComponentStatusFile): void {
    try {
      this.dirs.writeStatus(kind, phone, status);
    } catch (err) {
      this.deps.logger.warn({ component: kind, phone: phone ?? null, reason: (err as Error).message }, 'could not write the status file of a Telegram component');
    }
  }

  private botView(): ComponentView {
    const status = this.deps.botStatus();
    const base = { kind: 'bot' as const, error: null, prompt: null, user: null, waitUntil: null, nextCodeBy: null };
    if (!status) return { ...base, phase: 'unauthorized', light: 'red', detail: 'set the provider bot token in the settings above' };
    const light = status.light === 'off' ? 'red' : status.light;
    return { ...base, phase: light === 'green' ? 'connected' : light === 'orange' ? 'connecting' : 'unauthorized', light, detail: status.detail };
  }

  private viewOf(number: ProviderNumber): NumberView {
    const components = {
      client: { kind: 'client', ...this.account(number.id, 'client').view },
      gateway: { kind: 'gateway', ...this.account(number.id, 'gateway').view },
      bot: this.botView(),
    } as Record<ComponentKind, ComponentView>;
    return { ...number, components, connected: Object.values(components).every((c) => c.light === 'green') };
  }

  /** Updates the status board's provider light and the metrics, then tells the page. */
  private refresh(): void {
    if (!this.started) return;
    const summary = this.summary();
    const detail = summary.linesConnected || !summary.problems.length ? summary.message : `${summary.message}: ${summary.problems.join('; ')}`;
    this.deps.status.set('provider', 'Telegram provider', summary.light, detail);
    for (const view of this.list()) {
      for (const c of Object.values(view.components)) this.deps.metrics.providerComponentLight.set({ line: String(view.id), component: c.kind }, LIGHT_VALUE[c.light]);
    }
    this.deps.metrics.providerLinesConnected.set(summary.linesConnected ? 1 : 0);
    this.emit('change');
  }
}

function accountKey(id: number, kind: AccountKind): string {
  return `${id}:${kind}`;
}
