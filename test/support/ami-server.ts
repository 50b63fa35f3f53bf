/**
 * A protocol-faithful Asterisk Manager Interface (AMI) emulator for tests: a real TCP server on
 * 127.0.0.1 that speaks like Asterisk 20's main/manager.c (banner, Login, Logoff, Ping, Events,
 * Challenge/MD5, Originate + OriginateResponse, PJSIPShowEndpoints, Reload) and can replay recorded streams.
 *
 * Wording and ordering follow Asterisk: every response starts with `Response:` then `ActionID:`
 * (only when the action had one); unauthenticated actions other than Login/Logoff/Challenge get
 * `Permission denied`; unknown actions get `Invalid/unknown command: <Action>. Use Action:
 * ListCommands to show available commands.`; a failed Login is answered and then the socket closed.
 */
import { createHash, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import {
  AmiFrameSplitter, frameKind, getField, makeAmiFrame, parseAmiFrames, serializeAmiFrame, toPairs,
  type AmiFieldsInput, type AmiFrame, type AmiPair,
} from './ami-frames.js';

/** Options of {@link AmiServer.start}. */
export interface AmiServerOptions {
  /** The one AMI user (default 'tgpbx'). */
  username?: string;
  /** Its secret (default 'tgpbx-secret'). */
  secret?: string;
  /** AMI version in the banner (default '9.0.0', what Asterisk 20 sends). */
  version?: string;
  /** Send `Event: FullyBooted` after a successful Login, as Asterisk does when system events are on (default true). */
  fullyBooted?: boolean;
  /** Add `Timestamp:` to the events the emulator generates itself, like `timestampevents = yes` (default true, as in the fixtures). */
  timestampEvents?: boolean;
}

/** An action received by the server, with the connection it came on. */
export interface AmiAction extends AmiFrame {
  /** The `Action:` value as sent (compare case-insensitively). */
  readonly name: string;
  /** The connection the action came on. */
  readonly connection: AmiConnection;
}

/** What an action handler returns: the response fields, or undefined when it wrote everything itself via `conn.send`. */
export type AmiHandlerResult = AmiFieldsInput | undefined | void;

/**
 * An action handler. Returned fields are sent as the response, with `ActionID` inserted after the
 * first line when missing. For list actions write the response and the events yourself with
 * `conn.send` (in order) and return undefined.
 */
export type AmiActionHandler = (action: AmiAction, conn: AmiConnection) => AmiHandlerResult | Promise<AmiHandlerResult>;

/** Outcome of an `Originate` (see {@link AmiServer.setOriginateOutcome}). */
export interface OriginateOutcome {
  /** `Response:` of the OriginateResponse event: 'Success' (default) or 'Failure'. */
  response?: 'Success' | 'Failure';
  /** `Reason:` code: 4 answered (default on success), 0 failed (default on failure), 1 hung up, 3 ring timeout, 5 busy, 8 congestion. */
  reason?: number;
  /** Fields overriding or added to the OriginateResponse event. */
  fields?: Record<string, string>;
  /** False: acknowledge the Originate but never send an OriginateResponse (default true). */
  respond?: boolean;
}

/** A PJSIP endpoint listed by `PJSIPShowEndpoints` as an `EndpointList` event. */
export interface AmiEndpoint {
  /** Endpoint id, e.g. '101'. */
  objectName: string;
  /** `Transport:` (default ''). */
  transport?: string;
  /** `Aor:` (default objectName). */
  aor?: string;
  /** `Auths:` (default objectName). */
  auths?: string;
  /** `OutboundAuths:` (default ''). */
  outboundAuths?: string;
  /** `Contacts:`, e.g. '101/sip:101@127.0.0.1:5062,' (default ''). */
  contacts?: string;
  /** `DeviceState:` (default 'Not in use' with contacts, 'Unavailable' without). */
  deviceState?: string;
  /** `ActiveChannels:` (default ''). */
  activeChannels?: string;
}

/** Options of {@link AmiServer.replay}. */
export interface ReplayOptions {
  /** 'fast' (default): as fast as possible; 'original': the recorded Timestamp gaps; a number: the gaps divided by this speed factor. */
  timing?: 'fast' | 'original' | number;
  /** Write the stream in chunks of this many bytes (splitting frames, lines and UTF-8 characters anywhere). */
  chunkSize?: number;
  /** How to wait between frames in timed modes (default setTimeout); inject one to keep tests clock-free. */
  sleep?: (ms: number) => Promise<void>;
}

/** Modules the emulated Asterisk has loaded, for `Reload` with a `Module:` header. */
const LOADED_MODULES = new Set(['pbx_config', 'chan_pjsip', 'res_pjsip', 'res_agi', 'manager', 'cdr', 'cdr_manager', 'app_queue', 'features', 'res_musiconhold']);

/** Event classes Asterisk knows (manager.conf read/write and the `Events`/`EventMask` values). */
const EVENT_CLASSES = new Set(['system', 'call', 'log', 'verbose', 'command', 'agent', 'user', 'config', 'dtmf',
  'reporting', 'cdr', 'dialplan', 'originate', 'agi', 'cc', 'aoc', 'test', 'security', 'message']);

/** A connection's event mask: every class, none, or a set of classes. */
export type AmiEventMask = 'all' | 'none' | ReadonlySet<string>;

/**
 * Parses an `Events:`/`EventMask:` value as Asterisk's strings_to_mask does: empty -> undefined
 * (invalid / leave unchanged); on/yes/true/1 -> all; off/no/false/0 -> none; else a comma list of
 * classes (unknown words ignored; 'all' in the list means all; nothing known means none).
 */
export function parseEventMask(value: string | undefined): AmiEventMask | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return undefined;
  if (['on', 'yes', 'true', 'y', 't', '1'].includes(v)) return 'all';
  if (['off', 'no', 'false', 'n', 'f', '0'].includes(v)) return 'none';
  const words = v.split(',').map((w) => w.trim());
  if (words.includes('all')) return 'all';
  const classes = new Set(words.filter((w) => EVENT_CLASSES.has(w)));
  return classes.size > 0 ? classes : 'none';
}

