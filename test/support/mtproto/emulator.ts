/**
 * A Telegram MTProto server emulator for tests: a real TCP server on 127.0.0.1 that the unmodified
 * GramJS client (npm `telegram`) talks to; optionally several data centers (127.0.0.1, 127.0.0.2, …
 * on one port) sharing one world. See ./README.md for what is modelled and how to connect.
 *
 * Layers, as in core.telegram.org/mtproto:
 * - transport: TCP "full" framing (length, seq, CRC32; GramJS's default), also intermediate and
 *   abridged (detected from the first bytes); transport error -404 for an unknown auth key;
 * - auth key exchange (./handshake.ts) with plain messages;
 * - MTProto 2.0 encrypted messages (AES-256-IGE, msg_key = SHA256 middle bits), salts
 *   (bad_server_salt), sessions (new_session_created), msg_id checks (bad_msg_notification 16/17/18),
 *   containers, gzip_packed, msgs_ack, ping / ping_delay_disconnect, rpc_result / rpc_error;
 * - API: invokeWithLayer / initConnection / invokeWithoutUpdates unwrapped, methods in ./world.ts.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { BinaryReader } from 'telegram/extensions/index.js';
import { emulatorRsaKey, igeDecrypt, igeEncrypt, messageKey, messageKeys, sha1, type RsaKey } from './crypto.js';
import { HandshakeError, Handshakes } from './handshake.js';
import {
  RpcFailure, World, normalizePhone, type Account, type AccountSpec, type CallContext, type DcAddress, type EmulatedAccount,
  type KeyState, type SentMessageRecord,
} from './world.js';

export {
  RpcFailure, normalizePhone, type AccountSpec, type DcAddress, type EmulatedAccount, type SentMessageRecord,
} from './world.js';

/** Options of `MtprotoEmulator.start()`. */
export interface MtprotoEmulatorOptions {
  /** The api_id auth.sendCode accepts (any other: 400 API_ID_INVALID). */
  apiId: number;
  /** The api_hash auth.sendCode accepts. */
  apiHash: string;
  /** The DC id the emulator says it is (help.getConfig this_dc, dc_options); default 2. Not with `dcs`. */
  dcId?: number;
  /**
   * Several data centers sharing one world (accounts, codes, QR tokens), e.g. [2, 4]: DC dcs[i]
   * listens on 127.0.0.<i+1>, all on one port. Auth keys belong to the DC that made them; an
   * account logs in on its home DC (`addAccount({ dcId })`, default dcs[0]). Not with `dcId`.
   */
  dcs?: number[];
  /** Lifetime of a QR login token from auth.exportLoginToken, in seconds (default 30, as Telegram's). */
  loginTokenSeconds?: number;
}

/** One API call as the emulator answered it (wrappers removed; service messages such as pings are not logged). */
export interface MtprotoRequestRecord {
  /** GramJS class name of the innermost query, e.g. 'auth.SendCode', 'users.GetUsers'. */
  readonly method: string;
  /** The DC that answered (the one the auth key belongs to). */
  readonly dcId: number;
  /** auth_key_id of the client, 16 hex digits. */
  readonly authKeyId: string;
  /** session_id, 16 hex digits. */
  readonly sessionId: string;
  /** The user the key was authorized for when the call arrived. */
  readonly userId?: number;
  readonly phone?: string;
  /** 'CODE MESSAGE' of the RPC error answered, e.g. '400 PHONE_CODE_INVALID'. */
  readonly error?: string;
  /** Layer from invokeWithLayer (this call or an earlier one on the key). */
  readonly layer?: number;
  readonly at: number;
}

/** An auth key authorized for an account (a "session" in Telegram's Settings > Devices). */
export interface ActiveSession {
  readonly authKeyId: string;
  /** The DC of the auth key (the account's home DC). */
  readonly dcId: number;
  readonly userId: number;
  readonly createdAt: number;
  readonly apiId?: number;
  readonly deviceModel?: string;
  readonly systemVersion?: string;
  readonly appVersion?: string;
  /** A TCP connection currently uses this key. */
  readonly connected: boolean;
}

/** Options of `floodWait`. */
export interface FloodWaitSpec {
  /** GramJS class name, case-insensitive, e.g. 'auth.SendCode'; '*' for any method. */
  method: string;
  seconds: number;
  /** How many calls get 420 FLOOD_WAIT_<seconds> (default 1). */
  times?: number;
}

export interface WaitOptions {
  /** Default 10 s. */
  timeoutMs?: number;
}

interface Session {
  id: Buffer;
  created: boolean;
  lastMsgId: bigint;
  seq: number;
  seen: Set<bigint>;
  conn?: Conn;
}

interface AuthKeyRecord extends KeyState {
  /** The DC that made (or imported) the key: other DCs do not know it. */
  readonly dcId: number;
  readonly id: Buffer;
  readonly key: Buffer;
  readonly salt: Buffer;
  readonly createdAt: number;
  readonly temporary: boolean;
  readonly sessions: Map<string, Session>;
  layer?: number;
}

type Framing = 'full' | 'intermediate' | 'padded' | 'abridged';

/** One data center: a TCP listener and its own key exchanges. */
interface DcListener {
  readonly dcId: number;
  readonly host: string;
  readonly server: net.Server;
  readonly handshakes: Handshakes;
}

