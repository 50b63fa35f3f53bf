import type { Database } from '../storage/database.js';

/** One Asterisk channel carrying a Telegram caller, as the `tg-callerid` hook recorded it. */
export interface TelegramChannel {
  uniqueid: string;
  channel: string;
  linkedid: string | null;
  telegramUserId: string | null;
  telegramUsername: string | null;
  phone: string | null;
  lineId: number | null;
  createdAt: number;
  expiresAt: number;
}

interface Row {
  uniqueid: string;
  channel: string;
  linkedid: string | null;
  telegram_user_id: string | null;
  telegram_username: string | null;
  phone: string | null;
  line_id: number | null;
  created_at: number;
  expires_at: number;
}

const PURGE_INTERVAL_MS = 60_000;
/** At most this many records in one write (9 columns each: far below SQLite's variable limit). */
const MAX_BATCH = 500;

interface PendingWrite {
  record: TelegramChannel;
  resolve(): void;
  reject(err: Error): void;
}

/** A record outlives a call whose Hangup tgpbx never saw (AMI down) by at most this long (default 12 h). */
export const DEFAULT_TELEGRAM_CHANNEL_TTL_MS = 12 * 3_600_000;

/**
 * tgpbx's own memory of which Asterisk channel belongs to which Telegram user (table
 * `telegram_channels`), so that the extension keyboard can send DTMF into the right call.
 * A record lives for the duration of the call: `forget` at Hangup, and an expiry for the
 * Hangups never seen. Expired records are never returned, and are purged at most once a
 * minute, by the next write.
 *
 * Writes are group-committed: records remembered while a write is in progress go to the
 * database together in the next one (one multi-row upsert), and each `remember` resolves
 * once its own record is stored.
 */
export class TelegramChannelStore {
  private lastPurge = 0;
  private waiting: PendingWrite[] = [];
  private writing = false;

  constructor(
    private readonly db: Database,
    private readonly ttlMs = DEFAULT_TELEGRAM_CHANNEL_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records (or refreshes) the channel `entry.uniqueid`; resolves with the stored record. */
  remember(entry: Omit<TelegramChannel, 'createdAt' | 'expiresAt'>): Promise<TelegramChannel> {
    const now = this.now();
    const record: TelegramChannel = { ...entry, createdAt: now, expiresAt: now + this.ttlMs };
    return new Promise((resolve, reject) => {
      this.waiting.push({ record, resolve: () => resolve(record), reject });
      if (!this.writing) void this.write();
    });
  }

  private async write(): Promise<void> {
    this.writing = true;
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      // One row per uniqueid (the last wins): PostgreSQL refuses to upsert a row twice in one statement.
      const rows = [...new Map(batch.map((w) => [w.record.uniqueid, toRow(w.record)])).values()];
      try {
        await this.db('telegram_channels')
          .insert(rows)
          .onConflict('uniqueid')
          .merge(['channel', 'linkedid', 'telegram_user_id', 'telegram_username', 'phone', 'line_id', 'expires_at']);
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err as Error);
      }
      const now = this.now();
      if (now - this.lastPurge >= PURGE_INTERVAL_MS) {
        this.lastPurge = now;
        await this.purgeExpired().catch(() => undefined);
      }
    }
    this.writing = false;
  }

  /** Forgets a channel (its Hangup was seen); true when there was a record. */
  async forget(uniqueid: string): Promise<boolean> {
    return (await this.db('telegram_channels').where({ uniqueid }).delete()) > 0;
  }

  /** The live record of a channel by its uniqueid. */
  async byUniqueid(uniqueid: string): Promise<TelegramChannel | undefined> {
    const row: Row | undefined = await this.db('telegram_channels').where({ uniqueid }).andWhere('expires_at', '>', this.now()).first();
    return row && fromRow(row);
  }

  /** The live channels of a Telegram user, newest first (normally one: the call in progress). */
  async byTelegramUser(telegramUserId: string): Promise<TelegramChannel[]> {
    const rows: Row[] = await this.db('telegram_channels')
      .where({ telegram_user_id: telegramUserId })
      .andWhere('expires_at', '>', this.now())
      .orderBy('created_at', 'desc');
    return rows.map(fromRow);
  }

  /** Removes every expired record; returns how many. */
  async purgeExpired(): Promise<number> {
    return this.db('telegram_channels').where('expires_at', '<=', this.now()).delete();
  }
}

function toRow(r: TelegramChannel): Row {
  return {
    uniqueid: r.uniqueid,
    channel: r.channel,
    linkedid: r.linkedid,
    telegram_user_id: r.telegramUserId,
    telegram_username: r.telegramUsername,
    phone: r.phone,
    line_id: r.lineId,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
  };
}

function fromRow(r: Row): TelegramChannel {
  return {
    uniqueid: r.uniqueid,
    channel: r.channel,
    linkedid: r.linkedid,
    telegramUserId: r.telegram_user_id,
    telegramUsername: r.telegram_username,
    phone: r.phone,
    lineId: r.line_id === null ? null : Number(r.line_id),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}