/** Whether an event with this `Privilege:` passes a mask (an event with no Privilege only passes 'all'). */
function maskAllows(mask: AmiEventMask, privilege: string | undefined): boolean {
  if (mask === 'all') return true;
  if (mask === 'none' || privilege === undefined) return false;
  const classes = privilege.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== 'all' && c !== '');
  return classes.length > 0 && classes.every((c) => mask.has(c));
}

/** `secs.micros` like Asterisk's Ping and event timestamps. */
function amiTimestamp(ms = Date.now()): string {
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}

/** One client connection as the server sees it. */
export class AmiConnection {
  /** True after a successful Login (handlers overriding Login may set it). */
  authenticated = false;
  /** Event mask: 'all' by default, as in Asterisk when Login has no `Events:` header. */
  eventMask: AmiEventMask = 'all';
  /** MD5 challenge handed out by the `Challenge` action, if any. */
  challenge: string | undefined;
  /** @internal Serialises action processing so responses keep the order of the actions. */
  queue: Promise<void> = Promise.resolve();

  /** @internal `id` counts connections from 1; `socket` is the server side of the TCP connection. */
  constructor(readonly id: number, readonly socket: net.Socket, private readonly server: AmiServer) {}

  /** Writes one frame as is (no event mask applied: for responses and list events). */
  send(fields: AmiFieldsInput): void {
    this.write(serializeAmiFrame(fields));
  }

  /** Writes raw text unless the socket is gone or the server plays dead (see setUnresponsive). */
  write(text: string | Uint8Array): Promise<void> {
    if (this.server.unresponsive || this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(text, () => resolve()));
  }

  /** Whether unsolicited events with this `Privilege:` go to this connection. */
  wantsEvent(privilege: string | undefined): boolean {
    return this.authenticated && maskAllows(this.eventMask, privilege);
  }
}

interface Waiter {
  check(): boolean;
  reject(err: Error): void;
}

/** The AMI emulator. Start with {@link AmiServer.start}; always {@link AmiServer.stop} in after/afterEach. */
export class AmiServer {
  /** Every action received, in arrival order (also those never answered). */
  readonly actions: AmiAction[] = [];
  /** Successful logins so far. */
  logins = 0;
  /** While true nothing at all is written: no banner, responses or events (actions are still recorded). */
  unresponsive = false;
  /** The listening host. */
  readonly host = '127.0.0.1';

