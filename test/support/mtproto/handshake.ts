/**
 * The server side of the auth key exchange (core.telegram.org/mtproto/auth_key):
 * req_pq_multi -> resPQ, req_DH_params (RSA_PAD) -> server_DH_params_ok,
 * set_client_DH_params -> dh_gen_ok. Messages are plain (auth_key_id 0); TL objects are
 * GramJS's own classes. Any violation ends with the transport error -404, as Telegram does.
 */
import { randomBytes } from 'node:crypto';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { BinaryReader } from 'telegram/extensions/index.js';
import { readBigIntFromBuffer, toSignedLittleBuffer } from 'telegram/Helpers.js';
import {
  DH_G, TELEGRAM_PRIME, bigToBuf, bufToBig, canonicalAuthKey, dhServerHalf, igeDecrypt, igeEncrypt, isSafeDhValue,
  makePq, rsaDecryptRaw, sha1, sha256, type RsaKey,
} from './crypto.js';

/** A finished exchange: the key (canonical bytes), its id and the first server salt. */
export interface NewAuthKey {
  key: Buffer;
  /** auth_key_id: low 64 bits of SHA1(key), as the 8 bytes sent on the wire. */
  id: Buffer;
  /** substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8). */
  salt: Buffer;
  /** True when the client asked for a temporary key (p_q_inner_data_temp_dc). */
  temporary: boolean;
}

export class HandshakeError extends Error {}

interface Pending {
  nonce: Buffer;
  serverNonce: Buffer;
  p: bigint;
  q: bigint;
  pq: bigint;
  newNonce?: Buffer;
  tmpKey?: Buffer;
  tmpIv?: Buffer;
  secret?: (gB: Buffer) => Buffer;
  temporary?: boolean;
}

const int128 = (value: bigInt.BigInteger): Buffer => toSignedLittleBuffer(value, 16);
const asInt = (buf: Buffer): bigInt.BigInteger => readBigIntFromBuffer(buf, true, true);

