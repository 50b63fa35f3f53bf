import { GrammyError, HttpError, type Api } from 'grammy';
import type { Logger } from '../log/logger.js';
import type { SecretScrubber } from '../log/secret-scrubber.js';
import type { Database } from '../storage/database.js';
import type { Metrics } from '../status/metrics.js';
import { nextBackoff, type BackoffPolicy } from '../retry/backoff.js';
import type { OutboxRow } from './outbox.js';
import type { RecipientStore } from './recipients.js';
import { SendRateLimiter, type SendLimits } from './send-rate-limiter.js';

/** What the sender needs from the bot that owns its lane. */
export interface SenderBot {
  /** The Bot API client of this bot, or null while its token is unchecked or refused. */
  api(): Api | null;
  /** Telegram refused the token (401/404): the bot must be re-checked before sending again. */
  tokenRefused(description: string): void;
}

export interface OutboxSenderOptions {
  db: Database;
  /** Cleans error texts before they are stored or logged (network errors quote the request URL, token included). */
  scrubber: SecretScrubber;
  botId: string;
  bot: SenderBot;
  recipients: RecipientStore;
  limits: () => SendLimits;
  inFlight: () => number;
  logger: Logger;
  metrics: Metrics;
  retry?: BackoffPolicy;
  now?: () => number;
}

type Outcome =
  | { kind: 'sent'; messageId: number | null }
  | { kind: 'retry'; at: number; error: string; rateLimited: boolean }
  | { kind: 'failed'; error: string; recipient?: 'blocked' | 'unreachable' }
  | { kind: 'token-refused'; error: string };

/**
 * Delivers one bot's outbox rows to Telegram. Picks the oldest pending row of each chat
 * (so each chat receives its messages in order), keeps within Telegram's limits (global,
 * per chat, per group) before sending, obeys 429 retry_after, retries 5xx and network
 * errors with backoff, marks 403 recipients, and records each outcome right after the
 * reply so a crash re-sends at most the few messages that were in flight.
 */
export class OutboxSender {
  private readonly limiter: SendRateLimiter;
  private readonly busyChats = new Set<string>();
  /**
   * Rows whose outcome was recorded while chatHeads() ran. On PostgreSQL that read runs on
   * another pool connection and may predate the update: it would show the row still
   * pending (and its chat no longer busy), and the row would be sent twice.
   */
  private readonly recordedDuringRead = new Set<number>();
  private reading = false;
  private readonly inFlight = new Set<Promise<void>>();
  private refused = new Set<string>();
  private running = false;
  private pumping: Promise<void> | null = null;
  private dirty = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeResolve: (() => void) | null = null;
  private readonly now: () => number;
  private readonly retry: BackoffPolicy;

  constructor(private readonly opts: OutboxSenderOptions) {
    this.now = opts.now ?? Date.now;
    this.retry = opts.retry ?? { initialMs: 1_000, maxMs: 300_000 };
    this.limiter = new SendRateLimiter(opts.limits());
  }

  /** Starts delivering; rows left pending by an earlier run (a crash) are delivered first. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.refused = await this.opts.recipients.refused(this.opts.botId);
    this.pumping = this.pump().catch((err: Error) => this.opts.logger.error({ err: err.message, bot: this.opts.botId }, 'outbox sender stopped on an error'));
  }

  /** Something changed (a message was enqueued, the bot became ready): look again now. */
  wake(): void {
    this.dirty = true;
    this.wakeResolve?.();
  }

  /** Stops taking rows and waits for the requests in flight to finish and be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.pumping;
    await Promise.all(this.inFlight);
  }

  private async pump(): Promise<void> {
    while (this.running) {
      this.dirty = false;
      let waitUntil = Infinity;
      const api = this.opts.bot.api();
      if (api) {
        this.limiter.setLimits(this.opts.limits());
        this.recordedDuringRead.clear();
        this.reading = true;
        let heads: OutboxRow[];
        try {
          heads = await this.chatHeads();
        } finally {
          this.reading = false;
        }
        // The token may have been refused while the rows were read (and the rows handed to
        // another lane): never send with a client the bot no longer lends.
        if (this.opts.bot.api() !== api) continue;
        for (const row of heads) {
          if (this.inFlight.size >= this.opts.inFlight()) break;
          if (this.busyChats.has(row.chat_id) || this.recordedDuringRead.has(row.id)) continue;
          const now = this.now();
          const at = Math.max(Number(row.not_before), this.limiter.availableAt(row.chat_id, now));
          if (at > now) {
            waitUntil = Math.min(waitUntil, at);
            continue;
          }
          this.limiter.record(row.chat_id, now);
          this.dispatch(api, row);
        }
      }
      if (!this.running) break;
      if (!this.dirty) await this.sleep(waitUntil);
    }
  }

  /** The oldest pending row of every chat of this bot, oldest first. */
  private async chatHeads(): Promise<OutboxRow[]> {
    const { db, botId } = this.opts;
    return db('outbox as o')
      .where({ 'o.bot_id': botId, 'o.status': 'pending' })
      .whereRaw('o.id = (select min(i.id) from outbox i where i.bot_id = o.bot_id and i.status = ? and i.chat_id = o.chat_id)', ['pending'])
      .orderBy('o.id')
      .limit(500)
      .select('o.*');
  }

  private dispatch(api: Api, row: OutboxRow): void {
    this.busyChats.add(row.chat_id);
    const job = this.deliver(api, row)
      .catch((err: Error) => this.opts.logger.error({ err: err.message, outboxId: row.id }, 'could not record an outbox outcome'))
      .finally(() => {
        if (this.reading) this.recordedDuringRead.add(row.id);
        this.busyChats.delete(row.chat_id);
        this.inFlight.delete(job);
        this.wake();
      });
    this.inFlight.add(job);
  }

