import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Endpoint } from '../config.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../status/metrics.js';
import type { StatusBoard } from '../status/status-board.js';
import { nextBackoff, type BackoffPolicy } from '../retry/backoff.js';

const require = createRequire(import.meta.url);
// asterisk-manager is CommonJS without types; AmiManager below describes what we use of it.
const createManager = require('asterisk-manager') as (
  port: number | undefined,
  host: string,
  username: string,
  secret: string,
  events: boolean,
) => AmiManager;

export type RawFields = Record<string, string | string[] | Record<string, string> | undefined>;

interface AmiManager {
  connect(port: number, host: string, cb: () => void): void;
  login(cb: (err?: RawFields) => void): void;
  action(action: Record<string, unknown>, cb: (err: RawFields | undefined, res: RawFields) => void): string;
  disconnect(): void;
  on(event: string, listener: (...args: never[]) => void): void;
}

/**
 * One AMI event: `event` is its name as Asterisk spells it (Newchannel, Hangup...), `fields`
 * its headers with lower-cased keys (a repeated key keeps its last value), `variables` the
 * ChanVariable / Variable headers as name -> value.
 */
export interface AmiEvent {
  readonly event: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly variables: Readonly<Record<string, string>>;
}

/** The reply to an action: `response` is Success, Error, Goodbye...; `fields` lower-cased. */
export interface AmiResponse {
  readonly response: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** AMI connection states; `connected` means logged in. */
export type AmiState = 'stopped' | 'connecting' | 'connected' | 'disconnected';

/** An action failed: refused by Asterisk (`response` holds the reply), timed out, or no connection. */
export class AmiActionError extends Error {
  constructor(
    readonly action: string,
    message: string,
    readonly response?: AmiResponse,
  ) {
    super(`AMI ${action}: ${message}`);
    this.name = 'AmiActionError';
  }
}

/** Tunables of the AMI client; every default suits a production PBX. */
export interface AmiClientOptions {
  endpoint: Endpoint;
  logger: Logger;
  status: StatusBoard;
  metrics: Metrics;
  backoff?: BackoffPolicy;
  /** Ping every so often to notice a hung connection (default 15 s). */
  pingIntervalMs?: number;
  /** A Ping or action not answered within this time counts as a dead link / failed action (default 5 s). */
  replyTimeoutMs?: number;
  /** Classes of events asked for after login (AMI `Events` action). */
  eventMask?: string;
}

const STATUS_ID = 'ami';
const STATUS_NAME = 'Asterisk AMI';

/**
 * tgpbx's link to the Asterisk Manager Interface, built on the asterisk-manager package.
 * Logs in, asks only for the event classes it needs, emits every event as a typed
 * `event`, sends actions with their own ActionID and a promise, pings to notice a hung
 * link, and reconnects with exponential backoff and jitter whenever the link is lost.
 * Reports its state to the status board (light `ami`) and emits `state`, `connected`.
 */
export class AmiClient extends EventEmitter {
  private manager: AmiManager | null = null;
  private _state: AmiState = 'stopped';
  private failures = 0;
  private actionSeq = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private loginTimer: NodeJS.Timeout | null = null;
  private lastError = '';
  private readonly lists = new Map<string, AmiEvent[]>();
  private readonly opts: Required<Omit<AmiClientOptions, 'backoff'>> & { backoff: BackoffPolicy };

  constructor(options: AmiClientOptions) {
    super();
    this.opts = {
      ...options,
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      replyTimeoutMs: options.replyTimeoutMs ?? 5_000,
      eventMask: options.eventMask ?? 'call,cdr,agent,dialplan,user,system',
      backoff: options.backoff ?? { initialMs: 1_000, maxMs: 30_000 },
    };
  }

  get state(): AmiState {
    return this._state;
  }

  /** Starts connecting; never throws (a missing Asterisk is reported on the status board and retried). */
  start(): void {
    if (this._state !== 'stopped') return;
    this.connect();
  }

