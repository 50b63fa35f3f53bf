import type { Knex } from 'knex';
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../pbx/clock.js';
import { CALL_REJECTED, type RouteDecision, type RoutePolicy, type RouteQuestion } from '../../pbx/route-guard.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import { onPostgres, type Database } from '../../storage/database.js';
import type { Outbox } from '../../telegram/outbox.js';
import { limitCrossed, type CrossedBy, type LossLimit } from './loss-limits.js';
import { formatTime, periodAt, type LimitPeriod } from './periods.js';
import { peerSums } from './profit.js';
import { reportTexts, type Unblocker } from './texts.js';

/** A peer blocked by a limit for one period. */
export interface PeerBlock {
  id: number;
  limitId: number;
  peer: string;
  period: LimitPeriod;
  periodStart: number;
  until: number;
  blockedAt: number;
  reason: CrossedBy;
  costMicro: number;
  revenueMicro: number;
  profitMicro: number;
  endedAt: number | null;
  endedBy: string | null;
}

/** A refused change of a limit or block; the message is fit to show the admin. */
export class LossControlError extends Error {
  constructor(
    message: string,
    readonly kind: 'not_found' | 'invalid' = 'invalid',
  ) {
    super(message);
  }
}

/** Q.850 cause of calls refused by loss control: 21, call rejected. */
export const LOSS_BLOCK_CAUSE = CALL_REJECTED;

/** The longest a timer waits before looking again (Node timers overflow past 24.8 days). */
const MAX_TIMER_MS = 3_600_000;

/**
 * Loss control: limits per peer and period (tables rp_limits, rp_blocks). After each rated
 * call (inside the call's transaction) the peer's figures of the current period are summed;
 * crossing a limit stores a block and enqueues the alert in that same transaction. The
 * route guard asks `policy` before each call: a peer with an open block is refused with
 * cause 21 and the reason. A block ends when its period ends (a timer on the injected
 * clock; at start, blocks that ended while tgpbx was down end at once) or when an admin or
 * an allowed Telegram user unblocks it; either way another alert goes out. An unblocked
 * peer is not blocked again by the same limit in the same period. Blocks live in the
 * database, so they survive a restart.
 */
export class LossControl {
  private limits: LossLimit[] = [];
  private readonly open = new Map<number, PeerBlock>();
  private readonly timers = new Map<number, unknown>();
  private started = false;

  /** The route guard's policy: refuses calls to a blocked peer. */
  readonly policy: RoutePolicy = {
    name: 'loss-control',
    decide: (q: RouteQuestion): RouteDecision => {
      const block = q.peer ? this.openBlockOf(q.peer) : undefined;
      if (!block) return { allow: true };
      const tz = this.deps.settings.get('general.timezone');
      return { allow: false, cause: LOSS_BLOCK_CAUSE, policy: 'loss-control', reason: `peer ${block.peer} blocked by its ${block.period} loss limit until ${formatTime(block.until, tz)}` };
    },
  };

