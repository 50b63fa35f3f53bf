import crypto from 'node:crypto';
import { promisify } from 'node:util';
import type { Database } from '../storage/database.js';
import type { SettingsStore } from '../settings/settings-store.js';

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;
const PASSWORD_KEY = 'admin.password_hash';
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** The shortest admin password accepted. */
export const MIN_PASSWORD_LENGTH = 10;

/**
 * The admin's password (an scrypt hash in the settings table) and login sessions
 * (random tokens; only their SHA-256 is stored, so a copy of the database logs nobody in).
 */
export class AdminAuth {
  constructor(
    private readonly db: Database,
    private readonly settings: SettingsStore,
    private readonly sessionTtlMs = 12 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True once the admin chose a password (on the first visit). */
  hasPassword(): boolean {
    return Boolean(this.settings.getInternal(PASSWORD_KEY));
  }

  /** Sets or replaces the password; rejects passwords shorter than MIN_PASSWORD_LENGTH. */
  async setPassword(password: string): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH) throw new Error(`the password must be at least ${MIN_PASSWORD_LENGTH} characters long`);
    const salt = crypto.randomBytes(16);
    const hash = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
    await this.settings.setInternal(PASSWORD_KEY, ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$'));
  }

  /** Checks a password against the stored hash in constant time. */
  async verify(password: string): Promise<boolean> {
    const stored = this.settings.getInternal(PASSWORD_KEY);
    if (!stored) return false;
    const [kind, n, r, p, salt, hash] = stored.split('$');
    if (kind !== 'scrypt' || !salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64');
    const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
    return crypto.timingSafeEqual(actual, expected);
  }

  /** Opens a session; returns the token for the cookie. */
  async createSession(): Promise<string> {
    const token = crypto.randomBytes(32).toString('base64url');
    const now = this.now();
    await this.db('admin_sessions').insert({ id_hash: sha256(token), created_at: now, expires_at: now + this.sessionTtlMs });
    await this.db('admin_sessions').where('expires_at', '<', now).delete();
    return token;
  }

  /** True when the token belongs to an open, unexpired session. */
  async validSession(token: string | undefined): Promise<boolean> {
    if (!token) return false;
    const row = await this.db('admin_sessions').where({ id_hash: sha256(token) }).first('expires_at');
    return Boolean(row && Number(row.expires_at) > this.now());
  }

  async endSession(token: string | undefined): Promise<void> {
    if (token) await this.db('admin_sessions').where({ id_hash: sha256(token) }).delete();
  }
}

function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** Compares a presented bearer token with the configured one without leaking timing. */
export function sameToken(presented: string, expected: string): boolean {
  const a = Buffer.from(sha256(presented));
  const b = Buffer.from(sha256(expected));
  return crypto.timingSafeEqual(a, b);
}
