import type { Knex } from 'knex';
import type { Call } from '../../pbx/call-model.js';
import type { Database } from '../../storage/database.js';
import { billableSeconds, chargeMicro } from './billing.js';
import type { DeckRate } from './deck-csv.js';
import type { RateDeck, RateDeckStore } from './rate-decks.js';

/** What rating needs of a call. */
export interface RatableCall {
  peer: string;
  /** The number called, as dialed. */
  dialed: string;
  startedAt: number;
  talkSeconds: number;
}

/** A call's rating: what it cost us, what we charge, what is left, and which rates said so. */
export interface Rating {
  peer: string;
  number: string;
  /** The E.164 code the call is reported under: the sell rate's prefix, else the cost rate's; '' when neither matched. */
  code: string;
  destination: string;
  talkSeconds: number;
  billedSeconds: number;
  costMicro: number;
  revenueMicro: number;
  profitMicro: number;
  costPrefix: string | null;
  sellPrefix: string | null;
}

/**
 * The digits a deck is matched on: E.164 without "+", from what the PBX dialed
 * ("+7 916 …", "007916…", "7916…"). Pure.
 */
export function numberDigits(dialed: string): string {
  const digits = dialed.replace(/\D/g, '');
  return dialed.trim().startsWith('+') ? digits : digits.replace(/^00/, '');
}

/**
 * Rates one call against a peer's cost and sell decks (either may be missing). Each side
 * bills by its own rate's increments; the seconds shown are the sell side's (what the
 * customer is billed), else the cost side's. Pure.
 */
export function rateCall(call: RatableCall, cost: Pick<RateDeck, 'match'> | null, sell: Pick<RateDeck, 'match'> | null): Rating {
  const number = numberDigits(call.dialed);
  const costRate = cost?.match(number, call.startedAt);
  const sellRate = sell?.match(number, call.startedAt);
  const side = (rate: DeckRate | undefined) => {
    if (!rate) return { billed: 0, micro: 0 };
    const billed = billableSeconds(call.talkSeconds, { first: rate.firstIncrement, next: rate.nextIncrement });
    return { billed, micro: chargeMicro(rate.rateMicro, rate.connectionFeeMicro, billed) };
  };
  const c = side(costRate);
  const s = side(sellRate);
  const named = sellRate ?? costRate;
  return {
    peer: call.peer,
    number,
    code: named?.prefix ?? '',
    destination: sellRate?.name || costRate?.name || '',
    talkSeconds: call.talkSeconds,
    billedSeconds: sellRate ? s.billed : c.billed,
    costMicro: c.micro,
    revenueMicro: s.micro,
    profitMicro: s.micro - c.micro,
    costPrefix: costRate?.prefix ?? null,
    sellPrefix: sellRate?.prefix ?? null,
  };
}

/** Only answered outbound calls over a trunk cost or earn money: the rest are not rated. */
export function ratableCall(call: Pick<Call, 'direction' | 'trunk' | 'talkSeconds' | 'dialed' | 'startedAt'>): RatableCall | null {
  if (call.direction !== 'outbound' || !call.trunk || call.talkSeconds <= 0) return null;
  return { peer: call.trunk, dialed: call.dialed, startedAt: call.startedAt, talkSeconds: call.talkSeconds };
}

/**
 * Rates calls into rp_ratings: each call as it is stored (a call-ended hook, in the
 * call's transaction), and a whole period again after a deck change (`rerate`).
 */
export class CallRater {
  /** Re-rate runs of this process in progress: the staged rows of any other run are leftovers. */
  private readonly running = new Set<number>();

  constructor(
    private readonly deps: { db: Database; decks: RateDeckStore; now: () => number },
  ) {}

  /** Rates one call and stores the rating in `q` (the call's transaction); null when the call is not rated. */
  async rate(q: Knex | Knex.Transaction, callId: number, call: RatableCall): Promise<Rating | null> {
    const [cost, sell] = await Promise.all([this.deps.decks.deck(call.peer, 'cost', q), this.deps.decks.deck(call.peer, 'sell', q)]);
    if (!cost && !sell) return null;
    const rating = rateCall(call, cost, sell);
    await q('rp_ratings')
      .insert(ratingRow(callId, call.startedAt, rating, this.deps.now()))
      .onConflict('call_id')
      .merge();
    return rating;
  }

  /**
   * Rates every call of [from, to) again (optionally only one peer's) with the decks as
   * they are when it starts, replacing earlier ratings; one action after a deck change.
   * All or nothing: the calls are rated into rp_rerate_rows in short batches (each its own
   * transaction, so calls are stored in between), then swapped into rp_ratings in one
   * transaction. A failure or a crash before the swap leaves every old rating as it was.
   * Returns how many calls got a rating and how many earlier ratings were replaced.
   */
  async rerate(span: { from: number; to: number; peer?: string }): Promise<{ rated: number; removed: number }> {
    const { db } = this.deps;
    await this.clearLeftovers();
    const [row] = await db('rp_rerates').insert({ started_at: this.deps.now() }).returning('id');
    const rerateId = typeof row === 'object' ? Number((row as { id: number | string }).id) : Number(row);
    this.running.add(rerateId);
    try {
      const rated = await this.stage(rerateId, span);
      const removed = await this.swap(rerateId);
      return { rated, removed };
    } finally {
      this.running.delete(rerateId);
      // The staged rows go with their run (cascade); if even that fails, the next run clears them.
      await db('rp_rerates').where({ id: rerateId }).delete().catch(() => undefined);
    }
  }

