/**
 * What the MTProto emulator knows besides the protocol: accounts, login codes, 2FA (SRP),
 * authorizations bound to auth keys, messages and update state (pts), and the API methods
 * that read and change them. Replies are GramJS's own TL classes (`Api.*`).
 */
import { pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { TELEGRAM_PRIME, TELEGRAM_PRIME_BIG, bigToBuf, bufToBig, modPow, randomBig, sha256 } from './crypto.js';

/** An RPC error as Telegram sends it: `rpc_error error_code error_message`. */
export class RpcFailure extends Error {
  constructor(readonly code: number, readonly errorMessage: string) {
    super(`${code} ${errorMessage}`);
  }
}

/** Options of `MtprotoEmulator.addAccount`. */
export interface AccountSpec {
  /** E.164 with or without '+', spaces/dashes allowed; stored as digits. */
  phone: string;
  firstName: string;
  lastName?: string;
  /** Without '@'. */
  username?: string;
  /** 2FA password (SRP, g = 3 by default). */
  password?: string;
  /** The 2FA password hint shown by account.getPassword. */
  passwordHint?: string;
  /** auth.sendCode answers 400 PHONE_NUMBER_BANNED. */
  banned?: boolean;
  /**
   * auth.sendCode answers auth.sentCodeTypeSetUpEmailRequired: Telegram wants a login email
   * set up before it sends codes to this account (core.telegram.org/api/auth#email-verification).
   */
  loginEmailRequired?: boolean;
  /** User id (default: allocated from 1000001 upwards). */
  id?: number;
  /** The account's home data center, where it logs in (default: the emulator's first DC). */
  dcId?: number;
}

/** An account as the emulator stores it (read-only view for tests). */
export interface EmulatedAccount {
  readonly id: number;
  /** The access_hash every viewer sees (Telegram's is per viewer; one is enough here). */
  readonly accessHash: string;
  readonly phone: string;
  readonly firstName: string;
  readonly lastName?: string;
  readonly username?: string;
  readonly hasPassword: boolean;
  readonly banned: boolean;
  /** Home data center: logins elsewhere get 303 PHONE_MIGRATE_<dcId>. */
  readonly dcId: number;
}

/** A message sent through messages.sendMessage (or injected with `deliverMessage`). */
export interface SentMessageRecord {
  /** Message id in the sender's box. */
  readonly id: number;
  readonly fromUserId: number;
  readonly fromPhone: string;
  readonly toUserId: number;
  readonly toPhone: string;
  readonly text: string;
  /** Unix time (s). */
  readonly date: number;
  /** random_id as a decimal string ('' for injected messages). */
  readonly randomId: string;
  /** auth_key_id (hex) of the sending client ('' for injected messages). */
  readonly authKeyId: string;
}

interface PasswordRecord {
  salt1: Buffer;
  salt2: Buffer;
  g: number;
  v: bigint;
  hint?: string;
}

interface MessageEvent {
  pts: number;
  id: number;
  out: boolean;
  peerUserId: number;
  fromUserId: number;
  text: string;
  date: number;
}

export interface Account {
  id: number;
  accessHash: bigInt.BigInteger;
  phone: string;
  firstName: string;
  lastName?: string;
  username?: string;
  banned: boolean;
  loginEmailRequired: boolean;
  dcId: number;
  password?: PasswordRecord;
  pts: number;
  nextMessageId: number;
  events: MessageEvent[];
  randomIds: Set<string>;
}

export interface LoginCode {
  phone: string;
  code: string;
  hash: string;
  expired: boolean;
  issuedAt: number;
  attempts: number;
  /** auth.resendCode may still send it another way (the SentCode's next_type); else SEND_CODE_UNAVAILABLE. */
  resendable: boolean;
}

/** What a client said about itself in initConnection. */
export interface ClientInit {
  apiId: number;
  deviceModel: string;
  systemVersion: string;
  appVersion: string;
}

/** A QR login token (core.telegram.org/api/qr-login), exported by a key that is logging in. */
export interface LoginTokenRecord {
  readonly token: Buffer;
  /** The exporting key: it gets updateLoginToken and, on its next export, the authorization. */
  readonly key: KeyState;
  /** api_id of the export (the session's app when initConnection said nothing). */
  readonly apiId: number;
  /** Unix time (s). */
  readonly expires: number;
  /** Set by `expireLoginTokens` (a token also expires with the clock). */
  expired: boolean;
  /** The user whose app accepted (scanned) it. */
  acceptedBy?: number;
}

/** The per-auth-key facts the methods need (the emulator keeps the rest). */
export interface KeyState {
  readonly idHex: string;
  userId?: number;
  /** From initConnection (the device a new session is shown as). */
  init?: ClientInit;
  /** The QR login token this key exported last: a new export replaces it. */
  loginToken?: LoginTokenRecord;
  /** Set by revokeSessions / logOut: the error every call needing authorization gets. */
  revokedError?: string;
  /** After SESSION_PASSWORD_NEEDED: the account waiting for auth.checkPassword on this key. */
  passwordUserId?: number;
  srp?: { id: string; b: bigint; B: bigint; userId: number };
}

/** Where a data center of the emulator listens. */
export interface DcAddress {
  readonly dcId: number;
  readonly host: string;
  readonly port: number;
}

/** What a method handler sees of the call. */
export interface CallContext {
  readonly key: KeyState;
  readonly apiId?: number;
  /** The DC answering (the one the key belongs to). */
  readonly dcId: number;
  /** Every DC of the emulator, the first one first. */
  readonly dcOptions: readonly DcAddress[];
  /** Pushes an Updates object to every connected session authorized as this user. */
  readonly push: (userId: number, update: Api.TypeUpdates) => void;
  /** Pushes an Updates object to every connected session of one key, authorized or not. */
  readonly pushToKey: (keyIdHex: string, update: Api.TypeUpdates) => void;
}

/** Methods that work on a key not (yet) authorized (core.telegram.org/api/auth "unauthenticated connection"). */
const WITHOUT_AUTH = new Set([
  'auth.sendcode', 'auth.signin', 'auth.signup', 'auth.resendcode', 'auth.cancelcode', 'auth.checkpassword',
  'auth.exportlogintoken', 'auth.importlogintoken', 'auth.importbotauthorization', 'auth.importauthorization',
  'account.getpassword',
  'help.getconfig', 'help.getnearestdc', 'help.getcountrieslist', 'langpack.getlangpack', 'langpack.getstrings',
  'langpack.getlanguages', 'destroysession', 'rpcdropanswer', 'getfuturesalts',
]);

const USERNAME_RE = /^[a-zA-Z][a-zA-Z0-9_]{3,31}$/;
const SRP_G = 3;

export function normalizePhone(phone: string): string | undefined {
  if (!/^\+?[\d\s().-]+$/.test(phone.trim())) return undefined;
  const digits = phone.replace(/\D/g, '');
  return digits.length >= 7 && digits.length <= 15 ? digits : undefined;
}

/** SRP password hash PH2 (core.telegram.org/api/srp). */
function ph2(password: string, salt1: Buffer, salt2: Buffer): Buffer {
  const sh = (data: Buffer, salt: Buffer): Buffer => sha256(salt, data, salt);
  const ph1 = sh(sh(Buffer.from(password, 'utf8'), salt1), salt2);
  return sh(pbkdf2Sync(ph1, salt1, 100000, 64, 'sha512'), salt2);
}

const pad256 = (n: bigint): Buffer => bigToBuf(n, 256);
const now = (): number => Math.floor(Date.now() / 1000);

/** The settings a World is made with. */
export interface WorldOptions {
  /** The api_id / api_hash auth.sendCode and auth.exportLoginToken accept. */
  apiId: number;
  apiHash: string;
  /** The emulator's DC ids, the default home DC first. */
  dcIds: readonly number[];
  /** Lifetime of a QR login token (s). */
  loginTokenSeconds?: number;
}

export class World {
  readonly accounts = new Map<number, Account>();
  readonly codes = new Map<string, LoginCode>();
  readonly sent: SentMessageRecord[] = [];
  /** Live QR login tokens by hex; a replaced or used token is removed (AUTH_TOKEN_INVALID). */
  readonly loginTokens = new Map<string, LoginTokenRecord>();
  private nextUserId = 1000001;
  private readonly apiId: number;
  private readonly apiHash: string;
  private readonly dcIds: readonly number[];
  private readonly loginTokenSeconds: number;

  constructor(options: WorldOptions, private readonly onChange: () => void) {
    this.apiId = options.apiId;
    this.apiHash = options.apiHash;
    this.dcIds = options.dcIds;
    this.loginTokenSeconds = options.loginTokenSeconds ?? 30;
  }

  // ------------------------------------------------------------ accounts

  addAccount(spec: AccountSpec): Account {
    const phone = normalizePhone(spec.phone);
    if (!phone) throw new Error(`invalid phone ${spec.phone}`);
    if (this.byPhone(phone)) throw new Error(`phone ${phone} already has an account`);
    if (spec.username && !USERNAME_RE.test(spec.username)) throw new Error(`invalid username ${spec.username}`);
    if (spec.username && this.byUsername(spec.username)) throw new Error(`username ${spec.username} is taken`);
    const id = spec.id ?? this.nextUserId;
    if (this.accounts.has(id)) throw new Error(`user id ${id} is taken`);
    const dcId = spec.dcId ?? this.dcIds[0]!;
    if (!this.dcIds.includes(dcId)) throw new Error(`no DC ${dcId} in this emulator (${this.dcIds.join(', ')})`);
    this.nextUserId = Math.max(this.nextUserId, id + 1);
    const account: Account = {
      id,
      accessHash: bigInt(randomBig(7).toString()),
      phone,
      firstName: spec.firstName,
      lastName: spec.lastName,
      username: spec.username,
      banned: spec.banned ?? false,
      loginEmailRequired: spec.loginEmailRequired ?? false,
      dcId,
      pts: 1,
      nextMessageId: 1,
      events: [],
      randomIds: new Set(),
    };
    if (spec.password !== undefined) this.setPassword(account, spec.password, spec.passwordHint);
    this.accounts.set(id, account);
    return account;
  }

  setPassword(account: Account, password: string | undefined, hint?: string): void {
    if (password === undefined) {
      delete account.password;
      return;
    }
    const salt1 = randomBytes(40);
    const salt2 = randomBytes(16);
    const x = bufToBig(ph2(password, salt1, salt2));
    account.password = { salt1, salt2, g: SRP_G, v: modPow(BigInt(SRP_G), x, TELEGRAM_PRIME_BIG), hint };
  }

  byPhone(phone: string): Account | undefined {
    const digits = normalizePhone(phone);
    for (const a of this.accounts.values()) if (a.phone === digits) return a;
    return undefined;
  }

  byUsername(username: string): Account | undefined {
    const lower = username.replace(/^@/, '').toLowerCase();
    for (const a of this.accounts.values()) if (a.username?.toLowerCase() === lower) return a;
    return undefined;
  }

  view(account: Account): EmulatedAccount {
    return {
      id: account.id,
      accessHash: account.accessHash.toString(),
      phone: account.phone,
      firstName: account.firstName,
      lastName: account.lastName,
      username: account.username,
      hasPassword: account.password !== undefined,
      banned: account.banned,
      dcId: account.dcId,
    };
  }

  userObject(account: Account, viewerId: number | undefined): Api.User {
    const self = account.id === viewerId;
    return new Api.User({
      id: bigInt(account.id),
      self,
      accessHash: account.accessHash,
      firstName: account.firstName,
      lastName: account.lastName,
      username: account.username,
      phone: self ? account.phone : undefined,
      status: new Api.UserStatusRecently({}),
    });
  }

  // ------------------------------------------------------------ login codes

  issueCode(phone: string, keepHash?: string): LoginCode {
    const code: LoginCode = {
      phone,
      code: String(randomInt(10000, 100000)),
      hash: keepHash ?? randomBytes(9).toString('hex'),
      expired: false,
      issuedAt: Date.now(),
      attempts: 0,
      resendable: false,
    };
    this.codes.set(phone, code);
    this.onChange();
    return code;
  }

  /** auth.signIn's checks of phone, phone_code_hash and code. */
  checkCode(phoneNumber: string, hash: string, phoneCode: string | undefined): { phone: string; code: LoginCode } {
    const phone = normalizePhone(phoneNumber);
    if (!phone) throw new RpcFailure(406, 'PHONE_NUMBER_INVALID');
    if (!hash) throw new RpcFailure(400, 'PHONE_CODE_HASH_EMPTY');
    if (!phoneCode) throw new RpcFailure(400, 'PHONE_CODE_EMPTY');
    const code = this.codes.get(phone);
    if (!code || code.hash !== hash || code.expired) throw new RpcFailure(400, 'PHONE_CODE_EXPIRED');
    if (code.code !== phoneCode) {
      code.attempts += 1;
      throw new RpcFailure(400, 'PHONE_CODE_INVALID');
    }
    return { phone, code };
  }

  /** auth.signUp carries no code: the hash of the code signIn accepted (sign-up required) must still be live. */
  checkSignUpHash(phoneNumber: string, hash: string): string {
    const phone = normalizePhone(phoneNumber);
    if (!phone) throw new RpcFailure(406, 'PHONE_NUMBER_INVALID');
    if (!hash) throw new RpcFailure(400, 'PHONE_CODE_HASH_EMPTY');
    const live = this.codes.get(phone);
    if (!live || live.hash !== hash || live.expired) throw new RpcFailure(400, 'PHONE_CODE_EXPIRED');
    return phone;
  }

  /**
   * A phone logs in on its account's home DC only: elsewhere 303 PHONE_MIGRATE_<home>
   * (core.telegram.org/api/datacenter). A number without an account may ask anywhere.
   */
  requireHomeDc(ctx: CallContext, phoneNumber: string): void {
    const account = this.byPhone(phoneNumber);
    if (account && account.dcId !== ctx.dcId) throw new RpcFailure(303, `PHONE_MIGRATE_${account.dcId}`);
  }

  // ------------------------------------------------------------ QR login (core.telegram.org/api/qr-login)

  /** auth.exportLoginToken: the login a scanned token allows, else a fresh token replacing the key's last one. */
  exportLoginToken(ctx: CallContext, req: Api.auth.ExportLoginToken): Api.auth.TypeLoginToken {
    this.checkApp(req.apiId, req.apiHash);
    const record = ctx.key.loginToken;
    if (record?.acceptedBy === undefined) return this.issueLoginToken(ctx.key, req.apiId);
    const account = this.accounts.get(record.acceptedBy);
    if (!account) throw new RpcFailure(400, 'AUTH_TOKEN_INVALID');
    // The session is made on the account's own DC: the client moves there and imports the token.
    if (account.dcId !== ctx.dcId) return new Api.auth.LoginTokenMigrateTo({ dcId: account.dcId, token: record.token });
    return this.loginByToken(ctx, account);
  }

  /**
   * auth.importLoginToken on the accepting account's home DC (after loginTokenMigrateTo): logs this
   * key in like the exporting key's next export would have. The token is used up even when the
   * password is still needed, as signIn uses up the code.
   */
  importLoginToken(ctx: CallContext, token: Buffer): Api.auth.LoginTokenSuccess {
    const record = this.loginTokens.get(token.toString('hex'));
    const account = record?.acceptedBy !== undefined ? this.accounts.get(record.acceptedBy) : undefined;
    if (!record || !account || account.dcId !== ctx.dcId) throw new RpcFailure(400, 'AUTH_TOKEN_INVALID');
    this.loginTokens.delete(token.toString('hex'));
    if (record.key.loginToken === record) delete record.key.loginToken;
    return this.loginByToken(ctx, account);
  }

  private issueLoginToken(key: KeyState, apiId: number): Api.auth.LoginToken {
    this.dropLoginToken(key);
    const record: LoginTokenRecord = { token: randomBytes(32), key, apiId, expires: now() + this.loginTokenSeconds, expired: false };
    key.loginToken = record;
    this.loginTokens.set(record.token.toString('hex'), record);
    this.onChange();
    return new Api.auth.LoginToken({ expires: record.expires, token: record.token });
  }

  /** After the scan the key logs in like auth.signIn: straight away, or after the 2FA password. */
  private loginByToken(ctx: CallContext, account: Account): Api.auth.LoginTokenSuccess {
    if (account.password) {
      // The accepted token stays: exporting again asks for the password again.
      ctx.key.passwordUserId = account.id;
      throw new RpcFailure(401, 'SESSION_PASSWORD_NEEDED');
    }
    return new Api.auth.LoginTokenSuccess({ authorization: this.authorize(ctx, account) });
  }

  private dropLoginToken(key: KeyState): void {
    if (!key.loginToken) return;
    this.loginTokens.delete(key.loginToken.token.toString('hex'));
    delete key.loginToken;
  }

  /**
   * An official app of `by` scanned the QR code: the token is marked accepted and the exporting key
   * told with updateLoginToken. Returns the new session as the accepting app lists it.
   */
  acceptLoginToken(by: Account, token: Buffer, pushToKey: CallContext['pushToKey']): Api.Authorization {
    const record = this.loginTokens.get(token.toString('hex'));
    if (!record) throw new RpcFailure(400, 'AUTH_TOKEN_INVALID');
    if (record.acceptedBy !== undefined) throw new RpcFailure(400, 'AUTH_TOKEN_ALREADY_ACCEPTED');
    if (record.expired || now() >= record.expires) throw new RpcFailure(400, 'AUTH_TOKEN_EXPIRED');
    record.acceptedBy = by.id;
    pushToKey(record.key.idHex, new Api.UpdateShort({ update: new Api.UpdateLoginToken(), date: now() }));
    this.onChange();
    return this.newSessionInfo(record, by);
  }

  /** Marks every live login token expired; returns how many. */
  expireLoginTokens(): number {
    for (const record of this.loginTokens.values()) record.expired = true;
    return this.loginTokens.size;
  }

  /** The authorization (Settings > Devices entry) of the key that exported the token. */
  private newSessionInfo(record: LoginTokenRecord, by: Account): Api.Authorization {
    const init = record.key.init;
    const date = now();
    return new Api.Authorization({
      // Telegram lists the session as waiting for the password until checkPassword.
      passwordPending: by.password !== undefined,
      hash: bigInt(randomBig(7).toString()),
      deviceModel: init?.deviceModel ?? 'Unknown device',
      platform: '',
      systemVersion: init?.systemVersion ?? '',
      apiId: init?.apiId ?? record.apiId,
      appName: `App ${init?.apiId ?? record.apiId}`,
      appVersion: init?.appVersion ?? '',
      dateCreated: date,
      dateActive: date,
      ip: '127.0.0.1',
      country: '',
      region: '',
    });
  }

  // ------------------------------------------------------------ messages

  private storeMessage(from: Account, to: Account, text: string): { out: MessageEvent; incoming?: MessageEvent } {
    const date = now();
    from.pts += 1;
    const out: MessageEvent = { pts: from.pts, id: from.nextMessageId++, out: true, peerUserId: to.id, fromUserId: from.id, text, date };
    from.events.push(out);
    if (to.id === from.id) return { out };
    to.pts += 1;
    const incoming: MessageEvent = { pts: to.pts, id: to.nextMessageId++, out: false, peerUserId: from.id, fromUserId: from.id, text, date };
    to.events.push(incoming);
    return { out, incoming };
  }

  /** Stores a message from one account to another and pushes updateShortMessage to the recipient. */
  deliver(from: Account, to: Account, text: string, ctx: { randomId: string; authKeyId: string; push: CallContext['push'] }): MessageEvent {
    const { out, incoming } = this.storeMessage(from, to, text);
    this.sent.push({
      id: out.id, fromUserId: from.id, fromPhone: from.phone, toUserId: to.id, toPhone: to.phone, text, date: out.date,
      randomId: ctx.randomId, authKeyId: ctx.authKeyId,
    });
    if (incoming) {
      ctx.push(to.id, new Api.UpdateShortMessage({
        id: incoming.id, userId: bigInt(from.id), message: text, pts: incoming.pts, ptsCount: 1, date: incoming.date,
      }));
    }
    this.onChange();
    return out;
  }

  private messageObject(e: MessageEvent): Api.Message {
    return new Api.Message({
      id: e.id,
      out: e.out,
      fromId: new Api.PeerUser({ userId: bigInt(e.fromUserId) }),
      peerId: new Api.PeerUser({ userId: bigInt(e.peerUserId) }),
      date: e.date,
      message: e.text,
    });
  }

  // ------------------------------------------------------------ method dispatch

  /** Answers one API method (the innermost query, wrappers removed). Throws RpcFailure for RPC errors. */
  call(ctx: CallContext, request: { className: string }): unknown {
    const method = request.className;
    const lower = method.toLowerCase();
    const me = ctx.key.userId !== undefined ? this.accounts.get(ctx.key.userId) : undefined;
    if (!me && !WITHOUT_AUTH.has(lower)) throw new RpcFailure(401, ctx.key.revokedError ?? 'AUTH_KEY_UNREGISTERED');
    const handler = HANDLERS[lower];
    if (!handler) throw new RpcFailure(400, 'METHOD_NOT_IMPLEMENTED');
    return handler(this, ctx, request as never, me!);
  }

  config(ctx: CallContext): Api.Config {
    const date = now();
    return new Api.Config({
      date,
      expires: date + 3600,
      testMode: false,
      thisDc: ctx.dcId,
      dcOptions: ctx.dcOptions.map((dc) => new Api.DcOption({ id: dc.dcId, ipAddress: dc.host, port: dc.port })),
      dcTxtDomainName: 'apv3.stel.com',
      chatSizeMax: 200,
      megagroupSizeMax: 200000,
      forwardedCountMax: 100,
      onlineUpdatePeriodMs: 210000,
      offlineBlurTimeoutMs: 5000,
      offlineIdleTimeoutMs: 30000,
      onlineCloudTimeoutMs: 300000,
      notifyCloudDelayMs: 30000,
      notifyDefaultDelayMs: 1500,
      pushChatPeriodMs: 60000,
      pushChatLimit: 2,
      editTimeLimit: 172800,
      revokeTimeLimit: 2147483647,
      revokePmTimeLimit: 2147483647,
      ratingEDecay: 2419200,
      stickersRecentLimit: 200,
      channelsReadMediaPeriod: 604800,
      callReceiveTimeoutMs: 20000,
      callRingTimeoutMs: 90000,
      callConnectTimeoutMs: 30000,
      callPacketTimeoutMs: 10000,
      meUrlPrefix: 'https://t.me/',
      captionLengthMax: 1024,
      messageLengthMax: 4096,
      webfileDcId: ctx.dcId,
    });
  }

  state(me: Account): Api.updates.State {
    return new Api.updates.State({ pts: me.pts, qts: 0, date: now(), seq: 0, unreadCount: 0 });
  }

  authorize(ctx: CallContext, account: Account): Api.auth.Authorization {
    ctx.key.userId = account.id;
    delete ctx.key.revokedError;
    delete ctx.key.passwordUserId;
    delete ctx.key.srp;
    this.dropLoginToken(ctx.key);
    this.codes.delete(account.phone);
    this.onChange();
    return new Api.auth.Authorization({ user: this.userObject(account, account.id) });
  }

  passwordInfo(ctx: CallContext, account: Account | undefined): Api.account.Password {
    const common = {
      newAlgo: new Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow({
        salt1: randomBytes(8), salt2: randomBytes(16), g: SRP_G, p: TELEGRAM_PRIME,
      }),
      newSecureAlgo: new Api.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000({ salt: randomBytes(8) }),
      secureRandom: randomBytes(32),
    };
    const pw = account?.password;
    if (!account || !pw) return new Api.account.Password({ hasPassword: false, ...common });
    // B = k*v + g^b mod p, k = H(p | g) (core.telegram.org/api/srp).
    const g = BigInt(pw.g);
    const k = bufToBig(sha256(pad256(TELEGRAM_PRIME_BIG), pad256(g)));
    const b = randomBig(256);
    const B = (k * pw.v + modPow(g, b, TELEGRAM_PRIME_BIG)) % TELEGRAM_PRIME_BIG;
    const srpId = bigInt(randomBig(7).toString());
    ctx.key.srp = { id: srpId.toString(), b, B, userId: account.id };
    return new Api.account.Password({
      hasPassword: true,
      currentAlgo: new Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow({
        salt1: pw.salt1, salt2: pw.salt2, g: pw.g, p: TELEGRAM_PRIME,
      }),
      srp_B: pad256(B),
      srpId,
      hint: pw.hint,
      ...common,
    });
  }

  checkSrp(ctx: CallContext, check: Api.TypeInputCheckPasswordSRP): Account {
    const srp = ctx.key.srp;
    if (!(check instanceof Api.InputCheckPasswordSRP)) throw new RpcFailure(400, 'PASSWORD_HASH_INVALID');
    if (!srp || srp.id !== check.srpId.toString()) throw new RpcFailure(400, 'SRP_ID_INVALID');
    const account = this.accounts.get(srp.userId);
    const pw = account?.password;
    if (!account || !pw) throw new RpcFailure(400, 'SRP_ID_INVALID');
    const p = TELEGRAM_PRIME_BIG;
    const A = bufToBig(check.A);
    if (A <= 1n || A >= p - 1n) throw new RpcFailure(400, 'SRP_A_INVALID');
    const u = bufToBig(sha256(pad256(A), pad256(srp.B)));
    const S = modPow((A * modPow(pw.v, u, p)) % p, srp.b, p);
    const K = sha256(pad256(S));
    const hp = sha256(pad256(p));
    const hg = sha256(pad256(BigInt(pw.g)));
    for (let i = 0; i < hp.length; i += 1) hp[i]! ^= hg[i]!;
    const M1 = sha256(hp, sha256(pw.salt1), sha256(pw.salt2), pad256(A), pad256(srp.B), K);
    // One srp_id answers one check, right or wrong: the client asks account.getPassword again.
    delete ctx.key.srp;
    if (!M1.equals(Buffer.from(check.M1))) throw new RpcFailure(400, 'PASSWORD_HASH_INVALID');
    return account;
  }

  resolveInputUser(me: Account, input: unknown): Account | undefined {
    if (input instanceof Api.InputUserSelf || input instanceof Api.InputPeerSelf) return me;
    if (input instanceof Api.InputUser || input instanceof Api.InputPeerUser) {
      const account = this.accounts.get(input.userId.toJSNumber());
      return account && account.accessHash.equals(input.accessHash) ? account : undefined;
    }
    return undefined;
  }

  /** updates.getDifference: the message events after `pts`, or differenceEmpty. */
  difference(me: Account, pts: number): Api.updates.TypeDifference {
    if (pts >= me.pts) return new Api.updates.DifferenceEmpty({ date: now(), seq: 0 });
    const events = me.events.filter((e) => e.pts > pts);
    const userIds = new Set<number>([me.id, ...events.map((e) => e.peerUserId)]);
    return new Api.updates.Difference({
      newMessages: events.map((e) => this.messageObject(e)),
      newEncryptedMessages: [],
      otherUpdates: [],
      chats: [],
      users: [...userIds].map((id) => this.accounts.get(id)).filter((a): a is Account => !!a).map((a) => this.userObject(a, me.id)),
      state: this.state(me),
    });
  }

  checkApp(apiId: number, apiHash: string): void {
    if (apiId !== this.apiId || apiHash !== this.apiHash) throw new RpcFailure(400, 'API_ID_INVALID');
  }
}

type Handler = (world: World, ctx: CallContext, request: never, me: Account) => unknown;

const HANDLERS: Record<string, Handler> = {
  'help.getconfig': (w, ctx) => w.config(ctx),
  'help.getnearestdc': (_w, ctx) => new Api.NearestDc({ country: 'XX', thisDc: ctx.dcId, nearestDc: ctx.dcId }),

  'auth.sendcode': (w, ctx, req: Api.auth.SendCode) => {
    w.checkApp(req.apiId, req.apiHash);
    const phone = normalizePhone(req.phoneNumber);
    if (!phone) throw new RpcFailure(406, 'PHONE_NUMBER_INVALID');
    w.requireHomeDc(ctx, phone);
    const account = w.byPhone(phone);
    if (account?.banned) throw new RpcFailure(400, 'PHONE_NUMBER_BANNED');
    const code = w.issueCode(phone);
    if (account?.loginEmailRequired) return new Api.auth.SentCode({ type: new Api.auth.SentCodeTypeSetUpEmailRequired({}), phoneCodeHash: code.hash });
    // A registered account gets the code in its Telegram app (and may ask for an SMS next), a new number by SMS.
    code.resendable = !!account;
    return new Api.auth.SentCode({
      type: account ? new Api.auth.SentCodeTypeApp({ length: code.code.length }) : new Api.auth.SentCodeTypeSms({ length: code.code.length }),
      phoneCodeHash: code.hash,
      nextType: account ? new Api.auth.CodeTypeSms() : undefined,
      timeout: account ? 60 : undefined,
    });
  },
  'auth.resendcode': (w, ctx, req: Api.auth.ResendCode) => {
    const phone = normalizePhone(req.phoneNumber);
    if (!phone) throw new RpcFailure(406, 'PHONE_NUMBER_INVALID');
    w.requireHomeDc(ctx, phone);
    if (!req.phoneCodeHash) throw new RpcFailure(400, 'PHONE_CODE_HASH_EMPTY');
    const old = w.codes.get(phone);
    if (!old || old.hash !== req.phoneCodeHash || old.expired) throw new RpcFailure(400, 'PHONE_CODE_EXPIRED');
    if (!old.resendable) throw new RpcFailure(400, 'SEND_CODE_UNAVAILABLE');
    const code = w.issueCode(phone, old.hash);
    return new Api.auth.SentCode({ type: new Api.auth.SentCodeTypeSms({ length: code.code.length }), phoneCodeHash: code.hash });
  },
  'auth.cancelcode': (w, _ctx, req: Api.auth.CancelCode) => {
    const phone = normalizePhone(req.phoneNumber);
    const code = phone ? w.codes.get(phone) : undefined;
    if (!code || code.hash !== req.phoneCodeHash) throw new RpcFailure(400, 'PHONE_CODE_EXPIRED');
    w.codes.delete(code.phone);
    return true;
  },
  'auth.signin': (w, ctx, req: Api.auth.SignIn) => {
    w.requireHomeDc(ctx, req.phoneNumber);
    const { phone } = w.checkCode(req.phoneNumber, req.phoneCodeHash, req.phoneCode);
    const account = w.byPhone(phone);
    if (!account) return new Api.auth.AuthorizationSignUpRequired({});
    if (account.password) {
      w.codes.delete(phone);
      ctx.key.passwordUserId = account.id;
      throw new RpcFailure(401, 'SESSION_PASSWORD_NEEDED');
    }
    return w.authorize(ctx, account);
  },
  'auth.signup': (w, ctx, req: Api.auth.SignUp) => {
    w.requireHomeDc(ctx, req.phoneNumber);
    const phone = w.checkSignUpHash(req.phoneNumber, req.phoneCodeHash);
    if (w.byPhone(phone)) throw new RpcFailure(400, 'PHONE_NUMBER_OCCUPIED');
    const firstName = req.firstName.trim();
    if (!firstName || firstName.length > 64) throw new RpcFailure(400, 'FIRSTNAME_INVALID');
    if ((req.lastName ?? '').length > 64) throw new RpcFailure(400, 'LASTNAME_INVALID');
    // A new number lives where it signed up.
    const account = w.addAccount({ phone, firstName, lastName: req.lastName || undefined, dcId: ctx.dcId });
    return w.authorize(ctx, account);
  },
  'account.getpassword': (w, ctx, _req, me) => {
    const account = me ?? (ctx.key.passwordUserId !== undefined ? w.accounts.get(ctx.key.passwordUserId) : undefined);
    if (!account) throw new RpcFailure(401, ctx.key.revokedError ?? 'AUTH_KEY_UNREGISTERED');
    return w.passwordInfo(ctx, account);
  },
  'auth.checkpassword': (w, ctx, req: Api.auth.CheckPassword, me) => {
    if (me) throw new RpcFailure(400, 'PASSWORD_HASH_INVALID');
    if (ctx.key.passwordUserId === undefined) throw new RpcFailure(401, ctx.key.revokedError ?? 'AUTH_KEY_UNREGISTERED');
    const account = w.checkSrp(ctx, req.password);
    return w.authorize(ctx, account);
  },
  'auth.exportlogintoken': (w, ctx, req: Api.auth.ExportLoginToken) => w.exportLoginToken(ctx, req),
  'auth.importlogintoken': (w, ctx, req: Api.auth.ImportLoginToken) => w.importLoginToken(ctx, Buffer.from(req.token)),
  'auth.acceptlogintoken': (w, ctx, req: Api.auth.AcceptLoginToken, me) => w.acceptLoginToken(me, Buffer.from(req.token), ctx.pushToKey),
  'auth.logout': (_w, ctx) => {
    delete ctx.key.userId;
    ctx.key.revokedError = 'AUTH_KEY_UNREGISTERED';
    return new Api.auth.LoggedOut({});
  },

  'updates.getstate': (w, _ctx, _req, me) => w.state(me),
  'updates.getdifference': (w, _ctx, req: Api.updates.GetDifference, me) => w.difference(me, req.pts),

  'users.getusers': (w, _ctx, req: Api.users.GetUsers, me) =>
    req.id.map((input) => w.resolveInputUser(me, input)).filter((a): a is Account => !!a).map((a) => w.userObject(a, me.id)),
  'users.getfulluser': (w, _ctx, req: Api.users.GetFullUser, me) => {
    const account = w.resolveInputUser(me, req.id);
    if (!account) throw new RpcFailure(400, 'USER_ID_INVALID');
    return new Api.users.UserFull({
      fullUser: new Api.UserFull({
        id: bigInt(account.id),
        settings: new Api.PeerSettings({}),
        notifySettings: new Api.PeerNotifySettings({}),
        commonChatsCount: 0,
      }),
      chats: [],
      users: [w.userObject(account, me.id)],
    });
  },
  'contacts.resolveusername': (w, _ctx, req: Api.contacts.ResolveUsername, me) => {
    const username = req.username.replace(/^@/, '');
    if (!USERNAME_RE.test(username)) throw new RpcFailure(400, 'USERNAME_INVALID');
    const account = w.byUsername(username);
    if (!account) throw new RpcFailure(400, 'USERNAME_NOT_OCCUPIED');
    return new Api.contacts.ResolvedPeer({
      peer: new Api.PeerUser({ userId: bigInt(account.id) }),
      chats: [],
      users: [w.userObject(account, me.id)],
    });
  },
  'messages.sendmessage': (w, ctx, req: Api.messages.SendMessage, me) => {
    const to = w.resolveInputUser(me, req.peer);
    if (!to) throw new RpcFailure(400, 'PEER_ID_INVALID');
    if (!req.message.trim()) throw new RpcFailure(400, 'MESSAGE_EMPTY');
    if (req.message.length > 4096) throw new RpcFailure(400, 'MESSAGE_TOO_LONG');
    const randomId = String(req.randomId ?? '');
    if (me.randomIds.has(randomId)) throw new RpcFailure(500, 'RANDOM_ID_DUPLICATE');
    me.randomIds.add(randomId);
    const out = w.deliver(me, to, req.message, { randomId, authKeyId: ctx.key.idHex, push: ctx.push });
    return new Api.UpdateShortSentMessage({ out: true, id: out.id, pts: out.pts, ptsCount: 1, date: out.date });
  },
  destroysession: () => new Api.DestroySessionNone({ sessionId: bigInt.zero }),
};
