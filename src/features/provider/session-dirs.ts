import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { SavedLogin } from '../../telegram/accounts.js';

/** The three parts of a Telegram number, each authorized on its own. */
export type ComponentKind = 'client' | 'gateway' | 'bot';
export const ACCOUNT_KINDS = ['client', 'gateway'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/**
 * What a component's status file records: the last known state, for the admin who looks
 * at the directory and for the page right after a restart. Never a secret.
 */
export interface ComponentStatusFile {
  state: string;
  detail: string;
  /** The Telegram user the session belongs to, once authorized. */
  user?: { id: string; firstName: string; username: string | null };
  updatedAt: string;
}

const SESSION_FILE = 'session';
const STATUS_FILE = 'status.json';
const LOGIN_FILE = 'login.json';

const savedLoginSchema = z.object({
  session: z.string().min(1),
  /** Empty for a QR login (it has no code). */
  phoneCodeHash: z.string(),
  step: z.enum(['code', 'password', 'name']),
  prompt: z.string().nullable(),
  nextCodeBy: z.string().nullable().optional(),
  startedAt: z.number(),
});

/**
 * The provider's session directories under the data dir (README "Session directories"):
 *
 *     sessions/<phone digits>/client/   the user account's GramJS session
 *     sessions/<phone digits>/gateway/  the voice gateway's session of the same account
 *     sessions/bot/                     the provider bot's status
 *
 * Each holds `session` (a GramJS string session: a login, mode 0600), `status.json` and,
 * while a login waits for the admin's answer, `login.json` (mode 0600: it holds the login
 * client's session). Deleting a directory resets that component: it asks for
 * authorization again.
 */
export class SessionDirs {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'sessions');
  }

  /** The directory of one component; the phone is E.164 and becomes its digits. */
  dirOf(kind: ComponentKind, phone?: string): string {
    if (kind === 'bot') return path.join(this.root, 'bot');
    if (!phone) throw new Error(`the ${kind} component needs a phone number`);
    return path.join(this.numberDir(phone), kind);
  }

  numberDir(phone: string): string {
    const digits = phone.replace(/\D/g, '');
    if (!digits) throw new Error('a phone number needs digits');
    return path.join(this.root, digits);
  }

  /** The saved session string, or null when the component was never authorized or was reset. */
  readSession(kind: AccountKind, phone: string): string | null {
    try {
      const text = fs.readFileSync(path.join(this.dirOf(kind, phone), SESSION_FILE), 'utf8').trim();
      return text || null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Saves a session string atomically (temp file + rename) with mode 0600. */
  writeSession(kind: AccountKind, phone: string, session: string): void {
    const dir = this.ensureDir(kind, phone);
    writeAtomically(path.join(dir, SESSION_FILE), session);
  }

  /** Forgets a session (revoked or logged out); the status file stays to say why. */
  removeSession(kind: AccountKind, phone: string): void {
    fs.rmSync(path.join(this.dirOf(kind, phone), SESSION_FILE), { force: true });
  }

  /** The login waiting for an answer, or null (none, or a file that is not one: it is deleted). */
  readLogin(kind: AccountKind, phone: string): SavedLogin | null {
    const file = path.join(this.dirOf(kind, phone), LOGIN_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      return savedLoginSchema.parse(JSON.parse(text));
    } catch {
      fs.rmSync(file, { force: true });
      return null;
    }
  }

  writeLogin(kind: AccountKind, phone: string, login: SavedLogin): void {
    writeAtomically(path.join(this.ensureDir(kind, phone), LOGIN_FILE), JSON.stringify(login));
  }

  removeLogin(kind: AccountKind, phone: string): void {
    fs.rmSync(path.join(this.dirOf(kind, phone), LOGIN_FILE), { force: true });
  }

  readStatus(kind: ComponentKind, phone?: string): ComponentStatusFile | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dirOf(kind, phone), STATUS_FILE), 'utf8')) as ComponentStatusFile;
    } catch {
      return null;
    }
  }

  writeStatus(kind: ComponentKind, phone: string | undefined, status: ComponentStatusFile): void {
    const dir = this.ensureDir(kind, phone);
    writeAtomically(path.join(dir, STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`);
  }

  /** Deletes a number's directories (the number was removed). */
  removeNumber(phone: string): void {
    fs.rmSync(this.numberDir(phone), { recursive: true, force: true });
  }

  private ensureDir(kind: ComponentKind, phone?: string): string {
    const dir = this.dirOf(kind, phone);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
}

function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text, { mode: 0o600 });
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}
