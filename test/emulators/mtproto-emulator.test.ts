/**
 * Tests of the MTProto emulator (test/support/mtproto/), driven by the real GramJS client over
 * TCP on 127.0.0.1, the way tgpbx's account code drives Telegram: raw `client.invoke` of
 * auth.sendCode / signIn / checkPassword, then getMe and messages.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import bigInt from 'big-integer';
import { Api, TelegramClient, errors } from 'telegram';
import { computeCheck } from 'telegram/Password.js';
import { StringSession } from 'telegram/sessions/index.js';
import { MtprotoEmulator } from '../support/mtproto/emulator.js';
import { authorizedSession, emulatorClient, rpcErrorOf, within } from '../support/mtproto/gramjs-test-client.js';

const API_ID = 12345;
const API_HASH = 'test0api0hash0not0a0secret000000';
const T = 5000;
const ANN = '+15550000001';
const BOB = '+15550000002';

function sendCode(client: TelegramClient, phone: string, apiId = API_ID, apiHash = API_HASH): Promise<Api.auth.SentCode> {
  return within(client.invoke(new Api.auth.SendCode({
    phoneNumber: phone, apiId, apiHash, settings: new Api.CodeSettings({}),
  })), T, 'auth.sendCode') as Promise<Api.auth.SentCode>;
}

function signIn(client: TelegramClient, phone: string, hash: string, code: string): Promise<Api.auth.TypeAuthorization> {
  return within(client.invoke(new Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash: hash, phoneCode: code })), T, 'auth.signIn');
}

function exportLoginToken(client: TelegramClient, apiHash = API_HASH): Promise<Api.auth.TypeLoginToken> {
  return within(client.invoke(new Api.auth.ExportLoginToken({ apiId: API_ID, apiHash, exceptIds: [] })), T, 'auth.exportLoginToken');
}

/** Resolves when the client receives updateLoginToken (GramJS hands raw updates to a bare handler). */
function loginTokenUpdate(client: TelegramClient): Promise<Api.UpdateLoginToken> {
  return new Promise((resolve) => {
    client.addEventHandler((update: unknown) => {
      if (update instanceof Api.UpdateLoginToken) resolve(update);
    });
  });
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return rpcErrorOf(err);
  }
  assert.fail('expected an RPC error');
}

/** account.getPassword, then auth.checkPassword with the SRP proof of `password`. */
async function checkPassword(client: TelegramClient, password: string): Promise<Api.auth.TypeAuthorization> {
  const pw = await within(client.invoke(new Api.account.GetPassword()), T, 'account.getPassword');
  return within(client.invoke(new Api.auth.CheckPassword({ password: await computeCheck(pw, password) })), T, 'auth.checkPassword');
}