  constructor(
    private readonly deps: {
      db: Database;
      outbox: Outbox;
      settings: SettingsStore;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /** The alerts' texts in the language of the moment (Settings, general.language). */
  private texts() {
    return reportTexts(this.deps.settings.get('general.language'));
  }

  /** Loads the limits and the open blocks, ends those whose period is over, and arms the timers. */
  async start(): Promise<void> {
    this.started = true;
    await this.reloadLimits();
    const rows = await this.deps.db('rp_blocks').whereNull('ended_at');
    for (const row of rows) this.track(blockFromRow(row));
  }

  stop(): void {
    this.started = false;
    for (const handle of this.timers.values()) this.deps.clock.clearTimeout(handle);
    this.timers.clear();
  }

  /** The open block of a peer, if any (and still within its period). */
  openBlockOf(peer: string): PeerBlock | undefined {
    const now = this.deps.clock.now();
    for (const b of this.open.values()) if (b.peer === peer && b.until > now) return b;
    return undefined;
  }

  /** Every open block. */
  openBlocks(): PeerBlock[] {
    return [...this.open.values()].sort((a, b) => a.blockedAt - b.blockedAt);
  }

  /** The latest blocks, open and ended (for the page). */
  async recentBlocks(limit = 50): Promise<PeerBlock[]> {
    return (await this.deps.db('rp_blocks').orderBy('id', 'desc').limit(limit)).map(blockFromRow);
  }

  async block(id: number): Promise<PeerBlock | undefined> {
    const row = await this.deps.db('rp_blocks').where({ id }).first();
    return row ? blockFromRow(row) : undefined;
  }

  listLimits(): LossLimit[] {
    return [...this.limits];
  }

  /** Adds a limit or replaces the one of the same peer and period; returns its id. */
  async saveLimit(input: Omit<LossLimit, 'id'>): Promise<number> {
    const row = {
      peer: input.peer,
      period: input.period,
      max_loss_micro: input.maxLossMicro,
      min_margin_bp: input.minMarginBp,
      alert_chat_row_id: input.alertChatRowId,
      enabled: input.enabled,
      created_at: this.deps.clock.now(),
    };
    if (input.alertChatRowId !== null && !(await this.deps.db('rp_chats').where({ id: input.alertChatRowId }).first('id'))) throw new LossControlError('There is no such report chat for the alerts.');
    const [inserted] = await this.deps.db('rp_limits')
      .insert(row)
      .onConflict(['peer', 'period'])
      .merge(['max_loss_micro', 'min_margin_bp', 'alert_chat_row_id', 'enabled'])
      .returning('id');
    await this.reloadLimits();
    return typeof inserted === 'object' ? Number((inserted as { id: number }).id) : Number(inserted);
  }

  async removeLimit(id: number): Promise<void> {
    const n = await this.deps.db('rp_limits').where({ id }).delete();
    if (!n) throw new LossControlError('No such limit.', 'not_found');
    for (const b of [...this.open.values()]) if (b.limitId === id) this.untrack(b.id);
    await this.reloadLimits();
  }

  /**
   * After a call of `peer` was rated, inside the call's transaction: checks the peer's
   * limits for the current period and blocks on crossing (stores the block and enqueues the
   * alert in `trx`; the block takes effect once the transaction commits).
   */
  async afterRating(trx: Knex.Transaction, peer: string): Promise<void> {
    const limits = this.limits.filter((l) => l.enabled && l.peer === peer);
    if (!limits.length) return;
    const now = this.deps.clock.now();
    for (const limit of limits) {
      const block = await this.check(trx, limit, now);
      if (block)
        trx.executionPromise.then(
          () => this.track(block),
          () => undefined,
        );
    }
  }

  /**
   * After a re-rating of [from, to) (one peer's calls, or every peer's): checks again the
   * enabled limits whose current period overlaps it, since a deck fix can turn a period
   * into a loss or end one. A crossing blocks and alerts as after any call (unless this
   * limit already blocked in this period: an unblocked peer stays open for the rest of it).
   * An open block whose figures are no longer over its limit is NOT lifted: it is returned
   * in `belowLimit`, and the page says so next to its Unblock button (see DESIGN.md).
   */
  async afterRerate(span: { from: number; to: number; peer?: string }): Promise<{ blocked: PeerBlock[]; belowLimit: PeerBlock[] }> {
    const tz = this.deps.settings.get('general.timezone');
    const now = this.deps.clock.now();
    const blocked: PeerBlock[] = [];
    const belowLimit: PeerBlock[] = [];
    for (const limit of this.limits) {
      if (!limit.enabled || (span.peer !== undefined && limit.peer !== span.peer)) continue;
      const period = periodAt(limit.period, now, tz);
      if (period.to <= span.from || period.from >= span.to) continue; // the re-rating did not touch this limit's current period
      const block = await this.deps.db.transaction((trx) => this.check(trx, limit, now));
      if (block) {
        this.track(block);
        blocked.push(block);
        continue;
      }
      for (const open of this.open.values()) {
        if (open.limitId !== limit.id || open.periodStart !== period.from) continue;
        if (!limitCrossed(limit, await peerSums(this.deps.db, limit.peer, period.from, period.to))) belowLimit.push(open);
      }
    }
    if (belowLimit.length) this.deps.logger.info({ blocks: belowLimit.map((b) => b.id) }, 'after a re-rating some blocked peers are no longer over their limit; they stay blocked until unblocked or the period ends');
    return { blocked, belowLimit };
  }

  /** Whether a block's period's figures, as they are now, are still over its limit (undefined when the limit is gone). */
  async stillOverLimit(block: PeerBlock): Promise<boolean | undefined> {
    const limit = this.limits.find((l) => l.id === block.limitId);
    if (!limit) return undefined;
    return limitCrossed(limit, await peerSums(this.deps.db, block.peer, block.periodStart, block.until)) !== null;
  }

  /**
   * Checks one limit for the period containing `now`, in `trx`: on crossing, stores the
   * block and enqueues its alert, and returns the block (to track once `trx` commits).
   * Null when within the limit, or when this limit already blocked in this period.
   */
  private async check(trx: Knex.Transaction, limit: LossLimit, now: number): Promise<PeerBlock | null> {
    const tz = this.deps.settings.get('general.timezone');
    const { peer } = limit;
    // PostgreSQL stores calls in parallel transactions: without this lock two calls ending
    // together each sum without the other's rating, and neither blocks. Held until commit,
    // so the next one's sums see this one's rating. (SQLite runs one transaction at a time.)
    if (onPostgres(trx)) await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`tgpbx:loss-control:${peer}`]);
    const span = periodAt(limit.period, now, tz);
    const sums = await peerSums(trx, peer, span.from, span.to);
    const crossedBy = limitCrossed(limit, sums);
    if (!crossedBy) return null;
    const inserted = await trx('rp_blocks')
      .insert({
        limit_id: limit.id,
        peer,
        period: limit.period,
        period_start: span.from,
        until: span.to,
        blocked_at: now,
        reason: crossedBy,
        cost_micro: sums.costMicro,
        revenue_micro: sums.revenueMicro,
        profit_micro: sums.profitMicro,
      })
      .onConflict(['limit_id', 'period_start'])
      .ignore()
      .returning('id');
    if (!inserted.length) return null; // blocked already this period (or unblocked by an admin for the rest of it)
    const first = inserted[0] as { id: number } | number;
    const id = typeof first === 'object' ? Number(first.id) : Number(first);
    const block: PeerBlock = { id, limitId: limit.id, peer, period: limit.period, periodStart: span.from, until: span.to, blockedAt: now, reason: crossedBy, ...sums, endedAt: null, endedBy: null };
    const chat = await this.alertChat(trx, limit);
    if (chat) {
      const texts = this.texts();
      await this.deps.outbox.enqueue(trx, {
        key: blockAlertKey(id),
        botId: chat.botId,
        chatId: chat.chatId,
        method: 'sendMessage',
        params: {
          text: texts.blockAlert({ peer, limit, crossedBy, sums, periodFrom: span.from, until: span.to, timeZone: tz }),
          reply_markup: { inline_keyboard: [[{ text: texts.unblock, callback_data: `rp:ub:${id}` }]] },
        },
      });
    }
    this.deps.logger.warn({ peer, period: limit.period, reason: crossedBy, profit: sums.profitMicro, until: span.to }, 'loss control blocked a peer');
    return block;
  }