/** One handshake per nonce; a connection may run several (GramJS runs one per new key). */
export class Handshakes {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly rsa: RsaKey,
    private readonly keyExists: (id: Buffer) => boolean,
  ) {}

  /**
   * Handles one plain message body; returns the reply body and, after set_client_DH_params, the new key.
   * Throws HandshakeError on any protocol violation.
   */
  handle(body: Buffer): { reply: Buffer; key?: NewAuthKey } {
    let obj: unknown;
    try {
      obj = new BinaryReader(body).tgReadObject();
    } catch {
      throw new HandshakeError('unreadable plain message');
    }
    if (obj instanceof Api.ReqPqMulti || obj instanceof Api.ReqPq) return { reply: this.reqPq(obj) };
    if (obj instanceof Api.ReqDHParams) return { reply: this.reqDhParams(obj) };
    if (obj instanceof Api.SetClientDHParams) return this.setClientDhParams(obj);
    throw new HandshakeError(`unexpected plain message ${(obj as { className?: string })?.className ?? typeof obj}`);
  }

  private reqPq(req: Api.ReqPqMulti | Api.ReqPq): Buffer {
    const nonce = int128(req.nonce);
    const serverNonce = randomBytes(16);
    const { pq, p, q } = makePq();
    this.pending.set(nonce.toString('hex'), { nonce, serverNonce, p, q, pq });
    if (this.pending.size > 1000) this.pending.delete(this.pending.keys().next().value!);
    return new Api.ResPQ({
      nonce: req.nonce,
      serverNonce: asInt(serverNonce),
      pq: bigToBuf(pq),
      serverPublicKeyFingerprints: [bigInt(this.rsa.fingerprint)],
    }).getBytes();
  }

  private state(nonce: bigInt.BigInteger, serverNonce: bigInt.BigInteger): Pending {
    const state = this.pending.get(int128(nonce).toString('hex'));
    if (!state || !state.serverNonce.equals(int128(serverNonce))) throw new HandshakeError('unknown nonce');
    return state;
  }

  private reqDhParams(req: Api.ReqDHParams): Buffer {
    const state = this.state(req.nonce, req.serverNonce);
    if (req.publicKeyFingerprint.toString() !== this.rsa.fingerprint) throw new HandshakeError('unknown key fingerprint');
    if (bufToBig(req.p) !== state.p || bufToBig(req.q) !== state.q) throw new HandshakeError('wrong p/q');
    if (req.encryptedData.length !== 256) throw new HandshakeError('encrypted_data is not 256 bytes');
    // RSA_PAD, undone: key_aes_encrypted = temp_key_xor (32) + aes_encrypted (224).
    const keyAesEncrypted = rsaDecryptRaw(this.rsa, req.encryptedData);
    const tempKeyXor = keyAesEncrypted.subarray(0, 32);
    const aesEncrypted = keyAesEncrypted.subarray(32);
    const hash = sha256(aesEncrypted);
    const tempKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i += 1) tempKey[i] = tempKeyXor[i]! ^ hash[i]!;
    const dataWithHash = igeDecrypt(aesEncrypted, tempKey, Buffer.alloc(32));
    const dataWithPadding = Buffer.from(dataWithHash.subarray(0, 192)).reverse();
    if (!sha256(tempKey, dataWithPadding).equals(dataWithHash.subarray(192))) throw new HandshakeError('RSA_PAD hash mismatch');
    let inner: unknown;
    try {
      inner = new BinaryReader(dataWithPadding).tgReadObject();
    } catch {
      throw new HandshakeError('unreadable p_q_inner_data');
    }
    if (!(inner instanceof Api.PQInnerData || inner instanceof Api.PQInnerDataDc
      || inner instanceof Api.PQInnerDataTemp || inner instanceof Api.PQInnerDataTempDc)) {
      throw new HandshakeError('not p_q_inner_data');
    }
    if (!int128(inner.nonce).equals(state.nonce) || !int128(inner.serverNonce).equals(state.serverNonce)
      || bufToBig(inner.pq) !== state.pq) {
      throw new HandshakeError('p_q_inner_data does not match');
    }
    state.newNonce = toSignedLittleBuffer(inner.newNonce, 32);
    state.temporary = inner instanceof Api.PQInnerDataTemp || inner instanceof Api.PQInnerDataTempDc;
    const a = sha1(state.newNonce, state.serverNonce);
    const b = sha1(state.serverNonce, state.newNonce);
    const c = sha1(state.newNonce, state.newNonce);
    state.tmpKey = Buffer.concat([a, b.subarray(0, 12)]);
    state.tmpIv = Buffer.concat([b.subarray(12, 20), c, state.newNonce.subarray(0, 4)]);
    const dh = dhServerHalf();
    state.secret = dh.secret;
    const answer = new Api.ServerDHInnerData({
      nonce: req.nonce,
      serverNonce: req.serverNonce,
      g: DH_G,
      dhPrime: TELEGRAM_PRIME,
      gA: dh.gA,
      serverTime: Math.floor(Date.now() / 1000),
    }).getBytes();
    let withHash = Buffer.concat([sha1(answer), answer]);
    withHash = Buffer.concat([withHash, randomBytes((16 - (withHash.length % 16)) % 16)]);
    return new Api.ServerDHParamsOk({
      nonce: req.nonce,
      serverNonce: req.serverNonce,
      encryptedAnswer: igeEncrypt(withHash, state.tmpKey, state.tmpIv),
    }).getBytes();
  }

  private setClientDhParams(req: Api.SetClientDHParams): { reply: Buffer; key?: NewAuthKey } {
    const state = this.state(req.nonce, req.serverNonce);
    if (!state.tmpKey || !state.tmpIv || !state.newNonce || !state.secret) throw new HandshakeError('req_DH_params missing');
    if (req.encryptedData.length % 16) throw new HandshakeError('encrypted_data not padded');
    const plain = igeDecrypt(req.encryptedData, state.tmpKey, state.tmpIv);
    const reader = new BinaryReader(plain.subarray(20));
    let inner: unknown;
    try {
      inner = reader.tgReadObject();
    } catch {
      throw new HandshakeError('unreadable client_DH_inner_data');
    }
    const innerBytes = plain.subarray(20, 20 + reader.tellPosition());
    if (!sha1(innerBytes).equals(plain.subarray(0, 20))) throw new HandshakeError('client_DH_inner_data hash mismatch');
    if (!(inner instanceof Api.ClientDHInnerData) || !int128(inner.nonce).equals(state.nonce)
      || !int128(inner.serverNonce).equals(state.serverNonce)) {
      throw new HandshakeError('client_DH_inner_data does not match');
    }
    if (!isSafeDhValue(bufToBig(inner.gB))) throw new HandshakeError('unsafe g_b');
    const key = canonicalAuthKey(state.secret(inner.gB));
    const keyHash = sha1(key);
    const id = Buffer.from(keyHash.subarray(12, 20));
    const auxHash = keyHash.subarray(0, 8);
    const nonceHash = (n: number): bigInt.BigInteger =>
      asInt(sha1(state.newNonce!, Buffer.from([n]), auxHash).subarray(4, 20));
    if (this.keyExists(id)) {
      // Astronomically unlikely; the spec's answer is dh_gen_retry.
      return { reply: new Api.DhGenRetry({ nonce: req.nonce, serverNonce: req.serverNonce, newNonceHash2: nonceHash(2) }).getBytes() };
    }
    this.pending.delete(state.nonce.toString('hex'));
    const salt = Buffer.alloc(8);
    for (let i = 0; i < 8; i += 1) salt[i] = state.newNonce[i]! ^ state.serverNonce[i]!;
    return {
      reply: new Api.DhGenOk({ nonce: req.nonce, serverNonce: req.serverNonce, newNonceHash1: nonceHash(1) }).getBytes(),
      key: { key, id, salt, temporary: state.temporary ?? false },
    };
  }
}