describe('MTProto emulator (GramJS over TCP)', function () {
  let emu: MtprotoEmulator;
  const clients: TelegramClient[] = [];

  async function connected(session?: string, apiId = API_ID, apiHash = API_HASH): Promise<TelegramClient> {
    const client = emulatorClient(emu, { apiId, apiHash, session });
    clients.push(client);
    assert.equal(await within(client.connect(), T, 'connect'), true);
    return client;
  }

  /** A connected client logged in as `phone` (no 2FA) through raw invokes. */
  async function loggedIn(phone: string): Promise<TelegramClient> {
    const client = await connected();
    const sent = await sendCode(client, phone);
    const auth = await signIn(client, phone, sent.phoneCodeHash, await emu.waitForCode(phone));
    assert.ok(auth instanceof Api.auth.Authorization);
    return client;
  }

  /** A fresh QR login token of an unauthorized client. */
  async function qrToken(client: TelegramClient): Promise<Buffer> {
    const result = await exportLoginToken(client);
    assert.ok(result instanceof Api.auth.LoginToken);
    return result.token;
  }

  beforeEach(async function () {
    emu = await MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH });
    emu.addAccount({ phone: ANN, firstName: 'Ann', lastName: 'Test', username: 'ann_test' });
    emu.addAccount({ phone: BOB, firstName: 'Bob', username: 'bob_test' });
  });

  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => within(c.destroy(), T, 'destroy').catch(() => undefined)));
    await emu.stop();
  });

  it('creates an auth key, corrects the salt, opens a session and answers help.getConfig', async function () {
    assert.ok(emu.port > 0 && emu.port <= 32767);
    const client = await connected();
    const config = await within(client.invoke(new Api.help.GetConfig()), T, 'help.getConfig');
    assert.equal(config.thisDc, emu.dcId);
    assert.deepEqual(config.dcOptions.map((o) => [o.id, o.ipAddress, o.port]), [[emu.dcId, '127.0.0.1', emu.port]]);
    assert.equal(emu.authKeyCount, 1);
    assert.equal(emu.stats.badServerSalt, 1);
    assert.equal(emu.stats.newSessions, 1);
    const first = await emu.waitForRequest('help.GetConfig');
    assert.equal(first.layer, 198);
    assert.equal(first.userId, undefined);
  });

  it('is one DC without `dcs`: dcOptions, accounts, requests and sessions all say DC 2', async function () {
    assert.deepEqual(emu.dcOptions, [{ dcId: 2, host: '127.0.0.1', port: emu.port }]);
    assert.equal(emu.account(ANN)!.dcId, 2);
    await loggedIn(ANN);
    assert.deepEqual([...new Set(emu.requests.map((r) => r.dcId))], [2]);
    assert.equal(emu.activeSessions(ANN)[0]!.dcId, 2);
  });

  it('logs in with a code; getMe works and the key is an active session of the account', async function () {
    const client = await connected();
    const sent = await sendCode(client, ANN);
    assert.ok(sent.type instanceof Api.auth.SentCodeTypeApp);
    const code = await emu.waitForCode('15550000001');
    assert.match(code, /^\d{5}$/);
    const auth = await signIn(client, ANN, sent.phoneCodeHash, code);
    assert.ok(auth instanceof Api.auth.Authorization);
    const me = await within(client.getMe(), T, 'getMe');
    assert.equal(me.firstName, 'Ann');
    assert.equal(me.self, true);
    assert.equal(me.phone, '15550000001');
    const full = await within(client.invoke(new Api.users.GetFullUser({ id: new Api.InputUserSelf() })), T, 'getFullUser');
    assert.equal(full.fullUser.id.toString(), me.id.toString());
    const state = await within(client.invoke(new Api.updates.GetState()), T, 'updates.getState');
    assert.ok(state.pts >= 1);
    const sessions = emu.activeSessions(ANN);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.deviceModel, 'tgpbx-test');
    assert.equal(sessions[0]!.connected, true);
    assert.equal(emu.codeFor(ANN), undefined, 'the code is used up');
    const getUsers = await emu.waitForRequest('users.GetUsers');
    assert.equal(getUsers.phone, '15550000001');
  });

  it('asks for the 2FA password (SRP): a wrong one is PASSWORD_HASH_INVALID, the right one logs in', async function () {
    emu.addAccount({ phone: '+15550000003', firstName: 'Cid', password: 'correct horse', passwordHint: 'horse' });
    const client = await connected();
    const sent = await sendCode(client, '+15550000003');
    const code = await emu.waitForCode('+15550000003');
    assert.equal(await rejection(signIn(client, '+15550000003', sent.phoneCodeHash, code)), '401 SESSION_PASSWORD_NEEDED');
    const getPassword = (): Promise<Api.account.Password> => within(client.invoke(new Api.account.GetPassword()), T, 'account.getPassword');
    const checkPassword = async (password: string): Promise<Api.auth.TypeAuthorization> =>
      within(client.invoke(new Api.auth.CheckPassword({ password: await computeCheck(await getPassword(), password) })), T, 'auth.checkPassword');
    const info = await getPassword();
    assert.equal(info.hasPassword, true);
    assert.equal(info.hint, 'horse');
    assert.equal(await rejection(checkPassword('wrong horse')), '400 PASSWORD_HASH_INVALID');
    assert.equal(await rejection(within(client.getMe(), T, 'getMe')), '401 AUTH_KEY_UNREGISTERED');
    const auth = await checkPassword('correct horse');
    assert.ok(auth instanceof Api.auth.Authorization);
    assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Cid');
  });

  it("also works through GramJS's own client.start() helper with 2FA", async function () {
    emu.addAccount({ phone: '+15550000004', firstName: 'Dee', password: 'pw4' });
    const client = emulatorClient(emu, { apiId: API_ID, apiHash: API_HASH });
    clients.push(client);
    await within(client.start({
      phoneNumber: '+15550000004',
      phoneCode: () => emu.waitForCode('+15550000004'),
      password: async () => 'pw4',
      onError: (err) => { throw err; },
    }), T, 'client.start');
    assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Dee');
  });

  it('refuses a wrong code (PHONE_CODE_INVALID); resendCode keeps the hash and the new code logs in; no third way (SEND_CODE_UNAVAILABLE)', async function () {
    const client = await connected();
    const sent = await sendCode(client, ANN);
    const code = await emu.waitForCode(ANN);
    const wrong = code === '11111' ? '22222' : '11111';
    assert.equal(await rejection(signIn(client, ANN, sent.phoneCodeHash, wrong)), '400 PHONE_CODE_INVALID');
    const resent = await within(client.invoke(new Api.auth.ResendCode({ phoneNumber: ANN, phoneCodeHash: sent.phoneCodeHash })), T, 'resendCode');
    assert.equal((resent as Api.auth.SentCode).phoneCodeHash, sent.phoneCodeHash);
    const code2 = await emu.waitForCode(ANN);
    // The SMS was the last way: the SentCode had no next_type, so no more resends.
    assert.equal(await rejection(client.invoke(new Api.auth.ResendCode({ phoneNumber: ANN, phoneCodeHash: sent.phoneCodeHash }))), '400 SEND_CODE_UNAVAILABLE');
    assert.ok((await signIn(client, ANN, sent.phoneCodeHash, code2)) instanceof Api.auth.Authorization);
  });

  it('refuses an expired code (PHONE_CODE_EXPIRED)', async function () {
    const client = await connected();
    const sent = await sendCode(client, ANN);
    const code = await emu.waitForCode(ANN);
    emu.expireCode(ANN);
    assert.equal(await rejection(signIn(client, ANN, sent.phoneCodeHash, code)), '400 PHONE_CODE_EXPIRED');
    assert.equal(emu.codeFor(ANN), undefined);
  });

  it('answers 420 FLOOD_WAIT_<n> and the GramJS error carries the seconds', async function () {
    emu.floodWait({ method: 'auth.SendCode', seconds: 37 });
    const client = await connected();
    let error: unknown;
    await sendCode(client, ANN).catch((err: unknown) => { error = err; });
    assert.equal((error as { seconds?: number }).seconds, 37);
    assert.equal((error as { code?: number }).code, 420);
    assert.equal((await emu.waitForRequest('auth.SendCode')).error, '420 FLOOD_WAIT_37');
    assert.ok((await sendCode(client, ANN)).phoneCodeHash, 'only the next call was refused');
  });

  it('signs up a new number (signIn says sign-up required, signUp creates the account)', async function () {
    const phone = '+15550000009';
    const client = await connected();
    const sent = await sendCode(client, phone);
    assert.ok(sent.type instanceof Api.auth.SentCodeTypeSms);
    const result = await signIn(client, phone, sent.phoneCodeHash, await emu.waitForCode(phone));
    assert.ok(result instanceof Api.auth.AuthorizationSignUpRequired);
    const auth = await within(client.invoke(new Api.auth.SignUp({
      phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, firstName: 'New', lastName: 'Comer',
    })), T, 'auth.signUp');
    assert.ok(auth instanceof Api.auth.Authorization);
    assert.equal((await within(client.getMe(), T, 'getMe')).lastName, 'Comer');
    assert.equal(emu.account(phone)?.firstName, 'New');
  });

  it('keeps the authorization in the auth key: a client restored from the saved StringSession is still logged in', async function () {
    const first = await loggedIn(ANN);
    const saved = (first.session as unknown as { save(): string }).save();
    assert.ok(saved.length > 0);
    await within(first.destroy(), T, 'destroy');
    const keys = emu.authKeyCount;
    const second = await connected(saved);
    assert.equal((await within(second.getMe(), T, 'getMe')).firstName, 'Ann');
    assert.equal(emu.authKeyCount, keys, 'no new auth key');
    assert.equal(emu.activeSessions(ANN).length, 1);
  });

  it('revokeSessions makes the next call fail with 401 AUTH_KEY_UNREGISTERED', async function () {
    const client = await loggedIn(ANN);
    assert.equal(emu.revokeSessions(ANN), 1);
    assert.equal(await rejection(within(client.getMe(), T, 'getMe')), '401 AUTH_KEY_UNREGISTERED');
    assert.deepEqual(emu.activeSessions(ANN), []);
  });

  it('logOut unauthorizes the key', async function () {
    const client = await loggedIn(ANN);
    assert.ok(await within(client.invoke(new Api.auth.LogOut()), T, 'auth.logOut') instanceof Api.auth.LoggedOut);
    assert.equal(await rejection(within(client.invoke(new Api.updates.GetState()), T, 'getState')), '401 AUTH_KEY_UNREGISTERED');
  });

  it('refuses a bad api_id/api_hash, a banned phone and an invalid phone', async function () {
    emu.addAccount({ phone: '+15550000005', firstName: 'Banned', banned: true });
    const client = await connected();
    assert.equal(await rejection(sendCode(client, ANN, API_ID + 1)), '400 API_ID_INVALID');
    assert.equal(await rejection(sendCode(client, ANN, API_ID, 'wrong0hash')), '400 API_ID_INVALID');
    assert.equal(await rejection(sendCode(client, '+15550000005')), '400 PHONE_NUMBER_BANNED');
    assert.equal(await rejection(sendCode(client, '12ab')), '406 PHONE_NUMBER_INVALID');
  });

  it('answers calls needing authorization with 401 on a new key, and unknown methods with 400', async function () {
    const client = await connected();
    assert.equal(await rejection(within(client.invoke(new Api.updates.GetState()), T, 'getState')), '401 AUTH_KEY_UNREGISTERED');
    const authed = await loggedIn(BOB);
    assert.equal(
      await rejection(within(authed.invoke(new Api.account.GetWallPapers({ hash: 0 as never })), T, 'getWallPapers')),
      '400 METHOD_NOT_IMPLEMENTED',
    );
  });

  it('resolves a username, sends a message, records it and pushes it to the logged-in recipient', async function () {
    const ann = await loggedIn(ANN);
    const bob = await loggedIn(BOB);
    const received = new Promise<Api.UpdateShortMessage>((resolve) => {
      bob.addEventHandler((update: unknown) => {
        if (update instanceof Api.UpdateShortMessage) resolve(update);
      });
    });
    const resolved = await within(ann.invoke(new Api.contacts.ResolveUsername({ username: 'bob_test' })), T, 'resolveUsername');
    assert.equal(resolved.users.length, 1);
    assert.equal(await rejection(within(ann.invoke(new Api.contacts.ResolveUsername({ username: 'nobody_here' })), T, 'resolve')),
      '400 USERNAME_NOT_OCCUPIED');
    const message = await within(ann.sendMessage('bob_test', { message: 'Hello Bob' }), T, 'sendMessage');
    assert.equal(message.message, 'Hello Bob');
    const sent = await emu.waitForSentMessage((m) => m.text === 'Hello Bob');
    assert.equal(sent.fromPhone, '15550000001');
    assert.equal(sent.toPhone, '15550000002');
    const update = await within(received, T, 'update push');
    assert.equal(update.message, 'Hello Bob');
    assert.equal(update.userId.toString(), String(emu.account(ANN)!.id));
    const state = await within(bob.invoke(new Api.updates.GetState()), T, 'getState');
    assert.equal(state.pts, update.pts);
    const diff = await within(bob.invoke(new Api.updates.GetDifference({ pts: update.pts - 1, date: 0, qts: 0 })), T, 'getDifference');
    assert.ok(diff instanceof Api.updates.Difference);
    assert.equal((diff.newMessages[0] as Api.Message).message, 'Hello Bob');
    const empty = await within(bob.invoke(new Api.updates.GetDifference({ pts: update.pts, date: 0, qts: 0 })), T, 'getDifference');
    assert.ok(empty instanceof Api.updates.DifferenceEmpty);
  });

  it('logs in by QR code: export, the app scans (acceptLoginToken), updateLoginToken, export again → loginTokenSuccess', async function () {
    const client = await connected();
    const before = Math.floor(Date.now() / 1000);
    const exported = await exportLoginToken(client);
    assert.ok(exported instanceof Api.auth.LoginToken);
    assert.equal(exported.token.length, 32);
    assert.ok(exported.expires >= before + 30 && exported.expires <= Math.floor(Date.now() / 1000) + 30);
    const scanned = loginTokenUpdate(client);
    const link = `tg://login?token=${exported.token.toString('base64url')}`;
    const session = emu.acceptLoginToken(ANN, link.slice('tg://login?token='.length));
    assert.equal(session.deviceModel, 'tgpbx-test');
    assert.equal(session.apiId, API_ID);
    assert.equal(session.passwordPending, false);
    await within(scanned, T, 'updateLoginToken');
    assert.throws(() => emu.acceptLoginToken(BOB, exported.token), { message: 'AUTH_TOKEN_ALREADY_ACCEPTED' });
    const success = await exportLoginToken(client);
    assert.ok(success instanceof Api.auth.LoginTokenSuccess);
    assert.ok(success.authorization instanceof Api.auth.Authorization);
    assert.equal((success.authorization.user as Api.User).firstName, 'Ann');
    assert.equal((await within(client.getMe(), T, 'getMe')).phone, '15550000001');
    assert.equal(emu.activeSessions(ANN).length, 1);
    assert.equal(emu.requests.filter((r) => r.method === 'auth.ExportLoginToken').length, 2);
    assert.throws(() => emu.acceptLoginToken(ANN, exported.token), { message: 'AUTH_TOKEN_INVALID' }, 'a used token is gone');
  });

  it('QR login with 2FA: export after the scan → SESSION_PASSWORD_NEEDED, then checkPassword on the same client', async function () {
    emu.addAccount({ phone: '+15550000006', firstName: 'Eve', password: 'qr pw' });
    const client = await connected();
    const token = await qrToken(client);
    const scanned = loginTokenUpdate(client);
    assert.equal(emu.acceptLoginToken('+15550000006', token).passwordPending, true);
    await within(scanned, T, 'updateLoginToken');
    assert.equal(await rejection(exportLoginToken(client)), '401 SESSION_PASSWORD_NEEDED');
    assert.equal(await rejection(within(client.getMe(), T, 'getMe')), '401 AUTH_KEY_UNREGISTERED');
    const pw = await within(client.invoke(new Api.account.GetPassword()), T, 'account.getPassword');
    const auth = await within(client.invoke(new Api.auth.CheckPassword({ password: await computeCheck(pw, 'qr pw') })), T, 'auth.checkPassword');
    assert.ok(auth instanceof Api.auth.Authorization);
    assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Eve');
  });

  it('QR login refuses expired, unknown and replaced tokens, and a wrong api_hash', async function () {
    const client = await connected();
    const first = await qrToken(client);
    assert.equal(emu.expireLoginTokens(), 1);
    assert.throws(() => emu.acceptLoginToken(ANN, first), { message: 'AUTH_TOKEN_EXPIRED' });
    assert.throws(() => emu.acceptLoginToken(ANN, randomBytes(32)), { message: 'AUTH_TOKEN_INVALID' });
    const second = await qrToken(client);
    assert.ok(!second.equals(first), 'export after expiry issues a fresh token');
    const third = await qrToken(client);
    const replacedLink = `tg://login?token=${second.toString('base64url')}`;
    assert.throws(() => emu.acceptLoginToken(ANN, replacedLink), { message: 'AUTH_TOKEN_INVALID' }, 'replaced');
    assert.equal(await rejection(exportLoginToken(client, 'wrong0hash')), '400 API_ID_INVALID');
    const scanned = loginTokenUpdate(client);
    emu.acceptLoginToken(ANN, third);
    await within(scanned, T, 'updateLoginToken');
    assert.ok((await exportLoginToken(client)) instanceof Api.auth.LoginTokenSuccess);
  });

  it('answers auth.acceptLoginToken from another logged-in client (401 on an unauthorized key)', async function () {
    const bob = await connected(await authorizedSession(emu, BOB));
    const client = await connected();
    const token = await qrToken(client);
    assert.equal(await rejection(within(client.invoke(new Api.auth.AcceptLoginToken({ token })), T, 'accept')), '401 AUTH_KEY_UNREGISTERED');
    const scanned = loginTokenUpdate(client);
    const session = await within(bob.invoke(new Api.auth.AcceptLoginToken({ token })), T, 'auth.acceptLoginToken');
    assert.ok(session instanceof Api.Authorization);
    assert.equal(session.deviceModel, 'tgpbx-test');
    assert.equal(session.appVersion, '0.0.0');
    await within(scanned, T, 'updateLoginToken');
    assert.equal(await rejection(within(bob.invoke(new Api.auth.AcceptLoginToken({ token })), T, 'accept again')),
      '400 AUTH_TOKEN_ALREADY_ACCEPTED');
    assert.equal(await rejection(within(bob.invoke(new Api.auth.AcceptLoginToken({ token: randomBytes(32) })), T, 'accept unknown')),
      '400 AUTH_TOKEN_INVALID');
    const success = await exportLoginToken(client);
    assert.ok(success instanceof Api.auth.LoginTokenSuccess);
    assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Bob');
    assert.equal(emu.activeSessions(BOB).length, 2);
  });

  it('answers ping_delay_disconnect with a pong (outside rpc_result)', async function () {
    const client = await connected();
    const pong = await within(client.invoke(new Api.PingDelayDisconnect({ pingId: bigInt(4242), disconnectDelay: 60 })), T, 'ping');
    assert.ok(pong instanceof Api.Pong);
    assert.equal(pong.pingId.toString(), '4242');
    assert.equal(emu.stats.pings, 1);
  });

  it('gzips large results and reads gzip_packed requests', async function () {
    const ann = await loggedIn(ANN);
    const bob = await loggedIn(BOB);
    const text = 'long message '.repeat(300);
    const bobUser = (await within(ann.invoke(new Api.contacts.ResolveUsername({ username: 'bob_test' })), T, 'resolve')).users[0] as Api.User;
    const result = await within(ann.invoke(new Api.messages.SendMessage({
      peer: new Api.InputPeerUser({ userId: bobUser.id, accessHash: bobUser.accessHash! }), message: text,
    })), T, 'messages.sendMessage');
    assert.ok(result instanceof Api.UpdateShortSentMessage);
    assert.equal(emu.sentMessages[0]!.text, text);
    const diff = await within(bob.invoke(new Api.updates.GetDifference({ pts: 1, date: 0, qts: 0 })), T, 'getDifference');
    assert.ok(diff instanceof Api.updates.Difference);
    assert.equal((diff.newMessages[0] as Api.Message).message, text);
    assert.ok(emu.stats.gzipOut >= 1, 'the emulator gzipped the difference');
    // GramJS 2.26 never gzips requests (its GZIPPacked.gzip is a no-op): send a gzip_packed query by hand.
    const request = new Api.help.GetConfig();
    const plain = request.getBytes();
    const packed = gzipSync(plain);
    const tl = Buffer.concat([Buffer.from([254, packed.length & 0xff, (packed.length >> 8) & 0xff, 0]), packed]);
    const gz = Buffer.concat([Buffer.from([0xa1, 0xcf, 0x72, 0x30]), tl, Buffer.alloc((4 - (tl.length % 4)) % 4)]);
    request.getBytes = () => gz;
    assert.equal((await within(ann.invoke(request), T, 'gzipped getConfig')).thisDc, emu.dcId);
    assert.equal(emu.stats.gzipIn, 1);
  });

  it('survives dropped connections: GramJS reconnects with the same key and stays logged in', async function () {
    const client = await loggedIn(ANN);
    const keys = emu.authKeyCount;
    emu.dropConnections();
    assert.equal((await within(client.getMe(), T, 'getMe after drop')).firstName, 'Ann');
    assert.equal(emu.authKeyCount, keys);
  });

  it('reads but never answers while unresponsive', async function () {
    const client = await connected();
    emu.setUnresponsive(true);
    const before = emu.requests.length;
    let settled = false;
    client.invoke(new Api.help.GetConfig()).then(() => { settled = true; }, () => { settled = true; });
    await emu.waitForIgnoredReads(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    assert.equal(emu.requests.length, before);
  });

  it('answers a key it does not know with transport error -404 (GramJS then hangs: callers need timeouts)', async function () {
    const saved = (await loggedIn(ANN)).session.save() as unknown as string;
    const other = await MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH });
    try {
      const client = emulatorClient(other, { apiId: API_ID, apiHash: API_HASH, session: saved });
      clients.push(client);
      const connecting = client.connect().catch(() => false);
      assert.equal(await other.waitForTransportError(), -404);
      void connecting;
    } finally {
      await other.stop();
    }
  });

  for (const keyLength of [255, 256] as const) {
    it(`talks with a ${keyLength}-byte auth key (imported, already authorized)`, async function () {
      const client = await connected(await authorizedSession(emu, BOB, keyLength));
      assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Bob');
      assert.equal(emu.activeSessions(BOB).length, 1);
    });
  }

  it('completes 30 sequential auth key exchanges, each a fresh key', async function () {
    this.timeout(25000);
    for (let i = 0; i < 30; i += 1) {
      const client = emulatorClient(emu, { apiId: API_ID, apiHash: API_HASH });
      assert.equal(await within(client.connect(), T, `connect #${i}`), true);
      const config = await within(client.invoke(new Api.help.GetConfig()), T, `getConfig #${i}`);
      assert.equal(config.thisDc, emu.dcId);
      await within(client.destroy(), T, 'destroy');
    }
    assert.equal(emu.authKeyCount, 30);
  });
});

