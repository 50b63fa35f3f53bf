import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import type { Database } from '../storage/database.js';
import type { Metrics } from '../status/metrics.js';

/** Bot API methods the outbox can carry (each takes `chat_id` plus the params given). */
export type OutboxMethod = 'sendMessage' | 'editMessageText' | 'editMessageReplyMarkup' | 'deleteMessage' | 'sendDocument' | 'sendPhoto';

/** A message to deliver, as a feature describes it. */
export interface OutgoingMessage {
  /**
   * Unique per fact reported, e.g. `missed:<linkedid>:<chatId>`: enqueueing the same key
   * twice stores one message, so replays and retries of the caller never duplicate.
   */
  key: string;
  /** Which bot sends it; `default` is the bot of the Settings page. */
  botId?: string;
  chatId: string | number;
  method: OutboxMethod;
  /**
   * Bot API parameters other than chat_id (text, reply_markup...). An edit or delete of a
   * message sent through the outbox gives `message_id_of: <that message's key>` instead of
   * `message_id`: the sender fills the id in once the message went out.
   */
  params: Record<string, unknown>;
}

/** A row of the outbox table. */
export interface OutboxRow {
  id: number;
  idempotency_key: string;
  bot_id: string;
  chat_id: string;
  method: OutboxMethod;
  payload: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  not_before: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  telegram_message_id: number | null;
}

export const DEFAULT_BOT_ID = 'default';

/**
 * The durable queue of every message tgpbx sends to Telegram. Features call `enqueue`
 * inside the transaction that records the fact being reported, so the message exists if
 * and only if the fact does; OutboxSender delivers it. Emits `enqueued` (after commit)
 * so the sender wakes at once.
 */
export class Outbox extends EventEmitter {
  constructor(
    private readonly db: Database,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /**
   * Stores a message for delivery; pass the caller's transaction as `q` to write it
   * atomically with the caller's own rows. Resolves true when stored, false when a
   * message with the same key already exists.
   */
  async enqueue(q: Knex | Knex.Transaction, message: OutgoingMessage): Promise<boolean> {
    const botId = message.botId ?? DEFAULT_BOT_ID;
    const inserted = await q('outbox')
      .insert({
        idempotency_key: message.key,
        bot_id: botId,
        chat_id: String(message.chatId),
        method: message.method,
        payload: JSON.stringify(message.params),
        status: 'pending',
        attempts: 0,
        not_before: 0,
        created_at: this.now(),
      })
      .onConflict('idempotency_key')
      .ignore()
      .returning('id');
    if (!inserted.length) return false;
    this.metrics.outboxMessages.inc({ state: 'queued' });
    const committed = 'executionPromise' in q ? (q as Knex.Transaction).executionPromise : Promise.resolve();
    committed.then(
      () => this.emit('enqueued', botId),
      () => undefined,
    );
    return true;
  }

  /** The message stored under `key`, if any: lets a feature find the Telegram message id to edit later. */
  async find(key: string): Promise<OutboxRow | undefined> {
    return this.db<OutboxRow>('outbox').where({ idempotency_key: key }).first();
  }

  /** Counts of messages by status (for /health, /metrics and the Status page). */
  async counts(): Promise<Record<OutboxRow['status'], number>> {
    const rows: { status: OutboxRow['status']; n: number | string }[] = await this.db('outbox').select('status').count({ n: '*' }).groupBy('status');
    const out = { pending: 0, sent: 0, failed: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }
}
