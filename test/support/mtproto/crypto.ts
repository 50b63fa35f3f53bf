/**
 * Server-side cryptography of the MTProto emulator, written from the MTProto 2.0 specification
 * (core.telegram.org/mtproto/description, /mtproto/auth_key, /api/srp) on top of node:crypto,
 * independently of GramJS's client-side code so that the two check each other.
 */
import {
  createCipheriv, createDecipheriv, createDiffieHellman, createHash, generateKeyPairSync, privateDecrypt,
  randomBytes, constants, type KeyObject,
} from 'node:crypto';

export const sha1 = (...parts: Buffer[]): Buffer => createHash('sha1').update(Buffer.concat(parts)).digest();
export const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

/**
 * The 2048-bit safe prime Telegram uses for the auth key DH exchange and for SRP 2FA (published on
 * core.telegram.org/mtproto/auth_key and /api/srp; GramJS's Password.js hard-codes it and refuses others).
 */
export const TELEGRAM_PRIME_HEX =
  'c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4db' +
  'fa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f64' +
  '2477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b41' +
  '0dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4' +
  'e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf' +
  '6f4fadf034b10403119cd8e3b92fcc5b';
export const TELEGRAM_PRIME = Buffer.from(TELEGRAM_PRIME_HEX, 'hex');
export const TELEGRAM_PRIME_BIG = BigInt(`0x${TELEGRAM_PRIME_HEX}`);
/** g for the auth key exchange (p mod 24 = 23, so 3 generates the big subgroup, as Telegram sends). */
export const DH_G = 3;

// ------------------------------------------------------------ big numbers

export function bufToBig(buf: Buffer): bigint {
  return buf.length === 0 ? 0n : BigInt(`0x${buf.toString('hex')}`);
}

/** Big-endian bytes of n, left-padded to `size` (or the shortest encoding when size is 0). */
export function bigToBuf(n: bigint, size = 0): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const raw = n === 0n ? Buffer.alloc(0) : Buffer.from(hex, 'hex');
  if (size === 0) return raw;
  if (raw.length > size) throw new Error('number too large');
  return Buffer.concat([Buffer.alloc(size - raw.length), raw]);
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

export function randomBig(bytes: number): bigint {
  return bufToBig(randomBytes(bytes));
}

/** Deterministic Miller-Rabin for n < 3.3e24 (bases: the first 13 primes). */
function isPrime(n: bigint): boolean {
  if (n < 2n) return false;
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n];
  for (const p of bases) if (n % p === 0n) return n === p;
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) { d >>= 1n; s += 1; }
  outer: for (const a of bases) {
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let i = 1; i < s; i += 1) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

function randomPrime(bits: number): bigint {
  for (;;) {
    let n = randomBig(Math.ceil(bits / 8)) & ((1n << BigInt(bits)) - 1n);
    n |= (1n << BigInt(bits - 1)) | 1n;
    if (isPrime(n)) return n;
  }
}

/** pq for res_pq: the product of two distinct primes of about 31 bits, p < q (Telegram's pq is < 2^63). */
export function makePq(): { pq: bigint; p: bigint; q: bigint } {
  for (;;) {
    const a = randomPrime(31);
    const b = randomPrime(31);
    if (a === b) continue;
    const [p, q] = a < b ? [a, b] : [b, a];
    return { pq: p * q, p, q };
  }
}

// ------------------------------------------------------------ AES-256-IGE

function xor16(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i += 1) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** AES-256 in IGE mode (core.telegram.org/mtproto/description#defining-aes-key-and-initialization-vector). */
export function igeEncrypt(data: Buffer, key: Buffer, iv: Buffer): Buffer {
  if (data.length % 16) throw new Error('IGE data must be a multiple of 16 bytes');
  const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  let prevC = iv.subarray(0, 16);
  let prevP = iv.subarray(16, 32);
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i += 16) {
    const p = data.subarray(i, i + 16);
    const c = xor16(ecb.update(xor16(p, prevC)), prevP);
    c.copy(out, i);
    prevC = c;
    prevP = p;
  }
  return out;
}