  /**
   * Ends a block now (an admin on the page or REST, a user in Telegram) and sends the
   * unblock alert. Resolves false when it had ended already.
   */
  async unblock(id: number, by: Exclude<Unblocker, { via: 'period' }>): Promise<boolean> {
    const ended = await this.end(id, by);
    if (ended === undefined) throw new LossControlError('No such block.', 'not_found');
    return ended;
  }

  private async end(id: number, by: Unblocker): Promise<boolean | undefined> {
    const now = this.deps.clock.now();
    const tz = this.deps.settings.get('general.timezone');
    const note = endedByNote(by);
    const outcome = await this.deps.db.transaction(async (trx) => {
      const row = await trx('rp_blocks').where({ id }).first();
      if (!row) return undefined;
      // Conditional: of two unblocks at once (page and Telegram) on PostgreSQL only one ends it.
      if (!(await trx('rp_blocks').where({ id }).whereNull('ended_at').update({ ended_at: now, ended_by: note.slice(0, 128) }))) return false;
      const limit = this.limits.find((l) => l.id === Number(row.limit_id));
      const chat = limit ? await this.alertChat(trx, limit) : undefined;
      if (chat) {
        const alertKey = blockAlertKey(id);
        if (await trx('outbox').where({ idempotency_key: alertKey }).first('id')) {
          await this.deps.outbox.enqueue(trx, { key: `rp:unblock-button:${id}`, botId: chat.botId, chatId: chat.chatId, method: 'editMessageReplyMarkup', params: { message_id_of: alertKey, reply_markup: { inline_keyboard: [] } } });
        }
        await this.deps.outbox.enqueue(trx, { key: `rp:unblock:${id}`, botId: chat.botId, chatId: chat.chatId, method: 'sendMessage', params: { text: this.texts().unblockAlert({ peer: String(row.peer), by, at: now, timeZone: tz }) } });
      }
      return true;
    });
    if (outcome !== undefined) this.untrack(id);
    if (outcome) this.deps.logger.info({ block: id, by: note }, 'loss control unblocked a peer');
    return outcome;
  }