  /** Deletes what failed or crashed re-rate runs left in rp_rerate_rows. */
  private async clearLeftovers(): Promise<void> {
    await this.deps.db('rp_rerates').whereNotIn('id', [...this.running]).delete();
  }

  /**
   * Rates the span's calls into rp_rerate_rows under `rerateId`, RERATE_BATCH calls per
   * transaction; each peer's decks are read once, so the whole run uses the same versions.
   * A call that gets no rating any more is staged with `rated` false. Returns how many
   * calls got a rating.
   */
  private async stage(rerateId: number, span: { from: number; to: number; peer?: string }): Promise<number> {
    const { db, decks } = this.deps;
    const peerDecks = new Map<string, Promise<[RateDeck | null, RateDeck | null]>>();
    const decksOf = (peer: string) => {
      let d = peerDecks.get(peer);
      if (!d) peerDecks.set(peer, (d = Promise.all([decks.deck(peer, 'cost'), decks.deck(peer, 'sell')])));
      return d;
    };
    let rated = 0;
    // Keyset over (started_at, id), the order of the calls_started_idx index (rowid last in
    // SQLite): each batch continues in the index instead of scanning and sorting the span again.
    let after = { startedAt: span.from, id: 0 };
    for (;;) {
      const rows: { id: number | string; direction: string; trunk: string | null; talk_seconds: number | string; dialed: string; started_at: number | string }[] = await db('calls')
        .where('started_at', '>=', after.startedAt)
        .andWhere('started_at', '<', span.to)
        .andWhere((w) => w.where('started_at', '>', after.startedAt).orWhere('id', '>', after.id))
        .andWhere('direction', 'outbound')
        .andWhere('talk_seconds', '>', 0)
        .modify((q) => (span.peer ? q.andWhere('trunk', span.peer) : q.whereNotNull('trunk')))
        .orderBy([{ column: 'started_at' }, { column: 'id' }])
        .limit(RERATE_BATCH)
        .select('id', 'direction', 'trunk', 'talk_seconds', 'dialed', 'started_at');
      if (!rows.length) break;
      const last = rows[rows.length - 1]!;
      after = { startedAt: Number(last.started_at), id: Number(last.id) };
      const ratedAt = this.deps.now();
      const staged: (ReturnType<typeof ratingRow> & { rerate_id: number; rated: boolean })[] = [];
      for (const r of rows) {
        const call = ratableCall({ direction: r.direction as Call['direction'], trunk: r.trunk, talkSeconds: Number(r.talk_seconds), dialed: r.dialed, startedAt: Number(r.started_at) });
        if (!call) continue;
        const [cost, sell] = await decksOf(call.peer);
        const has = Boolean(cost || sell);
        if (has) rated++;
        staged.push({ rerate_id: rerateId, rated: has, ...ratingRow(Number(r.id), call.startedAt, rateCall(call, cost, sell), ratedAt) });
      }
      await db.transaction(async (trx) => {
        for (let i = 0; i < staged.length; i += 500) await trx('rp_rerate_rows').insert(staged.slice(i, i + 500));
      });
    }
    return rated;
  }

  /**
   * Puts a run's staged ratings in place of the old ones, in one transaction: calls that
   * get no rating any more lose theirs, the others' are inserted or replaced. A call
   * deleted since it was staged is skipped. Returns how many earlier ratings it replaced.
   */
  private async swap(rerateId: number): Promise<number> {
    return this.deps.db.transaction(async (trx) => {
      const staged = () => trx('rp_rerate_rows').where({ rerate_id: rerateId }).select('call_id');
      const [count] = await trx('rp_ratings').whereIn('call_id', staged()).count({ n: '*' });
      await trx('rp_ratings').whereIn('call_id', staged().andWhere({ rated: false })).delete();
      const cols = RATING_COLUMNS.join(', ');
      await trx.raw(
        `insert into rp_ratings (${cols}) select ${cols} from rp_rerate_rows s where s.rerate_id = ? and s.rated = ? and exists (select 1 from calls c where c.id = s.call_id) ` +
          `on conflict (call_id) do update set ${RATING_COLUMNS.filter((c) => c !== 'call_id').map((c) => `${c} = excluded.${c}`).join(', ')}`,
        [rerateId, true],
      );
      return Number((count as { n: number | string } | undefined)?.n ?? 0);
    });
  }
}

/** Calls a re-rate stages per transaction (about 0.1 s of holding SQLite's write lock each). */
const RERATE_BATCH = 1000;

/** The columns of rp_ratings, as ratingRow fills them. */
const RATING_COLUMNS = ['call_id', 'peer', 'started_at', 'number', 'code', 'destination', 'talk_seconds', 'billed_seconds', 'cost_micro', 'revenue_micro', 'profit_micro', 'cost_prefix', 'sell_prefix', 'rated_at'] as const;

/** The rp_ratings row of a rating. */
export function ratingRow(callId: number, startedAt: number, r: Rating, ratedAt: number) {
  return {
    call_id: callId,
    peer: r.peer,
    started_at: startedAt,
    number: r.number.slice(0, 32),
    code: r.code,
    destination: r.destination,
    talk_seconds: r.talkSeconds,
    billed_seconds: r.billedSeconds,
    cost_micro: r.costMicro,
    revenue_micro: r.revenueMicro,
    profit_micro: r.profitMicro,
    cost_prefix: r.costPrefix,
    sell_prefix: r.sellPrefix,
    rated_at: ratedAt,
  };
}