interface Conn {
  /** The DC whose listener accepted the connection. */
  readonly dc: DcListener;
  readonly socket: net.Socket;
  buf: Buffer;
  framing?: Framing;
  inSeq: number;
  outSeq: number;
  key?: AuthKeyRecord;
  session?: Session;
  pingTimer?: NodeJS.Timeout;
}

interface OutMessage {
  body: Buffer;
  response: boolean;
  contentRelated: boolean;
}

const DEFAULT_WAIT_MS = 10_000;
const MAX_PACKET = 16 * 1024 * 1024;
const C_CONTAINER = 0x73f1f8dc;
const C_GZIP = 0x3072cfa1;
const C_MSGS_ACK = 0x62d6b459;
const C_PING = 0x7abe77ec;
const C_PING_DELAY = 0xf3427b8c;
const C_RPC_RESULT = 0xf35c6d01;
const C_BOOL_TRUE = 0x997275b5;
const C_BOOL_FALSE = 0xbc799737;
const C_VECTOR = 0x1cb5c415;
const C_PONG = 0x347773c5;
const C_NEW_SESSION = 0x9ec20908;
const GZIP_OVER = 512;
/** GramJS's StringSession stores the port as a signed 16-bit number. */
const MAX_SESSION_PORT = 32767;

const hex8 = (b: Buffer): string => b.toString('hex');
const int32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
const uint32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const int64 = (n: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt.asIntN(64, n)); return b; };

function tlBytes(data: Buffer): Buffer {
  const header = data.length < 254 ? Buffer.from([data.length]) : Buffer.concat([Buffer.from([254]), uint32(data.length).subarray(0, 3)]);
  const len = header.length + data.length;
  return Buffer.concat([header, data, Buffer.alloc((4 - (len % 4)) % 4)]);
}

function readTlBytes(buf: Buffer, offset: number): Buffer {
  let len = buf[offset]!;
  let start = offset + 1;
  if (len === 254) {
    len = buf.readUIntLE(offset + 1, 3);
    start = offset + 4;
  }
  return buf.subarray(start, start + len);
}

/** The loopback address of the i-th DC: 127.0.0.1, 127.0.0.2, … (Linux routes all of 127/8 to lo). */
const dcHost = (index: number): string => `127.0.0.${index + 1}`;

/** The DC ids of the options: `dcs`, else the single `dcId` (default 2). */
function dcIdsOf(options: MtprotoEmulatorOptions): number[] {
  if (options.dcs === undefined) return [options.dcId ?? 2];
  if (options.dcId !== undefined) throw new Error('MTProto emulator: give dcId or dcs, not both');
  const ids = options.dcs;
  // StringSession stores the DC id in one byte; each DC needs its own 127.0.0.x.
  const badId = (id: number): boolean => !Number.isInteger(id) || id < 1 || id > 255;
  if (!ids.length || ids.length > 254 || new Set(ids).size !== ids.length || ids.some(badId)) {
    throw new Error(`MTProto emulator: dcs must be 1..254 distinct ids in 1..255, got [${ids.join(', ')}]`);
  }
  return [...ids];
}

