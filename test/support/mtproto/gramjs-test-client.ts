/**
 * How a real GramJS TelegramClient reaches the MTProto emulator (see README.md):
 *
 *   trustEmulatorKey(emu);                                  // once per process (idempotent)
 *   const session = new StringSession(saved ?? '');
 *   if (!saved) session.setDC(emu.dcId, emu.host, emu.port);
 *   const client = new TelegramClient(session, apiId, apiHash, {
 *     connection: forcedPortConnection(emu.port),           // GramJS dials port 80 otherwise
 *     useWSS: false, connectionRetries: 2, retryDelay: 100, requestRetries: 2,
 *     autoReconnect: true, floodSleepThreshold: 0, baseLogger: quietLogger(),
 *   });
 *   assert.equal(await client.connect(), true);
 *
 * `emulatorClient(emu, options)` does all of that.
 */
import bigInt from 'big-integer';
import { TelegramClient } from 'telegram';
import { randomBytes } from 'node:crypto';
import { AuthKey } from 'telegram/crypto/AuthKey.js';
import { _serverKeys } from 'telegram/crypto/RSA.js';
import { Logger, LogLevel } from 'telegram/extensions/Logger.js';
import { ConnectionTCPFull } from 'telegram/network/index.js';
import { StringSession } from 'telegram/sessions/index.js';

/** What the helpers need of the emulator (its RSA key and addresses). */
export interface EmulatorEndpoint {
  readonly rsaKey: { readonly n: Buffer; readonly e: number; readonly fingerprint: string };
  /** The first DC. */
  readonly dcId: number;
  readonly host: string;
  readonly port: number;
  /** Every DC (all on `port`). */
  readonly dcOptions: readonly { readonly dcId: number; readonly host: string; readonly port: number }[];
}

/**
 * Registers the emulator's RSA public key in GramJS's `_serverKeys` (a process-wide Map keyed by
 * the fingerprint as a signed 64-bit decimal string, n as a big-integer), so the client accepts the
 * emulator in the auth key exchange. The key is generated once per process: calling again is harmless.
 */
export function trustEmulatorKey(emu: Pick<EmulatorEndpoint, 'rsaKey'>): void {
  _serverKeys.set(emu.rsaKey.fingerprint, { n: bigInt(emu.rsaKey.n.toString('hex'), 16), e: emu.rsaKey.e });
}

/** Constructor arguments of GramJS connections (ConnectionTCPFull's own parameter type). */
type ConnectionParams = ConstructorParameters<typeof ConnectionTCPFull>[0];

/**
 * A ConnectionTCPFull subclass that always dials `port`: TelegramClient.connect() passes port 80
 * (443 with useWSS) whatever session.setDC said. Pass it as the `connection` client option. The IP
 * is the session's (so GramJS can switch DC: each emulated DC has its own 127.0.0.x) unless `host`
 * pins one.
 */
export function forcedPortConnection(port: number, host?: string): typeof ConnectionTCPFull {
  return class EmulatorConnection extends ConnectionTCPFull {
    constructor(params: ConnectionParams) {
      super({ ...params, ip: host ?? params.ip, port });
    }
  };
}

/** The address of one of the emulator's DCs. */
function dcAddress(emu: EmulatorEndpoint, dcId: number): { dcId: number; host: string; port: number } {
  const dc = emu.dcOptions.find((o) => o.dcId === dcId);
  if (!dc) throw new Error(`the emulator has no DC ${dcId}`);
  return dc;
}

/** A GramJS logger that prints nothing. */
export function quietLogger(): Logger {
  return new Logger(LogLevel.NONE);
}

export interface EmulatorClientOptions {
  apiId: number;
  apiHash: string;
  /** A saved StringSession (`client.session.save()`); a new session is pointed at the emulator. */
  session?: string;
  /** The DC a new session starts on (default the emulator's first DC). */
  dcId?: number;
  /** GramJS sleeps on FLOOD_WAIT up to this many seconds instead of throwing (default 0: always throw). */
  floodSleepThreshold?: number;
}

/** A TelegramClient configured for the emulator (not connected yet). Trusts the emulator's key. */
export function emulatorClient(emu: EmulatorEndpoint, options: EmulatorClientOptions): TelegramClient {
  trustEmulatorKey(emu);
  const session = new StringSession(options.session ?? '');
  if (!options.session) {
    const dc = dcAddress(emu, options.dcId ?? emu.dcId);
    session.setDC(dc.dcId, dc.host, dc.port);
  }
  return new TelegramClient(session, options.apiId, options.apiHash, {
    connection: forcedPortConnection(emu.port),
    useWSS: false,
    connectionRetries: 2,
    retryDelay: 100,
    requestRetries: 2,
    autoReconnect: true,
    floodSleepThreshold: options.floodSleepThreshold ?? 0,
    baseLogger: quietLogger(),
    deviceModel: 'tgpbx-test',
    systemVersion: 'test',
    appVersion: '0.0.0',
  });
}

/**
 * A saved StringSession for the emulator whose auth key is registered there directly (no key exchange),
 * authorized for `phone` when given: a client built from it is logged in at once. The key and the
 * session are on the account's home DC (without `phone`: the first DC). `keyLength` 255 gives the
 * short key GramJS keeps when g^ab mod p has a zero top byte.
 */
export async function authorizedSession(
  emu: EmulatorEndpoint & {
    importAuthKey(key: Buffer, phone?: string, dcId?: number): string;
    account(phone: string): { readonly dcId: number } | undefined;
  },
  phone?: string,
  keyLength: 255 | 256 = 256,
): Promise<string> {
  const key = randomBytes(keyLength);
  if (key[0] === 0) key[0] = 1;
  const dc = dcAddress(emu, (phone !== undefined ? emu.account(phone)?.dcId : undefined) ?? emu.dcId);
  emu.importAuthKey(key, phone, dc.dcId);
  const session = new StringSession('');
  session.setDC(dc.dcId, dc.host, dc.port);
  const authKey = new AuthKey();
  await authKey.setKey(key);
  session.setAuthKey(authKey);
  return session.save();
}

/** Rejects if `promise` does not settle within `ms` (GramJS failures hang rather than throw). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The RPC error of a rejected GramJS call as 'CODE MESSAGE' (e.g. '400 PHONE_CODE_INVALID'), or its message. */
export function rpcErrorOf(err: unknown): string {
  const e = err as { code?: number; errorMessage?: string; message?: string };
  return e.errorMessage ? `${e.code} ${e.errorMessage}` : String(e.message ?? err);
}