export function igeDecrypt(data: Buffer, key: Buffer, iv: Buffer): Buffer {
  if (data.length % 16) throw new Error('IGE data must be a multiple of 16 bytes');
  const ecb = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  let prevC = iv.subarray(0, 16);
  let prevP = iv.subarray(16, 32);
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i += 16) {
    const c = data.subarray(i, i + 16);
    const p = xor16(ecb.update(xor16(c, prevP)), prevC);
    p.copy(out, i);
    prevC = c;
    prevP = p;
  }
  return out;
}

/** MTProto 2.0 message key derivation; x = 0 for client-to-server messages, 8 for server-to-client. */
export function messageKeys(authKey: Buffer, msgKey: Buffer, x: 0 | 8): { key: Buffer; iv: Buffer } {
  const a = sha256(msgKey, authKey.subarray(x, x + 36));
  const b = sha256(authKey.subarray(40 + x, 76 + x), msgKey);
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

/** msg_key = middle 128 bits of SHA256(substr(auth_key, 88+x, 32) + plaintext + padding). */
export function messageKey(authKey: Buffer, plaintextWithPadding: Buffer, x: 0 | 8): Buffer {
  return sha256(authKey.subarray(88 + x, 120 + x), plaintextWithPadding).subarray(8, 24);
}

// ------------------------------------------------------------ RSA

/** The emulator's RSA key: generated once per process (never stored in the repository). */
export interface RsaKey {
  readonly privateKey: KeyObject;
  /** Modulus, big-endian. */
  readonly n: Buffer;
  readonly e: number;
  /** Low 64 bits of SHA1(rsa_public_key n:bytes e:bytes), as a signed decimal (GramJS's _serverKeys key). */
  readonly fingerprint: string;
}

let cachedKey: RsaKey | undefined;

function tlBytes(data: Buffer): Buffer {
  const header = data.length < 254 ? Buffer.from([data.length]) : Buffer.from([254, data.length & 0xff, (data.length >> 8) & 0xff, (data.length >> 16) & 0xff]);
  const len = header.length + data.length;
  return Buffer.concat([header, data, Buffer.alloc((4 - (len % 4)) % 4)]);
}

export function emulatorRsaKey(): RsaKey {
  if (cachedKey) return cachedKey;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' });
  const n = Buffer.from(jwk.n!, 'base64url');
  const e = Buffer.from(jwk.e!, 'base64url');
  const digest = sha1(tlBytes(n), tlBytes(e));
  const fingerprint = digest.subarray(12, 20).readBigInt64LE(0).toString();
  cachedKey = { privateKey, n, e: Number(bufToBig(e)), fingerprint };
  return cachedKey;
}

/** Textbook RSA decryption (no padding): RSA_PAD is the client's own padding scheme. */
export function rsaDecryptRaw(key: RsaKey, data: Buffer): Buffer {
  return privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, data);
}

// ------------------------------------------------------------ DH

/** A server DH half: g_a = g^a mod p with Telegram's prime, computed by OpenSSL. */
export function dhServerHalf(): { gA: Buffer; secret: (gB: Buffer) => Buffer } {
  const dh = createDiffieHellman(TELEGRAM_PRIME, Buffer.from([DH_G]));
  const gA = bigToBuf(bufToBig(dh.generateKeys()), 256);
  return { gA, secret: (gB) => dh.computeSecret(gB) };
}

/** The checks of core.telegram.org/mtproto/auth_key: 1 < g_b < p-1 and 2^{2048-64} <= g_b <= p - 2^{2048-64}. */
export function isSafeDhValue(value: bigint): boolean {
  const bound = 1n << (2048n - 64n);
  return value > 1n && value < TELEGRAM_PRIME_BIG - 1n && value >= bound && value <= TELEGRAM_PRIME_BIG - bound;
}

/** The auth key as clients store it: the shortest big-endian encoding of g^ab mod p (255 bytes when the top byte is 0). */
export function canonicalAuthKey(secret: Buffer): Buffer {
  let i = 0;
  while (i < secret.length - 1 && secret[i] === 0) i += 1;
  return Buffer.from(secret.subarray(i));
}
