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
   * they are now, replacing earlier ratings; one action after a deck change. Runs in
   * batches of 2 000 calls, each its own transaction. Returns how many calls were rated.
   */
  async rerate(span: { from: number; to: number; peer?: string }): Promise<{ rated: number; removed: number }> {
    const { db } = this.deps;
    const removed = await db('rp_ratings')
      .where('started_at', '>=', span.from)
      .andWhere('started_at', '<', span.to)
      .modify((q) => (span.peer ? q.andWhere('peer', span.peer) : q))
      .delete();
    let rated = 0;
    let afterId = 0;
    for (;;) {
      const rows: { id: number; direction: string; trunk: string | null; talk_seconds: number; dialed: string; started_at: number | string }[] = await db('calls')
        .where('started_at', '>=', span.from)
        .andWhere('started_at', '<', span.to)
        .andWhere('id', '>', afterId)
        .andWhere('direction', 'outbound')
        .andWhere('talk_seconds', '>', 0)
        .modify((q) => (span.peer ? q.andWhere('trunk', span.peer) : q.whereNotNull('trunk')))
        .orderBy('id')
        .limit(2000)
        .select('id', 'direction', 'trunk', 'talk_seconds', 'dialed', 'started_at');
      if (!rows.length) break;
      afterId = rows[rows.length - 1]!.id;
      await db.transaction(async (trx) => {
        for (const r of rows) {
          const call = ratableCall({ direction: r.direction as Call['direction'], trunk: r.trunk, talkSeconds: r.talk_seconds, dialed: r.dialed, startedAt: Number(r.started_at) });
          if (call && (await this.rate(trx, r.id, call))) rated++;
        }
      });
    }
    return { rated, removed };
  }
}

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