describe('MTProto emulator with several DCs (GramJS switches DC by itself)', function () {
  /** Ann and Cid (2FA) live on DC 4, Bob on DC 2; a new client starts on DC 2. */
  const CID = '+15550000003';
  let emu: MtprotoEmulator;
  const clients: TelegramClient[] = [];

  async function connected(options: { session?: string; dcId?: number } = {}): Promise<TelegramClient> {
    const client = emulatorClient(emu, { apiId: API_ID, apiHash: API_HASH, ...options });
    clients.push(client);
    assert.equal(await within(client.connect(), T, 'connect'), true);
    return client;
  }

  const dcOf = (client: TelegramClient): number => client.session.dcId;
  const savedSession = (client: TelegramClient): string => client.session.save() as unknown as string;

  /** The calls one DC answered since request #`from`: 'auth.SendCode' or 'auth.SendCode 303 PHONE_MIGRATE_4'. */
  function callsOn(dcId: number, from = 0): string[] {
    return emu.requests.slice(from).filter((r) => r.dcId === dcId).map((r) => (r.error ? `${r.method} ${r.error}` : r.method));
  }

  /** The DC a rejected call was sent to by PHONE_MIGRATE (GramJS raises it only on an authorized client). */
  async function migratedTo(promise: Promise<unknown>): Promise<number> {
    try {
      await promise;
    } catch (err) {
      assert.ok(err instanceof errors.PhoneMigrateError, String(err));
      return err.newDc;
    }
    assert.fail('expected PHONE_MIGRATE_X');
  }

  /** A fresh QR login token of an unauthorized client. */
  async function qrTokenOf(client: TelegramClient): Promise<Buffer> {
    const result = await exportLoginToken(client);
    assert.ok(result instanceof Api.auth.LoginToken);
    return result.token;
  }

  /** A token exported by `client`, accepted by the app of `phone`, once the client heard of it. */
  async function scannedToken(client: TelegramClient, phone: string): Promise<Buffer> {
    const token = await qrTokenOf(client);
    const scanned = loginTokenUpdate(client);
    emu.acceptLoginToken(phone, token);
    await within(scanned, T, 'updateLoginToken');
    return token;
  }

  function importLoginToken(client: TelegramClient, token: Buffer): Promise<Api.auth.TypeLoginToken> {
    return within(client.invoke(new Api.auth.ImportLoginToken({ token })), T, 'auth.importLoginToken');
  }

  beforeEach(async function () {
    emu = await MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH, dcs: [2, 4] });
    emu.addAccount({ phone: ANN, firstName: 'Ann', dcId: 4 });
    emu.addAccount({ phone: BOB, firstName: 'Bob' });
    emu.addAccount({ phone: CID, firstName: 'Cid', password: 'cid pw', dcId: 4 });
  });

  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => within(c.destroy(), T, 'destroy').catch(() => undefined)));
    await emu.stop();
  });

  it('listens per DC on 127.0.0.1 / 127.0.0.2 and one port; help.getConfig and getNearestDc answer per DC', async function () {
    assert.deepEqual(emu.dcOptions, [{ dcId: 2, host: '127.0.0.1', port: emu.port }, { dcId: 4, host: '127.0.0.2', port: emu.port }]);
    assert.deepEqual([emu.dcId, emu.host], [2, '127.0.0.1']);
    assert.deepEqual([emu.account(ANN)!.dcId, emu.account(BOB)!.dcId], [4, 2]);
    for (const dcId of [2, 4]) {
      const client = await connected({ dcId });
      const config = await within(client.invoke(new Api.help.GetConfig()), T, 'help.getConfig');
      assert.equal(config.thisDc, dcId);
      assert.deepEqual(config.dcOptions.map((o) => [o.id, o.ipAddress, o.port]), [[2, '127.0.0.1', emu.port], [4, '127.0.0.2', emu.port]]);
      assert.equal((await within(client.invoke(new Api.help.GetNearestDc()), T, 'help.getNearestDc')).thisDc, dcId);
    }
    assert.deepEqual(emu.requests.map((r) => r.dcId), [2, 2, 2, 4, 4, 4]);
    assert.equal(emu.authKeyCount, 2);
    assert.throws(() => emu.addAccount({ phone: '+15550000008', firstName: 'X', dcId: 3 }), /no DC 3/);
    await assert.rejects(MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH, dcs: [2, 2] }), /distinct/);
  });

  it('knows an auth key only on its own DC: a DC 2 key sent to DC 4 gets transport error -404', async function () {
    const moved = new StringSession(await authorizedSession(emu, BOB));
    await moved.load();
    moved.setDC(4, '127.0.0.2', emu.port);
    const client = emulatorClient(emu, { apiId: API_ID, apiHash: API_HASH, session: moved.save() });
    clients.push(client);
    void client.connect().catch(() => false);
    assert.equal(await emu.waitForTransportError(), -404);
    assert.deepEqual(emu.activeSessions(BOB).map((s) => s.dcId), [2]);
  });

  it('moves a code login to the account\'s DC: 303 PHONE_MIGRATE_4, GramJS makes a key on DC 4 and retries; '
    + 'signIn there; the saved session goes straight to DC 4', async function () {
    const client = await connected();
    assert.equal(dcOf(client), 2);
    const sent = await sendCode(client, ANN);
    assert.ok(sent.type instanceof Api.auth.SentCodeTypeApp);
    assert.equal(dcOf(client), 4);
    // GramJS checks it is not logged in (updates.getState), reads the DC list, reconnects with a new key, retries.
    assert.deepEqual(callsOn(2), [
      'help.GetConfig', 'auth.SendCode 303 PHONE_MIGRATE_4', 'updates.GetState 401 AUTH_KEY_UNREGISTERED', 'help.GetConfig',
    ]);
    assert.deepEqual(callsOn(4), ['help.GetConfig', 'auth.SendCode']);
    const refused = await emu.waitForRequest('auth.SendCode', { dcId: 2 });
    const retried = await emu.waitForRequest('auth.SendCode', { dcId: 4 });
    assert.notEqual(retried.authKeyId, refused.authKeyId);
    assert.equal(emu.authKeyCount, 2);
    const auth = await signIn(client, ANN, sent.phoneCodeHash, await emu.waitForCode(ANN));
    assert.ok(auth instanceof Api.auth.Authorization);
    assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Ann');
    assert.deepEqual(emu.activeSessions(ANN).map((s) => [s.dcId, s.authKeyId]), [[4, retried.authKeyId]]);
    const saved = savedSession(client);
    await within(client.destroy(), T, 'destroy');
    const mark = emu.requests.length;
    const again = await connected({ session: saved });
    assert.equal((await within(again.getMe(), T, 'getMe')).firstName, 'Ann');
    assert.deepEqual(callsOn(2, mark), []);
    assert.deepEqual(callsOn(4, mark), ['help.GetConfig', 'users.GetUsers']);
    assert.equal(emu.authKeyCount, 2, 'no new key');
  });

  it('moves a 2FA login too: signIn, getPassword and checkPassword all on the DC 4 key', async function () {
    const client = await connected();
    const sent = await sendCode(client, CID);
    assert.equal(dcOf(client), 4);
    assert.equal(await rejection(signIn(client, CID, sent.phoneCodeHash, await emu.waitForCode(CID))), '401 SESSION_PASSWORD_NEEDED');
    assert.ok((await checkPassword(client, 'cid pw')) instanceof Api.auth.Authorization);
    assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Cid');
    const dc4Key = (await emu.waitForRequest('auth.SendCode', { dcId: 4 })).authKeyId;
    for (const method of ['auth.SignIn', 'account.GetPassword', 'auth.CheckPassword']) {
      const call = await emu.waitForRequest(method);
      assert.deepEqual([call.dcId, call.authKeyId], [4, dc4Key], method);
    }
    assert.deepEqual(emu.activeSessions(CID).map((s) => s.authKeyId), [dc4Key]);
  });

  it("GramJS's own client.start() follows PHONE_MIGRATE as well", async function () {
    const client = emulatorClient(emu, { apiId: API_ID, apiHash: API_HASH });
    clients.push(client);
    await within(client.start({
      phoneNumber: CID,
      phoneCode: () => emu.waitForCode(CID),
      password: async () => 'cid pw',
      onError: (err) => { throw err; },
    }), T, 'client.start');
    assert.equal(dcOf(client), 4);
    assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Cid');
  });

  it('answers sendCode, resendCode, signIn and signUp off the home DC with 303 PHONE_MIGRATE_4 (raised by GramJS when logged in)', async function () {
    const bob = await connected({ session: await authorizedSession(emu, BOB) });
    assert.equal(await migratedTo(sendCode(bob, ANN)), 4);
    assert.equal(await migratedTo(within(bob.invoke(new Api.auth.ResendCode({ phoneNumber: ANN, phoneCodeHash: 'h' })), T, 'resendCode')), 4);
    assert.equal(await migratedTo(signIn(bob, ANN, 'h', '12345')), 4);
    const signUp = new Api.auth.SignUp({ phoneNumber: ANN, phoneCodeHash: 'h', firstName: 'A', lastName: '' });
    assert.equal(await migratedTo(within(bob.invoke(signUp), T, 'signUp')), 4);
    assert.equal(dcOf(bob), 2);
    assert.deepEqual(emu.requests.filter((r) => r.error).map((r) => `${r.method} ${r.error}`), [
      'auth.SendCode 303 PHONE_MIGRATE_4', 'auth.ResendCode 303 PHONE_MIGRATE_4', 'auth.SignIn 303 PHONE_MIGRATE_4', 'auth.SignUp 303 PHONE_MIGRATE_4',
    ]);
    assert.equal(emu.codeFor(ANN), undefined, 'no code sent from the wrong DC');
  });

  it('signs a new number up on the DC where it asks; its later logins elsewhere are sent there', async function () {
    const phone = '+15550000009';
    const four = await connected({ dcId: 4 });
    const sent = await sendCode(four, phone);
    assert.ok((await signIn(four, phone, sent.phoneCodeHash, await emu.waitForCode(phone))) instanceof Api.auth.AuthorizationSignUpRequired);
    const signUp = new Api.auth.SignUp({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, firstName: 'Nia', lastName: '' });
    const auth = await within(four.invoke(signUp), T, 'signUp');
    assert.ok(auth instanceof Api.auth.Authorization);
    assert.equal(emu.account(phone)!.dcId, 4);
    const two = await connected();
    await sendCode(two, phone);
    assert.equal(dcOf(two), 4);
    assert.deepEqual(callsOn(2).filter((c) => c.startsWith('auth.')), ['auth.SendCode 303 PHONE_MIGRATE_4']);
  });

  it('QR login across DCs: exported on DC 2, accepted by a DC 4 account → loginTokenMigrateTo; '
    + '_switchDC(4) + importLoginToken → success', async function () {
    const client = await connected();
    const token = await scannedToken(client, ANN);
    const migrate = await exportLoginToken(client);
    assert.ok(migrate instanceof Api.auth.LoginTokenMigrateTo);
    assert.equal(migrate.dcId, 4);
    assert.ok(Buffer.from(migrate.token).equals(token));
    assert.equal(await within(client._switchDC(migrate.dcId), T, '_switchDC'), true);
    assert.equal(dcOf(client), 4);
    const success = await importLoginToken(client, migrate.token);
    assert.ok(success instanceof Api.auth.LoginTokenSuccess && success.authorization instanceof Api.auth.Authorization);
    assert.equal((success.authorization.user as Api.User).firstName, 'Ann');
    assert.equal((await within(client.getMe(), T, 'getMe')).phone, '15550000001');
    const exporter = (await emu.waitForRequest('auth.ExportLoginToken')).authKeyId;
    const imported = await emu.waitForRequest('auth.ImportLoginToken');
    assert.equal(imported.dcId, 4);
    assert.notEqual(imported.authKeyId, exporter);
    assert.deepEqual(emu.activeSessions(ANN).map((s) => [s.dcId, s.authKeyId]), [[4, imported.authKeyId]]);
    assert.equal(await rejection(importLoginToken(client, migrate.token)), '400 AUTH_TOKEN_INVALID', 'used up');
  });

  it('QR login across DCs with 2FA: importLoginToken → SESSION_PASSWORD_NEEDED, then the password on the DC 4 key', async function () {
    const client = await connected();
    await scannedToken(client, CID);
    const migrate = await exportLoginToken(client);
    assert.ok(migrate instanceof Api.auth.LoginTokenMigrateTo);
    await within(client._switchDC(migrate.dcId), T, '_switchDC');
    assert.equal(await rejection(importLoginToken(client, migrate.token)), '401 SESSION_PASSWORD_NEEDED');
    assert.equal(await rejection(within(client.getMe(), T, 'getMe')), '401 AUTH_KEY_UNREGISTERED');
    assert.ok((await checkPassword(client, 'cid pw')) instanceof Api.auth.Authorization);
    assert.equal((await within(client.getMe(), T, 'getMe')).firstName, 'Cid');
    const imported = await emu.waitForRequest('auth.ImportLoginToken');
    assert.deepEqual(emu.activeSessions(CID).map((s) => [s.dcId, s.authKeyId]), [[4, imported.authKeyId]]);
  });

  it('refuses importLoginToken of unknown, unaccepted, used and other-DC tokens (400 AUTH_TOKEN_INVALID)', async function () {
    const two = await connected();
    const four = await connected({ dcId: 4 });
    const token = await qrTokenOf(two);
    assert.equal(await rejection(importLoginToken(four, randomBytes(32))), '400 AUTH_TOKEN_INVALID');
    assert.equal(await rejection(importLoginToken(four, token)), '400 AUTH_TOKEN_INVALID', 'not accepted yet');
    emu.acceptLoginToken(ANN, token);
    assert.equal(await rejection(importLoginToken(two, token)), '400 AUTH_TOKEN_INVALID', 'not the account\'s DC');
    assert.ok((await importLoginToken(four, token)) instanceof Api.auth.LoginTokenSuccess);
    assert.equal(await rejection(importLoginToken(four, token)), '400 AUTH_TOKEN_INVALID', 'used up');
    assert.ok((await exportLoginToken(two)) instanceof Api.auth.LoginToken, 'the exporting key starts over');
    assert.equal(await rejection(within(two.getMe(), T, 'getMe')), '401 AUTH_KEY_UNREGISTERED');
  });

  it('QR login stays on DC 2 when a DC 2 account accepts', async function () {
    const client = await connected();
    await scannedToken(client, BOB);
    assert.ok((await exportLoginToken(client)) instanceof Api.auth.LoginTokenSuccess);
    assert.deepEqual([dcOf(client), (await within(client.getMe(), T, 'getMe')).firstName], [2, 'Bob']);
  });

  it('applies fault injection on every DC (flood wait, dropped connections, revoked sessions)', async function () {
    const ann = await connected({ session: await authorizedSession(emu, ANN) });
    assert.equal(dcOf(ann), 4);
    emu.floodWait({ method: 'users.GetUsers', seconds: 7 });
    await assert.rejects(within(ann.getMe(), T, 'getMe'), (err: { seconds?: number }) => err.seconds === 7);
    emu.dropConnections();
    assert.equal((await within(ann.getMe(), T, 'getMe after drop')).firstName, 'Ann');
    assert.equal(emu.revokeSessions(ANN), 1);
    assert.equal(await rejection(within(ann.getMe(), T, 'getMe')), '401 AUTH_KEY_UNREGISTERED');
    assert.deepEqual([...new Set(emu.requests.map((r) => r.dcId))], [4]);
    assert.equal(emu.requests.find((r) => r.error?.startsWith('420'))?.dcId, 4);
  });
});