  private readonly conns = new Set<AmiConnection>();
  private readonly handlers = new Map<string, AmiActionHandler>();
  private readonly waiters = new Set<Waiter>();
  private readonly startedAt = Date.now();
  private endpoints: AmiEndpoint[] = [];
  private originateOutcome: OriginateOutcome | ((action: AmiAction) => OriginateOutcome) = {};
  private nextConnId = 1;
  private nextChannel = 1;
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    /** The listening port (bound to port 0, so a free one). */
    readonly port: number,
    private readonly opts: Required<AmiServerOptions>,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Starts an emulator on 127.0.0.1, on a free port. */
  static async start(options: AmiServerOptions = {}): Promise<AmiServer> {
    const opts: Required<AmiServerOptions> = {
      username: 'tgpbx', secret: 'tgpbx-secret', version: '9.0.0', fullyBooted: true, timestampEvents: true, ...options,
    };
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new AmiServer(server, (server.address() as net.AddressInfo).port, opts);
  }

  /** `ami://user:secret@127.0.0.1:port`, user and secret URL-encoded. */
  get url(): string {
    return `ami://${encodeURIComponent(this.opts.username)}:${encodeURIComponent(this.opts.secret)}@${this.host}:${this.port}`;
  }

  /** The configured user name. */
  get username(): string {
    return this.opts.username;
  }

  /** The configured secret. */
  get secret(): string {
    return this.opts.secret;
  }

  /** Number of open client connections. */
  get connections(): number {
    return this.conns.size;
  }

  /** Adds or overrides an action (name case-insensitive); the handler runs after the authentication check. */
  onAction(name: string, handler: AmiActionHandler): void {
    this.handlers.set(name.toLowerCase(), handler);
  }

  /** The endpoints `PJSIPShowEndpoints` lists (none by default: Asterisk then answers `No endpoints found`). */
  setEndpoints(endpoints: AmiEndpoint[]): void {
    this.endpoints = [...endpoints];
  }

  /** How later `Originate` actions turn out (default: Success, Reason 4), or a function deciding per action. */
  setOriginateOutcome(outcome: OriginateOutcome | ((action: AmiAction) => OriginateOutcome)): void {
    this.originateOutcome = outcome;
  }

  /** Plays dead (true) or comes back (false); sockets stay open either way. */
  setUnresponsive(on: boolean): void {
    this.unresponsive = on;
  }

  /**
   * Sends an event, exactly as given, to every authenticated connection whose event mask lets it
   * through (judged by its `Privilege:` classes; an event without Privilege only reaches 'all' masks).
   */
  emitEvent(fields: AmiFieldsInput): void {
    const text = serializeAmiFrame(fields);
    const privilege = getField(makeAmiFrame(fields), 'Privilege');
    for (const conn of this.conns) if (conn.wantsEvent(privilege)) void conn.write(text);
  }

  /**
   * Replays the `Event:` frames of a recorded `.ami` file (banner and `Response:` frames are
   * skipped) to every authenticated connection whose mask lets them through, in order.
   * Resolves when everything has been handed to the sockets.
   */
  async replay(fixturePath: string, opts: ReplayOptions = {}): Promise<void> {
    const events = parseAmiFrames(await readFile(fixturePath, 'utf8')).filter((f) => frameKind(f) === 'event');
    const timing = opts.timing ?? 'fast';
    if (timing === 'fast') {
      for (const conn of this.conns) {
        const text = events.filter((e) => conn.wantsEvent(getField(e, 'Privilege'))).map((e) => serializeAmiFrame(e.pairs)).join('');
        await this.writeChunked(conn, text, opts.chunkSize);
      }
      return;
    }
    const speed = timing === 'original' ? 1 : timing;
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    let last: number | undefined;
    for (const event of events) {
      const ts = Number(getField(event, 'Timestamp'));
      if (Number.isFinite(ts)) {
        if (last !== undefined && ts > last) await sleep(((ts - last) * 1000) / speed);
        last = ts;
      }
      const text = serializeAmiFrame(event.pairs);
      const privilege = getField(event, 'Privilege');
      await Promise.all([...this.conns].filter((c) => c.wantsEvent(privilege)).map((c) => this.writeChunked(c, text, opts.chunkSize)));
    }
  }

  /** Writes raw bytes, well-formed or not, to every logged-in connection (to test parsers against garbage). */
  async sendRaw(text: string | Uint8Array): Promise<void> {
    await Promise.all([...this.conns].filter((c) => c.authenticated).map((c) => c.write(text)));
  }