  private async deliver(api: Api, row: OutboxRow): Promise<void> {
    const params = { ...(JSON.parse(row.payload) as Record<string, unknown>), chat_id: row.chat_id };
    let outcome: Outcome;
    const unresolved = await this.resolveMessageId(params);
    if (unresolved) {
      await this.record(row, unresolved);
      return;
    }
    try {
      const call = (api.raw as unknown as Record<string, (p: unknown) => Promise<unknown>>)[row.method];
      if (!call) throw new Error(`unknown Bot API method ${row.method}`);
      const result = await call.call(api.raw, params);
      outcome = { kind: 'sent', messageId: messageIdOf(result) };
    } catch (err) {
      outcome = this.classify(err, row);
      if ('error' in outcome) outcome.error = this.opts.scrubber.scrub(outcome.error);
    }
    await this.record(row, outcome);
  }

  /**
   * An edit or delete names the message it changes by the outbox key that sent it
   * (`message_id_of`), because its Telegram id is only known once that message went out.
   * Resolves it in place; returns an outcome when it cannot be resolved (yet).
   */
  private async resolveMessageId(params: Record<string, unknown>): Promise<Outcome | null> {
    const key = params.message_id_of;
    if (typeof key !== 'string') return null;
    delete params.message_id_of;
    const source = await this.opts.db<OutboxRow>('outbox').where({ idempotency_key: key }).first('status', 'telegram_message_id');
    if (source?.status === 'sent' && source.telegram_message_id) {
      params.message_id = Number(source.telegram_message_id);
      return null;
    }
    if (!source || source.status === 'failed') return { kind: 'failed', error: `the message to change (${key}) was never delivered` };
    return { kind: 'retry', at: this.now() + 1_000, error: `waiting for ${key} to be sent`, rateLimited: false };
  }

  /** Turns a failed request into what to do with the row. */
  private classify(err: unknown, row: OutboxRow): Outcome {
    const now = this.now();
    if (err instanceof GrammyError) {
      const { error_code: code, description } = err;
      if (code === 429) {
        const seconds = err.parameters.retry_after ?? 1;
        return { kind: 'retry', at: now + seconds * 1000, error: description, rateLimited: true };
      }
      if (code === 403) return { kind: 'failed', error: description, recipient: 'blocked' };
      if (code === 401 || code === 404) return { kind: 'token-refused', error: description };
      if (code === 400 && /message is not modified/i.test(description)) return { kind: 'sent', messageId: null };
      if (code === 400 && /chat not found|user not found|PEER_ID_INVALID/i.test(description)) return { kind: 'failed', error: description, recipient: 'unreachable' };
      if (code >= 400 && code < 500) return { kind: 'failed', error: description };
      return { kind: 'retry', at: now + nextBackoff(this.retry, row.attempts), error: `${code} ${description}`, rateLimited: false };
    }
    const message = err instanceof HttpError ? `network error: ${String((err.error as Error)?.message ?? err.message)}` : String((err as Error)?.message ?? err);
    return { kind: 'retry', at: now + nextBackoff(this.retry, row.attempts), error: message, rateLimited: false };
  }

  private async record(row: OutboxRow, outcome: Outcome): Promise<void> {
    const { db, metrics, logger, botId } = this.opts;
    const where = { id: row.id };
    switch (outcome.kind) {
      case 'sent':
        await db('outbox').where(where).update({ status: 'sent', sent_at: this.now(), telegram_message_id: outcome.messageId, last_error: null });
        metrics.outboxMessages.inc({ state: 'sent' });
        if (this.refused.delete(row.chat_id)) await this.opts.recipients.clear(botId, row.chat_id);
        return;
      case 'retry':
        await db('outbox').where(where).update({ not_before: outcome.at, attempts: row.attempts + 1, last_error: outcome.error });
        metrics.outboxMessages.inc({ state: outcome.rateLimited ? 'rate_limited' : 'retried' });
        if (!outcome.rateLimited) logger.warn({ outboxId: row.id, bot: botId, error: outcome.error, retryAt: outcome.at }, 'Telegram send failed; will retry');
        return;
      case 'failed':
        // One transaction: whoever sees the message failed also sees why its chat is refused.
        await db.transaction(async (trx) => {
          if (outcome.recipient) await this.opts.recipients.mark(botId, row.chat_id, outcome.recipient, outcome.error, trx);
          await trx('outbox').where(where).update({ status: 'failed', attempts: row.attempts + 1, last_error: outcome.error });
        });
        metrics.outboxMessages.inc({ state: 'failed' });
        if (outcome.recipient) this.refused.add(row.chat_id);
        logger.warn({ outboxId: row.id, bot: botId, chat: row.chat_id, error: outcome.error }, 'Telegram refused a message');
        return;
      case 'token-refused':
        // The row stays pending: it goes out once the token works again.
        this.opts.bot.tokenRefused(outcome.error);
        return;
    }
  }

  private sleep(until: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.wakeTimer) clearTimeout(this.wakeTimer);
        this.wakeTimer = null;
        this.wakeResolve = null;
        resolve();
      };
      this.wakeResolve = done;
      // A long idle wait is capped so rows written by another process are noticed too.
      const delay = Math.min(Math.max(until - this.now(), 0), 5_000);
      this.wakeTimer = setTimeout(done, delay);
    });
  }
}

function messageIdOf(result: unknown): number | null {
  if (result && typeof result === 'object' && 'message_id' in result) return Number((result as { message_id: number }).message_id);
  return null;
}