  private async alertChat(q: Knex | Knex.Transaction, limit: LossLimit): Promise<{ chatId: string; botId: string } | undefined> {
    if (limit.alertChatRowId === null) return undefined;
    const row = await q('rp_chats').where({ id: limit.alertChatRowId }).first('chat_id', 'bot_id');
    return row ? { chatId: String(row.chat_id), botId: String(row.bot_id) } : undefined;
  }

  private async reloadLimits(): Promise<void> {
    const rows = await this.deps.db('rp_limits').orderBy([{ column: 'peer' }, { column: 'period' }]);
    this.limits = rows.map((r: Record<string, unknown>) => ({
      id: Number(r.id),
      peer: String(r.peer),
      period: r.period as LimitPeriod,
      maxLossMicro: Number(r.max_loss_micro),
      minMarginBp: r.min_margin_bp == null ? null : Number(r.min_margin_bp),
      alertChatRowId: r.alert_chat_row_id == null ? null : Number(r.alert_chat_row_id),
      enabled: Boolean(r.enabled),
    }));
  }

  /** Keeps an open block in memory and arms the timer that ends it with its period. */
  private track(block: PeerBlock): void {
    if (!this.started) return;
    this.open.set(block.id, block);
    this.arm(block);
  }

  private arm(block: PeerBlock): void {
    const { clock } = this.deps;
    const wait = block.until - clock.now();
    const previous = this.timers.get(block.id);
    if (previous !== undefined) clock.clearTimeout(previous);
    if (wait <= 0) {
      this.timers.delete(block.id);
      this.endWithPeriod(block.id);
      return;
    }
    this.timers.set(
      block.id,
      clock.setTimeout(() => {
        this.timers.delete(block.id);
        if (this.open.has(block.id)) this.arm(block);
      }, Math.min(wait, MAX_TIMER_MS)),
    );
  }

  private endWithPeriod(id: number): void {
    this.end(id, { via: 'period' }).catch((err: Error) => {
      this.deps.logger.error({ block: id, err: err.message }, 'could not end a loss-control block; retrying in a minute');
      this.timers.set(id, this.deps.clock.setTimeout(() => this.endWithPeriod(id), 60_000));
    });
  }

  private untrack(id: number): void {
    this.open.delete(id);
    const handle = this.timers.get(id);
    if (handle !== undefined) this.deps.clock.clearTimeout(handle);
    this.timers.delete(id);
  }
}

/** How the block row (and the page) records who ended a block: 'period', 'the admin (web page)', '<user> in Telegram'. */
export function endedByNote(by: Unblocker): string {
  switch (by.via) {
    case 'period':
      return 'period';
    case 'page':
      return 'the admin (web page)';
    case 'api':
      return 'the admin (REST API)';
    case 'telegram':
      return `${by.user} in Telegram`;
  }
}

/** The outbox key of a block's alert (edits of it name it). */
export function blockAlertKey(blockId: number): string {
  return `rp:block:${blockId}`;
}

function blockFromRow(r: Record<string, unknown>): PeerBlock {
  return {
    id: Number(r.id),
    limitId: Number(r.limit_id),
    peer: String(r.peer),
    period: r.period as LimitPeriod,
    periodStart: Number(r.period_start),
    until: Number(r.until),
    blockedAt: Number(r.blocked_at),
    reason: r.reason as CrossedBy,
    costMicro: Number(r.cost_micro),
    revenueMicro: Number(r.revenue_micro),
    profitMicro: Number(r.profit_micro),
    endedAt: r.ended_at == null ? null : Number(r.ended_at),
    endedBy: r.ended_by == null ? null : String(r.ended_by),
  };
}