  /** Closes the link and stops retrying. */
  async stop(): Promise<void> {
    this.clearTimers();
    const m = this.manager;
    this.manager = null;
    this.setState('stopped', 'stopped');
    if (m) m.disconnect();
  }

  /**
   * Sends an action and resolves with Asterisk's reply; rejects with AmiActionError when
   * Asterisk answers Error, when no reply comes in time, or when AMI is not connected.
   */
  action(fields: Record<string, string | number | boolean | Record<string, string>>): Promise<AmiResponse> {
    const name = String(fields.action ?? fields.Action ?? '?');
    const m = this.manager;
    if (!m || this._state !== 'connected') return Promise.reject(new AmiActionError(name, 'not connected to Asterisk'));
    return this.send(m, name, fields);
  }

  /**
   * Sends a list action (PJSIPShowEndpoints, CoreShowChannels...) and resolves with the
   * events of the list once its `EventList: Complete` event arrived.
   */
  async listAction(fields: Record<string, string | number>): Promise<{ response: AmiResponse; events: AmiEvent[] }> {
    const name = String(fields.action ?? '?');
    const m = this.manager;
    if (!m || this._state !== 'connected') throw new AmiActionError(name, 'not connected to Asterisk');
    const actionId = this.nextActionId();
    const events: AmiEvent[] = [];
    this.lists.set(actionId, events);
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lists.delete(actionId);
        reject(new AmiActionError(name, 'list did not complete in time'));
      }, this.opts.replyTimeoutMs * 4);
      this.once(`list-complete:${actionId}`, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      const response = await this.send(m, name, { ...fields, actionid: actionId });
      await done;
      return { response, events: events.filter((e) => (e.fields.eventlist ?? '').toLowerCase() !== 'complete') };
    } finally {
      this.lists.delete(actionId);
    }
  }

  private send(m: AmiManager, name: string, fields: Record<string, unknown>): Promise<AmiResponse> {
    const actionid = (fields.actionid as string | undefined) ?? this.nextActionId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AmiActionError(name, `no reply within ${this.opts.replyTimeoutMs} ms`)), this.opts.replyTimeoutMs);
      m.action({ ...fields, actionid }, (err, res) => {
        clearTimeout(timer);
        const reply = toResponse(err ?? res);
        if (err || reply.response.toLowerCase() === 'error') reject(new AmiActionError(name, reply.message || 'refused', reply));
        else resolve(reply);
      });
    });
  }

  private nextActionId(): string {
    return `tgpbx-${process.pid}-${++this.actionSeq}`;
  }

  private connect(): void {
    const { endpoint } = this.opts;
    const m = createManager(undefined, endpoint.host, endpoint.username, endpoint.secret, true);
    this.manager = m;
    this.lastError = '';
    this.setState('connecting', `connecting to ${endpoint.display}`);
    m.on('error', (err: Error) => {
      if (m === this.manager) this.lastError = describeSocketError(err);
    });
    m.on('close', () => this.lost(m, this.lastError || 'connection closed by Asterisk'));
    m.on('managerevent', (raw: RawFields) => this.onRawEvent(m, raw));
    this.loginTimer = setTimeout(() => this.lost(m, `no login within ${this.opts.replyTimeoutMs * 2} ms`), this.opts.replyTimeoutMs * 2);
    m.connect(endpoint.port, endpoint.host, () => {
      if (m !== this.manager) return;
      m.login((err) => {
        if (m !== this.manager) return;
        if (err) {
          const reason = `login refused: ${toResponse(err).message || 'authentication failed'} (check TGPBX_AMI_URL and manager.conf)`;
          this.lost(m, reason);
          return;
        }
        this.loggedIn(m);
      });
    });
  }

  private loggedIn(m: AmiManager): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    this.failures = 0;
    this.opts.metrics.amiConnected.set(1);
    this.setState('connected', `logged in to ${this.opts.endpoint.display}`);
    this.send(m, 'Events', { action: 'Events', eventmask: this.opts.eventMask }).catch((err: Error) =>
      this.opts.logger.warn({ err: err.message }, 'AMI did not accept the event mask; receiving all events'),
    );
    this.schedulePing(m);
    this.emit('connected');
  }

  private schedulePing(m: AmiManager): void {
    this.pingTimer = setTimeout(() => {
      this.send(m, 'Ping', { action: 'Ping' }).then(
        () => m === this.manager && this.schedulePing(m),
        () => this.lost(m, `Asterisk did not answer Ping within ${this.opts.replyTimeoutMs} ms`),
      );
    }, this.opts.pingIntervalMs);
  }

  /** The link `m` is gone (closed, refused, hung): forget it and schedule a reconnect. */
  private lost(m: AmiManager, reason: string): void {
    if (m !== this.manager) return;
    this.manager = null;
    this.clearTimers();
    m.disconnect();
    this.opts.metrics.amiConnected.set(0);
    const delay = nextBackoff(this.opts.backoff, this.failures++);
    this.setState('disconnected', `${reason}; retrying in ${formatDelay(delay)}`);
    this.opts.logger.warn({ reason, retryInMs: delay }, 'AMI link lost');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.opts.metrics.amiReconnects.inc();
      this.connect();
    }, delay);
  }

  private onRawEvent(m: AmiManager, raw: RawFields): void {
    if (m !== this.manager) return;
    const event = amiEventFromLibrary(raw);
    const actionId = event.fields.actionid;
    if (actionId && this.lists.has(actionId)) {
      this.lists.get(actionId)!.push(event);
      if ((event.fields.eventlist ?? '').toLowerCase() === 'complete') this.emit(`list-complete:${actionId}`);
      return;
    }
    this.opts.metrics.amiEvents.inc();
    this.emit('event', event);
  }

  private setState(state: AmiState, detail: string): void {
    this._state = state;
    const light = state === 'connected' ? 'green' : state === 'connecting' ? 'orange' : state === 'stopped' ? 'off' : 'red';
    this.opts.status.set(STATUS_ID, STATUS_NAME, light, detail);
    this.emit('state', state, detail);
  }

  private clearTimers(): void {
    for (const t of [this.retryTimer, this.pingTimer, this.loginTimer]) if (t) clearTimeout(t);
    this.retryTimer = this.pingTimer = this.loginTimer = null;
  }
}