  /**
   * Destroys every client socket, as an Asterisk restart does; the server keeps listening.
   * With `shutdownEvent`, first sends `Event: Shutdown` (Cleanly, Restart: True) like a graceful restart.
   * Resolves when all sockets are closed.
   */
  async dropConnections(opts: { shutdownEvent?: boolean } = {}): Promise<void> {
    if (opts.shutdownEvent) {
      this.emitEvent([['Event', 'Shutdown'], ['Privilege', 'system,all'], ...this.timestamp(), ['Shutdown', 'Cleanly'], ['Restart', 'True']]);
    }
    await Promise.all([...this.conns].map((conn) => new Promise<void>((resolve) => {
      if (conn.socket.closed) return resolve();
      conn.socket.once('close', () => resolve());
      if (opts.shutdownEvent) conn.socket.end(); else conn.socket.destroy();
    })));
  }

  /** Resolves with the first action named `name` (case-insensitive) matching `predicate`, at index >= `since` (already received ones count). */
  waitForAction(name: string, predicate: (action: AmiAction) => boolean = () => true, since = 0): Promise<AmiAction> {
    const lower = name.toLowerCase();
    let found: AmiAction | undefined;
    return this.waitUntil(() => {
      found = this.actions.slice(since).find((a) => a.name.toLowerCase() === lower && predicate(a));
      return found !== undefined;
    }).then(() => found as AmiAction);
  }

  /** Resolves when at least `n` successful logins have happened in total. */
  waitForLogins(n: number): Promise<void> {
    return this.waitUntil(() => this.logins >= n);
  }

  /** Resolves on the next successful login (one after those counted so far). */
  waitForLogin(): Promise<void> {
    return this.waitForLogins(this.logins + 1);
  }

  /** Resolves when exactly `n` client connections are open. */
  waitForConnections(n: number): Promise<void> {
    return this.waitUntil(() => this.conns.size === n);
  }