/** Binds `server` to host:port; resolves with the port bound, or undefined when the address is taken. */
function listen(server: net.Server, host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(new Error(`MTProto emulator: cannot listen on ${host}:${port}: ${err.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Binds every listener to its host on one port (port 0: the first one picks it). Resolves with the
 * port, or closes them all and resolves undefined when an address is taken or the port is too high.
 */
async function listenOnOnePort(listeners: readonly DcListener[], port: number): Promise<number | undefined> {
  let shared = port;
  try {
    for (const { server, host } of listeners) {
      const bound = await listen(server, host, shared);
      if (bound === undefined || bound > MAX_SESSION_PORT) {
        await Promise.all(listeners.map((l) => closeServer(l.server)));
        return undefined;
      }
      shared = bound;
    }
    return shared;
  } catch (err) {
    await Promise.all(listeners.map((l) => closeServer(l.server)));
    throw err;
  }
}

/** Serializes a method result: a TL object, a Bool, or a Vector of TL objects. */
function serializeResult(value: unknown): Buffer {
  if (value === true) return uint32(C_BOOL_TRUE);
  if (value === false) return uint32(C_BOOL_FALSE);
  if (Array.isArray(value)) {
    return Buffer.concat([uint32(C_VECTOR), int32(value.length), ...value.map((v) => (v as { getBytes(): Buffer }).getBytes())]);
  }
  return (value as { getBytes(): Buffer }).getBytes();
}

/** The emulator. Start with `await MtprotoEmulator.start({ apiId, apiHash })`, end with `await emu.stop()`. */
export class MtprotoEmulator {
  /** Every API call answered, in order. */
  readonly requests: MtprotoRequestRecord[] = [];
  /** The RSA key clients must trust (see gramjs-test-client.ts `trustEmulatorKey`). */
  readonly rsaKey: RsaKey;
  /** The first DC's id, host and (below) port: where a new client starts. */
  readonly dcId: number;
  readonly host = dcHost(0);

  private readonly dcIds: readonly number[];
  private readonly world: World;
  private listeners: readonly DcListener[] = [];
  private readonly keys = new Map<string, AuthKeyRecord>();
  private readonly conns = new Set<Conn>();
  private readonly floods: { method: string; seconds: number; left: number }[] = [];
  private readonly waiters = new Set<() => void>();
  private unresponsive = false;
  private stopped = false;
  private boundPort = 0;
  /** Counts of service messages, for tests of the protocol layer. */
  readonly stats = {
    connections: 0, authKeysCreated: 0, badServerSalt: 0, newSessions: 0, pings: 0, acksReceived: 0, transportErrors: 0,
    /** gzip_packed messages received / results sent gzipped. */
    gzipIn: 0,
    gzipOut: 0,
    /** Reads discarded while unresponsive. */
    ignoredReads: 0,
  };
  /** Every transport error sent (e.g. -404 for an unknown auth key), in order. */
  readonly transportErrors: number[] = [];

  private constructor(options: MtprotoEmulatorOptions) {
    this.dcIds = dcIdsOf(options);
    this.dcId = this.dcIds[0]!;
    this.rsaKey = emulatorRsaKey();
    this.world = new World(
      { apiId: options.apiId, apiHash: options.apiHash, dcIds: this.dcIds, loginTokenSeconds: options.loginTokenSeconds },
      () => this.notify(),
    );
  }

  /**
   * Starts one TCP listener per DC: the first on 127.0.0.1, the next on 127.0.0.2, … all on the same
   * port, because a test's GramJS connection class can keep only one port (the IP comes from the
   * session / the DC options). The port is kept <= 32767 because GramJS's StringSession stores it as
   * a signed 16-bit number: an ephemeral port above that, or one taken on another 127.0.0.x, is
   * given back and a random port in 10000..32767 is tried instead.
   */
  static async start(options: MtprotoEmulatorOptions): Promise<MtprotoEmulator> {
    const emu = new MtprotoEmulator(options);
    for (let attempt = 0; attempt <= 50; attempt += 1) {
      const listeners = emu.dcIds.map((dcId, i) => emu.newListener(dcId, dcHost(i)));
      const port = await listenOnOnePort(listeners, attempt === 0 ? 0 : 10000 + Math.floor(Math.random() * 22768));
      if (port !== undefined) {
        emu.listeners = listeners;
        emu.boundPort = port;
        return emu;
      }
    }
    throw new Error(`MTProto emulator: no TCP port in 10000..${MAX_SESSION_PORT} free on every DC address`);
  }

  private newListener(dcId: number, host: string): DcListener {
    const server = net.createServer();
    const dc: DcListener = { dcId, host, server, handshakes: new Handshakes(this.rsaKey, (id) => this.keys.has(hex8(id))) };
    server.on('connection', (socket) => this.onConnection(dc, socket));
    return dc;
  }

  /** The first DC's port; every DC listens on it. */
  get port(): number {
    return this.boundPort;
  }

  /** Every DC, the first one first (what help.getConfig lists as dc_options). */
  get dcOptions(): DcAddress[] {
    return this.listeners.map((l) => ({ dcId: l.dcId, host: l.host, port: this.boundPort }));
  }

  /** Closes every connection and every DC's listener. Pending waits reject. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closed = Promise.all(this.listeners.map((l) => closeServer(l.server)));
    for (const conn of this.conns) this.closeConn(conn);
    this.notify();
    await closed;
  }

  // ------------------------------------------------------------ accounts and login

  /** Registers an account; phones are normalised to digits. With `password` it has 2FA (SRP). */
  addAccount(spec: AccountSpec): EmulatedAccount {
    return this.world.view(this.world.addAccount(spec));
  }

  /** The account of a phone (any format), or undefined. */
  account(phone: string): EmulatedAccount | undefined {
    const a = this.world.byPhone(phone);
    return a && this.world.view(a);
  }

  /** Sets or (undefined) removes an account's 2FA password. */
  setPassword(phone: string, password: string | undefined, hint?: string): void {
    this.world.setPassword(this.mustAccount(phone), password, hint);
  }

  /** Bans or unbans a phone (auth.sendCode: 400 PHONE_NUMBER_BANNED). */
  setBanned(phone: string, banned: boolean): void {
    this.mustAccount(phone).banned = banned;
  }

  /** The latest login code sent to a phone and still valid, or undefined. */
  codeFor(phone: string): string | undefined {
    const digits = normalizePhone(phone);
    const code = digits ? this.world.codes.get(digits) : undefined;
    return code && !code.expired ? code.code : undefined;
  }

  /** Resolves with the valid login code of a phone as soon as there is one (at once if already sent). */
  waitForCode(phone: string, options: WaitOptions = {}): Promise<string> {
    return this.waitFor(() => this.codeFor(phone), options, `a login code for ${phone}`);
  }

  /** Makes the current login code of a phone expire: signIn/signUp/resendCode answer 400 PHONE_CODE_EXPIRED. */
  expireCode(phone: string): void {
    const digits = normalizePhone(phone);
    const code = digits ? this.world.codes.get(digits) : undefined;
    if (!code) throw new Error(`no login code for ${phone}`);
    code.expired = true;
  }

  /** The next `times` (default 1) calls of a method answer 420 FLOOD_WAIT_<seconds>. */
  floodWait(spec: FloodWaitSpec): void {
    this.floods.push({ method: spec.method.toLowerCase(), seconds: spec.seconds, left: spec.times ?? 1 });
  }

  /**
   * Terminates every session of an account (as "Terminate all sessions" does): its auth keys stay
   * known but unauthorized, so the next call needing authorization gets 401 `error`
   * (default AUTH_KEY_UNREGISTERED; Telegram also uses SESSION_REVOKED).
   */
  revokeSessions(phone: string, error: 'AUTH_KEY_UNREGISTERED' | 'SESSION_REVOKED' = 'AUTH_KEY_UNREGISTERED'): number {
    const account = this.mustAccount(phone);
    let count = 0;
    for (const key of this.keys.values()) {
      if (key.userId === account.id) {
        delete key.userId;
        key.revokedError = error;
        count += 1;
      }
    }
    return count;
  }

  /**
   * Registers an auth key as if a client had just created it (for tests that skip the exchange or
   * need a given key length), optionally already authorized for an account. Returns its auth_key_id (hex).
   * The key must be canonical: 192..256 bytes, first byte non-zero. It belongs to DC `dcId`: by
   * default the account's home DC, else the first DC.
   */
  importAuthKey(key: Buffer, phone?: string, dcId?: number): string {
    if (key.length < 192 || key.length > 256 || key[0] === 0) throw new Error('an auth key is 192..256 bytes without leading zero');
    const account = phone !== undefined ? this.mustAccount(phone) : undefined;
    const dc = dcId ?? account?.dcId ?? this.dcId;
    if (!this.dcIds.includes(dc)) throw new Error(`no DC ${dc} in this emulator`);
    const id = Buffer.from(sha1(key).subarray(12, 20));
    const record: AuthKeyRecord = {
      dcId: dc, id, idHex: hex8(id), key: Buffer.from(key), salt: randomBytes(8), createdAt: Date.now(), temporary: false,
      sessions: new Map(),
    };
    if (account) record.userId = account.id;
    this.keys.set(record.idHex, record);
    return record.idHex;
  }

  /** The auth keys authorized for an account. */
  activeSessions(phone: string): ActiveSession[] {
    const account = this.mustAccount(phone);
    return [...this.keys.values()].filter((k) => k.userId === account.id).map((k) => ({
      authKeyId: k.idHex,
      dcId: k.dcId,
      userId: account.id,
      createdAt: k.createdAt,
      apiId: k.init?.apiId,
      deviceModel: k.init?.deviceModel,
      systemVersion: k.init?.systemVersion,
      appVersion: k.init?.appVersion,
      connected: [...this.conns].some((c) => c.key === k),
    }));
  }

  // ------------------------------------------------------------ QR login

  /**
   * As if the official app of `phone` scanned the QR code: `token` as auth.exportLoginToken gave it,
   * or base64url as in `tg://login?token=<base64url>` (the whole link also works). Same effect as the
   * auth.acceptLoginToken handler: the exporting key's sessions get updateShort(updateLoginToken) and
   * its next export logs in. Throws an Error whose message is the RPC error name (AUTH_TOKEN_INVALID,
   * AUTH_TOKEN_EXPIRED, AUTH_TOKEN_ALREADY_ACCEPTED). Returns the new session as that app would list it.
   */
  acceptLoginToken(phone: string, token: Buffer | string): Api.Authorization {
    const account = this.mustAccount(phone);
    const bytes = typeof token === 'string' ? Buffer.from(token.replace(/^tg:\/\/login\?token=/, ''), 'base64url') : token;
    try {
      return this.world.acceptLoginToken(account, bytes, (id, u) => this.pushToKeyId(id, u));
    } catch (err) {
      throw err instanceof RpcFailure ? new Error(err.errorMessage) : err;
    }
  }

  /** Every QR login token issued so far expires (accept: AUTH_TOKEN_EXPIRED; export issues a new one). Returns how many. */
  expireLoginTokens(): number {
    return this.world.expireLoginTokens();
  }

  // ------------------------------------------------------------ messages

  /** Every message sent, in order. */
  get sentMessages(): readonly SentMessageRecord[] {
    return this.world.sent;
  }

  /** Resolves with the first sent message (from index 0) matching `predicate`, waiting for it if needed. */
  waitForSentMessage(predicate: (m: SentMessageRecord) => boolean = () => true, options: WaitOptions = {}): Promise<SentMessageRecord> {
    return this.waitFor(() => this.world.sent.find(predicate), options, 'a sent message');
  }

  /**
   * A message from one emulated account to another, as if sent by an official app: stored and pushed
   * as updateShortMessage to the recipient's connected sessions.
   */
  deliverMessage(spec: { from: string; to: string; text: string }): SentMessageRecord {
    const from = this.mustAccount(spec.from);
    const to = this.mustAccount(spec.to);
    this.world.deliver(from, to, spec.text, { randomId: '', authKeyId: '', push: (id, u) => this.push(id, u) });
    return this.world.sent[this.world.sent.length - 1]!;
  }

  // ------------------------------------------------------------ requests and faults

  /**
   * Resolves with the `count`-th (default 1st) logged call of `method` (case-insensitive), on DC `dcId`
   * if given, waiting if needed.
   */
  waitForRequest(method: string, options: WaitOptions & { count?: number; dcId?: number } = {}): Promise<MtprotoRequestRecord> {
    const lower = method.toLowerCase();
    const count = options.count ?? 1;
    const matches = (r: MtprotoRequestRecord): boolean =>
      r.method.toLowerCase() === lower && (options.dcId === undefined || r.dcId === options.dcId);
    const where = options.dcId === undefined ? '' : ` on DC ${options.dcId}`;
    return this.waitFor(() => this.requests.filter(matches)[count - 1], options, `request ${method} #${count}${where}`);
  }

  /** Resolves with the first transport error sent (e.g. -404: unknown auth key), waiting if needed. */
  waitForTransportError(options: WaitOptions = {}): Promise<number> {
    return this.waitFor(() => this.transportErrors[0], options, 'a transport error');
  }

  /** Resolves once the server has read (and, unresponsive, ignored) at least `count` chunks while unresponsive. */
  waitForIgnoredReads(count = 1, options: WaitOptions = {}): Promise<number> {
    return this.waitFor(() => (this.stats.ignoredReads >= count ? this.stats.ignoredReads : undefined), options, `${count} ignored reads`);
  }

  /** Destroys every TCP connection (clients reconnect with their auth key). */
  dropConnections(): void {
    for (const conn of this.conns) this.closeConn(conn);
  }

  /** While true the server reads everything and answers nothing (for ping timeouts). */
  setUnresponsive(on: boolean): void {
    this.unresponsive = on;
  }

  /** Number of open TCP connections. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Number of auth keys the emulator knows (they live as long as the emulator). */
  get authKeyCount(): number {
    return this.keys.size;
  }

  // ------------------------------------------------------------ internals: waiting

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private waitFor<T>(check: () => T | undefined, options: WaitOptions, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { this.waiters.delete(run); reject(new Error(`MTProto emulator: timed out waiting for ${what}`)); },
        options.timeoutMs ?? DEFAULT_WAIT_MS);
      const run = (): void => {
        if (this.stopped) {
          clearTimeout(timer);
          this.waiters.delete(run);
          reject(new Error(`MTProto emulator stopped while waiting for ${what}`));
          return;
        }
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(run);
        resolve(value);
      };
      this.waiters.add(run);
      run();
    });
  }

  private mustAccount(phone: string): Account {
    const a = this.world.byPhone(phone);
    if (!a) throw new Error(`no account for ${phone}`);
    return a;
  }

  // ------------------------------------------------------------ internals: transport

  private onConnection(dc: DcListener, socket: net.Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn: Conn = { dc, socket, buf: Buffer.alloc(0), inSeq: 0, outSeq: 0 };
    this.conns.add(conn);
    this.stats.connections += 1;
    socket.on('data', (chunk: Buffer) => {
      if (this.unresponsive) {
        this.stats.ignoredReads += 1;
        this.notify();
        return;
      }
      conn.buf = conn.buf.length ? Buffer.concat([conn.buf, chunk]) : chunk;
      try {
        this.readPackets(conn);
      } catch (err) {
        console.error('MTProto emulator:', err instanceof Error ? err.stack : err);
        this.closeConn(conn);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.conns.delete(conn);
      if (conn.pingTimer) clearTimeout(conn.pingTimer);
      if (conn.session?.conn === conn) delete conn.session.conn;
    });
  }

  private closeConn(conn: Conn): void {
    if (conn.pingTimer) clearTimeout(conn.pingTimer);
    conn.socket.destroy();
    this.conns.delete(conn);
  }

  private readPackets(conn: Conn): void {
    if (!conn.framing) {
      if (conn.buf.length < 1) return;
      if (conn.buf[0] === 0xef) {
        conn.framing = 'abridged';
        conn.buf = conn.buf.subarray(1);
      } else {
        if (conn.buf.length < 4) return;
        const tag = conn.buf.readUInt32LE(0);
        if (tag === 0xeeeeeeee || tag === 0xdddddddd) {
          conn.framing = tag === 0xeeeeeeee ? 'intermediate' : 'padded';
          conn.buf = conn.buf.subarray(4);
        } else {
          conn.framing = 'full';
        }
      }
    }
    for (;;) {
      const packet = this.nextPacket(conn);
      if (packet === undefined) return;
      if (packet === null) {
        this.closeConn(conn);
        return;
      }
      this.onPacket(conn, packet);
      if (conn.socket.destroyed) return;
    }
  }

  /** The next payload, undefined when incomplete, null on a framing error (the connection is closed). */
  private nextPacket(conn: Conn): Buffer | undefined | null {
    const buf = conn.buf;
    switch (conn.framing) {
      case 'full': {
        if (buf.length < 4) return undefined;
        const len = buf.readUInt32LE(0);
        if (len < 12 || len > MAX_PACKET || len % 4) return null;
        if (buf.length < len) return undefined;
        const seq = buf.readInt32LE(4);
        const crc = buf.readUInt32LE(len - 4);
        if (crc !== crc32(buf.subarray(0, len - 4)) || seq !== conn.inSeq) return null;
        conn.inSeq += 1;
        conn.buf = buf.subarray(len);
        return buf.subarray(8, len - 4);
      }
      case 'intermediate':
      case 'padded': {
        if (buf.length < 4) return undefined;
        const len = buf.readUInt32LE(0) & 0x7fffffff;
        if (len > MAX_PACKET) return null;
        if (buf.length < 4 + len) return undefined;
        conn.buf = buf.subarray(4 + len);
        const payload = buf.subarray(4, 4 + len);
        return conn.framing === 'padded' ? payload.subarray(0, payload.length - (payload.length % 4)) : payload;
      }
      case 'abridged': {
        if (buf.length < 1) return undefined;
        let words = buf[0]! & 0x7f;
        let head = 1;
        if (words === 0x7f) {
          if (buf.length < 4) return undefined;
          words = buf.readUIntLE(1, 3);
          head = 4;
        }
        const len = words * 4;
        if (len > MAX_PACKET) return null;
        if (buf.length < head + len) return undefined;
        conn.buf = buf.subarray(head + len);
        return buf.subarray(head, head + len);
      }
      default:
        return null;
    }
  }

  private writePacket(conn: Conn, payload: Buffer): void {
    if (conn.socket.destroyed || this.unresponsive) return;
    let frame: Buffer;
    switch (conn.framing) {
      case 'intermediate':
      case 'padded':
        frame = Buffer.concat([uint32(payload.length), payload]);
        break;
      case 'abridged': {
        const words = payload.length / 4;
        const head = words < 0x7f ? Buffer.from([words]) : Buffer.concat([Buffer.from([0x7f]), uint32(words).subarray(0, 3)]);
        frame = Buffer.concat([head, payload]);
        break;
      }
      default: {
        const head = Buffer.concat([uint32(payload.length + 12), int32(conn.outSeq)]);
        conn.outSeq += 1;
        const body = Buffer.concat([head, payload]);
        frame = Buffer.concat([body, uint32(crc32(body))]);
      }
    }
    conn.socket.write(frame);
  }

  /** A transport error (core.telegram.org/mtproto/mtproto-transports#transport-errors): a 4-byte payload. */
  private transportError(conn: Conn, code: number): void {
    this.stats.transportErrors += 1;
    this.transportErrors.push(code);
    this.writePacket(conn, int32(code));
    this.notify();
  }

  private onPacket(conn: Conn, packet: Buffer): void {
    if (packet.length < 8) {
      this.closeConn(conn);
      return;
    }
    const keyId = packet.subarray(0, 8);
    if (keyId.every((b) => b === 0)) {
      this.onPlain(conn, packet);
      return;
    }
    const key = this.keys.get(hex8(keyId));
    // A key is known only to the DC that made it (GramJS makes a new one when it switches DC).
    if (!key || key.dcId !== conn.dc.dcId) {
      this.transportError(conn, -404);
      return;
    }
    this.onEncrypted(conn, key, packet);
  }

  // ------------------------------------------------------------ internals: plain messages (auth key exchange)

  private onPlain(conn: Conn, packet: Buffer): void {
    if (packet.length < 20) return this.transportError(conn, -404);
    const length = packet.readInt32LE(16);
    if (length < 0 || 20 + length > packet.length) return this.transportError(conn, -404);
    try {
      const { reply, key } = conn.dc.handshakes.handle(packet.subarray(20, 20 + length));
      if (key) {
        const record: AuthKeyRecord = {
          dcId: conn.dc.dcId, id: key.id, idHex: hex8(key.id), key: key.key, salt: key.salt, createdAt: Date.now(), temporary: key.temporary,
          sessions: new Map(),
        };
        this.keys.set(record.idHex, record);
        this.stats.authKeysCreated += 1;
      }
      const msgId = this.serverMsgId(undefined, true);
      this.writePacket(conn, Buffer.concat([Buffer.alloc(8), int64(msgId), int32(reply.length), reply]));
    } catch (err) {
      if (!(err instanceof HandshakeError)) throw err;
      this.transportError(conn, -404);
    }
  }

  // ------------------------------------------------------------ internals: encrypted messages

  private lastPlainMsgId = 0n;

  /** Server msg_id: unixtime << 32 plus a fraction, ≡ 1 mod 4 for responses, 3 otherwise, increasing per session. */
  private serverMsgId(session: Session | undefined, response: boolean): bigint {
    const ms = Date.now();
    let id = (BigInt(Math.floor(ms / 1000)) << 32n) | (BigInt(Math.floor(((ms % 1000) / 1000) * 2 ** 32)) & ~3n);
    id |= response ? 1n : 3n;
    const last = session ? session.lastMsgId : this.lastPlainMsgId;
    if (id <= last) id = (last & ~3n) + 4n + (response ? 1n : 3n);
    if (session) session.lastMsgId = id; else this.lastPlainMsgId = id;
    return id;
  }

  private onEncrypted(conn: Conn, key: AuthKeyRecord, packet: Buffer): void {
    if (packet.length < 24 + 32 || (packet.length - 24) % 16) return this.transportError(conn, -404);
    const msgKey = packet.subarray(8, 24);
    const { key: aesKey, iv } = messageKeys(key.key, msgKey, 0);
    const plain = igeDecrypt(packet.subarray(24), aesKey, iv);
    if (!messageKey(key.key, plain, 0).equals(msgKey)) return this.transportError(conn, -404);
    const salt = plain.subarray(0, 8);
    const sessionId = plain.subarray(8, 16);
    const msgId = plain.readBigInt64LE(16);
    const seqNo = plain.readInt32LE(24);
    const length = plain.readInt32LE(28);
    const padding = plain.length - 32 - length;
    if (length < 0 || length % 4 || padding < 12 || padding > 1024) return this.transportError(conn, -404);
    const body = plain.subarray(32, 32 + length);

    const sid = hex8(sessionId);
    let session = key.sessions.get(sid);
    if (!session) {
      session = { id: Buffer.from(sessionId), created: false, lastMsgId: 0n, seq: 0, seen: new Set() };
      key.sessions.set(sid, session);
    }
    session.conn = conn;
    conn.key = key;
    conn.session = session;
    const out: OutMessage[] = [];
    const service = (obj: { getBytes(): Buffer }): void => { out.push({ body: obj.getBytes(), response: true, contentRelated: false }); };

    // msg_id checks (core.telegram.org/mtproto/service_messages_about_messages): 16 too low, 17 too high, 18 not ≡ 0 mod 4.
    const nowS = BigInt(Math.floor(Date.now() / 1000));
    const msgTime = msgId >> 32n;
    const badMsg = (errorCode: number): void => service(new Api.BadMsgNotification({ badMsgId: bigInt(msgId.toString()), badMsgSeqno: seqNo, errorCode }));
    if (msgId % 4n !== 0n) badMsg(18);
    else if (msgTime < nowS - 300n) badMsg(16);
    else if (msgTime > nowS + 30n) badMsg(17);
    else if (session.seen.has(msgId)) return; // a duplicate: already answered
    else if (!salt.equals(key.salt)) {
      this.stats.badServerSalt += 1;
      service(new Api.BadServerSalt({
        badMsgId: bigInt(msgId.toString()), badMsgSeqno: seqNo, errorCode: 48, newServerSalt: bigInt(key.salt.readBigInt64LE(0).toString()),
      }));
    } else {
      if (!session.created) {
        session.created = true;
        this.stats.newSessions += 1;
        out.push({
          body: Buffer.concat([uint32(C_NEW_SESSION), int64(msgId), randomBytes(8), key.salt]),
          response: false,
          contentRelated: true,
        });
      }
      this.remember(session, msgId);
      this.process(conn, key, session, msgId, body, out, true);
    }
    if (out.length) this.sendEncrypted(conn, key, session, out);
  }

  private remember(session: Session, msgId: bigint): void {
    session.seen.add(msgId);
    if (session.seen.size > 2000) session.seen.delete(session.seen.values().next().value!);
  }

  private process(conn: Conn, key: AuthKeyRecord, session: Session, msgId: bigint, body: Buffer, out: OutMessage[], top: boolean): void {
    if (body.length < 4) return;
    const cid = body.readUInt32LE(0);
    switch (cid) {
      case C_CONTAINER: {
        if (!top) return;
        const count = body.readInt32LE(4);
        let offset = 8;
        for (let i = 0; i < count && offset + 16 <= body.length; i += 1) {
          const innerId = body.readBigInt64LE(offset);
          const len = body.readInt32LE(offset + 12);
          const inner = body.subarray(offset + 16, offset + 16 + len);
          offset += 16 + len;
          if (session.seen.has(innerId)) continue;
          this.remember(session, innerId);
          this.process(conn, key, session, innerId, inner, out, false);
        }
        return;
      }
      case C_GZIP:
        this.stats.gzipIn += 1;
        this.process(conn, key, session, msgId, gunzipSync(readTlBytes(body, 4)), out, false);
        return;
      case C_MSGS_ACK:
        this.stats.acksReceived += Math.max(0, body.readInt32LE(8));
        return;
      case C_PING:
      case C_PING_DELAY: {
        this.stats.pings += 1;
        const pingId = body.subarray(4, 12);
        out.push({ body: Buffer.concat([uint32(C_PONG), int64(msgId), pingId]), response: true, contentRelated: true });
        if (cid === C_PING_DELAY) {
          // ping_delay_disconnect: close the connection if no other ping comes within disconnect_delay s.
          const delay = body.readInt32LE(12);
          if (conn.pingTimer) clearTimeout(conn.pingTimer);
          conn.pingTimer = setTimeout(() => this.closeConn(conn), delay * 1000);
          conn.pingTimer.unref();
        }
        return;
      }
      default:
        out.push({ body: this.rpc(key, session, msgId, body), response: true, contentRelated: true });
    }
  }

  private rpc(key: AuthKeyRecord, session: Session, msgId: bigint, body: Buffer): Buffer {
    const head = Buffer.concat([uint32(C_RPC_RESULT), int64(msgId)]);
    const error = (code: number, message: string): Buffer =>
      Buffer.concat([head, new Api.RpcError({ errorCode: code, errorMessage: message }).getBytes()]);
    let request: { className: string; query?: unknown };
    try {
      request = new BinaryReader(body).tgReadObject() as typeof request;
    } catch {
      this.log(key, session, `#${body.readUInt32LE(0).toString(16)}`, 'INPUT_CONSTRUCTOR_INVALID', 400);
      return error(400, 'INPUT_CONSTRUCTOR_INVALID');
    }
    for (;;) {
      if (request instanceof Api.InvokeWithLayer) {
        key.layer = request.layer;
      } else if (request instanceof Api.InitConnection) {
        key.init = { apiId: request.apiId, deviceModel: request.deviceModel, systemVersion: request.systemVersion, appVersion: request.appVersion };
      } else if (!(request instanceof Api.InvokeWithoutUpdates || request instanceof Api.InvokeAfterMsg
        || request instanceof Api.InvokeAfterMsgs || request instanceof Api.InvokeWithMessagesRange
        || request instanceof Api.InvokeWithTakeout)) {
        break;
      }
      request = request.query as typeof request;
    }
    const method = request.className;
    const lower = method.toLowerCase();
    const flood = this.floods.find((f) => f.left > 0 && (f.method === lower || f.method === '*'));
    if (flood) {
      flood.left -= 1;
      this.log(key, session, method, `FLOOD_WAIT_${flood.seconds}`, 420);
      return error(420, `FLOOD_WAIT_${flood.seconds}`);
    }
    const userBefore = key.userId;
    const ctx: CallContext = {
      key, apiId: key.init?.apiId, dcId: key.dcId, dcOptions: this.dcOptions,
      push: (userId, update) => this.push(userId, update),
      pushToKey: (keyIdHex, update) => this.pushToKeyId(keyIdHex, update),
    };
    try {
      const result = serializeResult(this.world.call(ctx, request));
      this.log(key, session, method, undefined, undefined, userBefore);
      let payload = result;
      if (result.length > GZIP_OVER) {
        this.stats.gzipOut += 1;
        payload = Buffer.concat([uint32(C_GZIP), tlBytes(gzipSync(result))]);
      }
      return Buffer.concat([head, payload]);
    } catch (err) {
      if (!(err instanceof RpcFailure)) {
        console.error('MTProto emulator: method', method, 'failed:', err instanceof Error ? err.stack : err);
        this.log(key, session, method, 'INTERNAL', 500, userBefore);
        return error(500, 'INTERNAL');
      }
      this.log(key, session, method, err.errorMessage, err.code, userBefore);
      return error(err.code, err.errorMessage);
    }
  }

  private log(key: AuthKeyRecord, session: Session, method: string, error?: string, code?: number, userId = key.userId): void {
    const account = userId !== undefined ? this.world.accounts.get(userId) : undefined;
    this.requests.push({
      method, dcId: key.dcId, authKeyId: key.idHex, sessionId: hex8(session.id), userId, phone: account?.phone,
      error: error ? `${code} ${error}` : undefined, layer: key.layer, at: Date.now(),
    });
    this.notify();
  }

  /** Sends an Updates object to every connected session of every key authorized as the user. */
  private push(userId: number, update: Api.TypeUpdates): void {
    const body = update.getBytes();
    for (const key of this.keys.values()) if (key.userId === userId) this.pushToKey(key, body);
  }

  /** By auth_key_id: updateLoginToken goes to a key that is not authorized yet, so push() cannot reach it. */
  private pushToKeyId(keyIdHex: string, update: Api.TypeUpdates): void {
    const key = this.keys.get(keyIdHex);
    if (key) this.pushToKey(key, update.getBytes());
  }

  /** Sends a serialized Updates object to every connected session of one key. */
  private pushToKey(key: AuthKeyRecord, body: Buffer): void {
    for (const session of key.sessions.values()) {
      if (session.conn && !session.conn.socket.destroyed && session.conn.session === session) {
        this.sendEncrypted(session.conn, key, session, [{ body, response: false, contentRelated: true }]);
      }
    }
  }

  private sendEncrypted(conn: Conn, key: AuthKeyRecord, session: Session, messages: OutMessage[]): void {
    const seqNo = (contentRelated: boolean): number => {
      if (!contentRelated) return session.seq * 2;
      session.seq += 1;
      return session.seq * 2 - 1;
    };
    let msgId: bigint;
    let seq: number;
    let body: Buffer;
    if (messages.length === 1) {
      const m = messages[0]!;
      msgId = this.serverMsgId(session, m.response);
      seq = seqNo(m.contentRelated);
      body = m.body;
    } else {
      const parts = messages.map((m) => {
        const id = this.serverMsgId(session, m.response);
        return Buffer.concat([int64(id), int32(seqNo(m.contentRelated)), int32(m.body.length), m.body]);
      });
      body = Buffer.concat([uint32(C_CONTAINER), int32(messages.length), ...parts]);
      msgId = this.serverMsgId(session, false);
      seq = seqNo(false);
    }
    const data = Buffer.concat([key.salt, session.id, int64(msgId), int32(seq), int32(body.length), body]);
    const padLen = 12 + ((16 - ((data.length + 12) % 16)) % 16);
    const plain = Buffer.concat([data, randomBytes(padLen)]);
    const msgKey = messageKey(key.key, plain, 8);
    const { key: aesKey, iv } = messageKeys(key.key, msgKey, 8);
    this.writePacket(conn, Buffer.concat([key.id, msgKey, igeEncrypt(plain, aesKey, iv)]));
  }
}