function flatten(raw: RawFields): { fields: Record<string, string>; variables: Record<string, string> } {
  const fields: Record<string, string> = {};
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (typeof value === 'string') fields[key] = value;
    else if (Array.isArray(value)) fields[key] = value[value.length - 1] ?? '';
    else Object.assign(variables, value);
  }
  return { fields, variables };
}

/**
 * Turns an event as asterisk-manager parsed it into an AmiEvent. The library files every
 * `Variable:` header under `variables` (splitting at '='), which swallows VarSet's
 * `Variable: DIALSTATUS`: that name is put back into `fields.variable`.
 */
export function amiEventFromLibrary(raw: RawFields): AmiEvent {
  const { fields, variables } = flatten(raw);
  if (fields.variable === undefined && fields.event === 'VarSet') {
    const names = Object.keys(variables);
    if (names.length === 1 && variables[names[0]!] === '') fields.variable = names[0]!;
  }
  return { event: fields.event ?? '', fields, variables };
}

function toResponse(raw: RawFields | undefined): AmiResponse {
  const { fields } = flatten(raw ?? {});
  return { response: fields.response ?? '', message: fields.message ?? '', fields };
}

function describeSocketError(err: Error & { code?: string }): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused (is Asterisk running and manager.conf enabled?)';
  if (err.code === 'ETIMEDOUT') return 'connection timed out';
  if (err.code === 'ENOTFOUND') return 'host not found';
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