  /** Closes the server and every socket and rejects pending waits; idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const conn of this.conns) conn.socket.destroy();
      for (const waiter of this.waiters) waiter.reject(new Error('AmiServer stopped'));
      this.waiters.clear();
      await closed;
    })();
    return this.stopped;
  }

  // --- internals -------------------------------------------------------------------------------

  private waitUntil(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('AmiServer stopped'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (!check()) return false;
          resolve();
          return true;
        },
        reject,
      };
      this.waiters.add(waiter);
    });
  }

  private poke(): void {
    for (const waiter of this.waiters) if (waiter.check()) this.waiters.delete(waiter);
  }

  private timestamp(): AmiPair[] {
    return this.opts.timestampEvents ? [['Timestamp', amiTimestamp()]] : [];
  }

  private async writeChunked(conn: AmiConnection, text: string, chunkSize: number | undefined): Promise<void> {
    if (!chunkSize || chunkSize <= 0) return conn.write(text);
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < bytes.length; i += chunkSize) await conn.write(bytes.subarray(i, i + chunkSize));
  }

  private accept(socket: net.Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = new AmiConnection(this.nextConnId++, socket, this);
    this.conns.add(conn);
    const splitter = new AmiFrameSplitter();
    socket.on('data', (chunk) => {
      for (const frame of splitter.push(chunk)) this.receive(conn, frame);
    });
    socket.on('error', () => { /* the peer went away; 'close' follows */ });
    socket.on('close', () => {
      this.conns.delete(conn);
      this.poke();
    });
    void conn.write(`Asterisk Call Manager/${this.opts.version}\r\n`);
    this.poke();
  }

  private receive(conn: AmiConnection, raw: AmiFrame): void {
    // Asterisk skips blanks after the colon ("Key:Value" works) and uses the first non-empty Action.
    const frame = makeAmiFrame(raw.pairs.map(([k, v]): AmiPair => [k.trim(), v.trimStart()]));
    const name = frame.pairs.find(([k, v]) => k.toLowerCase() === 'action' && v !== '')?.[1] ?? '';
    const action: AmiAction = { ...frame, name, connection: conn };
    this.actions.push(action);
    this.poke();
    if (this.unresponsive) return; // a hung Asterisk reads nothing either: never answered
    conn.queue = conn.queue.then(() => this.process(conn, action)).catch((err: unknown) => {
      conn.send(this.reply(action, [['Response', 'Error'], ['Message', `Emulator handler failed: ${String(err)}`]]));
    });
  }

  /** Adds `ActionID` after the first line when the action had one and the response lacks it. */
  private reply(action: AmiAction, fields: AmiFieldsInput): AmiPair[] {
    const pairs = toPairs(fields);
    const id = getField(action, 'ActionID');
    if (id !== undefined && !pairs.some(([k]) => k.toLowerCase() === 'actionid')) pairs.splice(1, 0, ['ActionID', id]);
    return pairs;
  }

  private async process(conn: AmiConnection, action: AmiAction): Promise<void> {
    const lower = action.name.toLowerCase();
    const error = (message: string): void => conn.send(this.reply(action, [['Response', 'Error'], ['Message', message]]));
    if (lower === '') return error('Missing action in request');
    if (!conn.authenticated && !['login', 'logoff', 'challenge'].includes(lower)) return error('Permission denied');
    const handler = this.handlers.get(lower) ?? this.builtin(lower);
    if (!handler) return error(`Invalid/unknown command: ${action.name}. Use Action: ListCommands to show available commands.`);
    const result = await handler(action, conn);
    if (result) conn.send(this.reply(action, result));
  }

  private builtin(lower: string): AmiActionHandler | undefined {
    switch (lower) {
      case 'login': return (a, c) => this.login(a, c);
      case 'logoff': return (a, c) => {
        c.send(this.reply(a, [['Response', 'Goodbye'], ['Message', 'Thanks for all the fish.']]));
        c.socket.end();
      };
      case 'challenge': return (a, c) => {
        if (getField(a, 'AuthType')?.toLowerCase() !== 'md5') return [['Response', 'Error'], ['Message', 'Must specify AuthType']];
        c.challenge ??= String(randomInt(1, 2 ** 31 - 1));
        return [['Response', 'Success'], ['Challenge', c.challenge]];
      };
      case 'ping': return () => [['Response', 'Success'], ['Ping', 'Pong'], ['Timestamp', amiTimestamp()]];
      case 'events': return (a, c) => {
        const mask = parseEventMask(getField(a, 'EventMask'));
        if (mask === undefined) return [['Response', 'Error'], ['Message', 'Invalid event mask']];
        c.eventMask = mask;
        return [['Response', 'Success'], ['Events', mask === 'none' ? 'Off' : 'On']];
      };
      case 'originate': return (a, c) => this.originate(a, c);
      case 'pjsipshowendpoints': return (a, c) => this.showEndpoints(a, c);
      case 'reload': return (a) => {
        // manager.c action_reload: ast_module_reload(Module or everything), then an ack or an error.
        const module = (getField(a, 'Module') ?? '').trim();
        if (module !== '' && !LOADED_MODULES.has(module.replace(/\.so$/, ''))) return [['Response', 'Error'], ['Message', 'No such module']];
        return [['Response', 'Success'], ['Message', 'Module Reloaded']];
      };
      default: return undefined;
    }
  }

  private login(action: AmiAction, conn: AmiConnection): AmiHandlerResult {
    if (conn.authenticated) return [['Response', 'Success'], ['Message', 'Already authenticated']];
    const username = getField(action, 'Username') ?? '';
    let ok = username !== '' && username.toLowerCase() === this.opts.username.toLowerCase();
    if (getField(action, 'AuthType')?.toLowerCase() === 'md5') {
      const expected = conn.challenge && createHash('md5').update(conn.challenge + this.opts.secret).digest('hex');
      ok &&= Boolean(expected) && getField(action, 'Key') === expected;
    } else {
      ok &&= getField(action, 'Secret') === this.opts.secret;
    }
    if (!ok) {
      // Asterisk sleeps 1 s first; the emulator answers at once to keep tests fast.
      conn.send(this.reply(action, [['Response', 'Error'], ['Message', 'Authentication failed']]));
      conn.socket.end();
      return undefined;
    }
    conn.authenticated = true;
    // Only `Events:` counts: an `Event: on` header (what the npm asterisk-manager client sends) is ignored by Asterisk.
    conn.eventMask = parseEventMask(getField(action, 'Events')) ?? conn.eventMask;
    conn.send(this.reply(action, [['Response', 'Success'], ['Message', 'Authentication accepted']]));
    if (this.opts.fullyBooted && conn.wantsEvent('system,all')) {
      const uptime = String(Math.floor((Date.now() - this.startedAt) / 1000));
      conn.send([['Event', 'FullyBooted'], ['Privilege', 'system,all'], ['Uptime', uptime], ['LastReload', uptime], ['Status', 'Fully Booted']]);
    }
    this.logins++;
    this.poke();
    return undefined;
  }

  private originate(action: AmiAction, conn: AmiConnection): AmiHandlerResult {
    const requested = getField(action, 'Channel') ?? '';
    if (requested === '') return [['Response', 'Error'], ['Message', 'Channel not specified']];
    if (!requested.includes('/')) return [['Response', 'Error'], ['Message', 'Invalid channel']];
    const outcome = typeof this.originateOutcome === 'function' ? this.originateOutcome(action) : this.originateOutcome;
    const success = (outcome.response ?? 'Success') === 'Success';
    const async = /^(yes|true|y|t|1|on)$/i.test(getField(action, 'Async') ?? '');
    if (!async) {
      // Synchronous originate: Asterisk answers after the call attempt and sends no OriginateResponse.
      return success ? [['Response', 'Success'], ['Message', 'Originate successfully queued']]
        : [['Response', 'Error'], ['Message', 'Originate failed']];
    }
    conn.send(this.reply(action, [['Response', 'Success'], ['Message', 'Originate successfully queued']]));
    if (outcome.respond === false) return undefined;
    const seq = this.nextChannel++;
    const channel = `${requested}-${seq.toString(16).padStart(8, '0')}${requested.startsWith('Local/') ? ';1' : ''}`;
    const callerId = getField(action, 'CallerID') ?? '';
    const cid = /^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/.exec(callerId);
    const id = getField(action, 'ActionID');
    const event: AmiPair[] = [
      ['Event', 'OriginateResponse'], ['Privilege', 'call,all'], ...this.timestamp(),
      ...(id !== undefined ? [['ActionID', id] as AmiPair] : []),
      ['Response', success ? 'Success' : 'Failure'],
      ['Channel', success ? channel : requested],
      ['Context', getField(action, 'Context') ?? ''],
      ['Exten', getField(action, 'Exten') ?? ''],
      ['Reason', String(outcome.reason ?? (success ? 4 : 0))],
      ['Uniqueid', getField(action, 'ChannelId') || (success ? `${Math.floor(Date.now() / 1000)}.${seq}` : '<null>')],
      ['CallerIDNum', (cid ? cid[2] : callerId) || '<unknown>'],
      ['CallerIDName', (cid ? cid[1] : '') || '<unknown>'],
    ];
    for (const [key, value] of Object.entries(outcome.fields ?? {})) {
      const existing = event.find(([k]) => k.toLowerCase() === key.toLowerCase());
      if (existing) existing[1] = value; else event.push([key, value]);
    }
    this.emitEvent(event);
    return undefined;
  }

  private showEndpoints(action: AmiAction, conn: AmiConnection): AmiHandlerResult {
    // The trailing "\n" is really in Asterisk's message (res_pjsip), so the wire has "found\n\r\n".
    if (this.endpoints.length === 0) return [['Response', 'Error'], ['Message', 'No endpoints found\n']];
    const id = getField(action, 'ActionID');
    const idPair: AmiPair[] = id !== undefined ? [['ActionID', id]] : [];
    conn.send(this.reply(action, [['Response', 'Success'], ['EventList', 'start'],
      ['Message', 'A listing of Endpoints follows, presented as EndpointList events']]));
    for (const e of this.endpoints) {
      conn.send([['Event', 'EndpointList'], ...idPair, ['ObjectType', 'endpoint'], ['ObjectName', e.objectName],
        ['Transport', e.transport ?? ''], ['Aor', e.aor ?? e.objectName], ['Auths', e.auths ?? e.objectName],
        ['OutboundAuths', e.outboundAuths ?? ''], ['Contacts', e.contacts ?? ''],
        ['DeviceState', e.deviceState ?? (e.contacts ? 'Not in use' : 'Unavailable')], ['ActiveChannels', e.activeChannels ?? '']]);
    }
    conn.send([['Event', 'EndpointListComplete'], ...idPair, ['EventList', 'Complete'], ['ListItems', String(this.endpoints.length)]]);
    return undefined;
  }
}
