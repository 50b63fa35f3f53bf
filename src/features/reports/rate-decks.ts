import type { Knex } from 'knex';
import type { Database } from '../../storage/database.js';
import type { DeckRate } from './deck-csv.js';
import { PrefixTrie } from './prefix-trie.js';

/** Which side of a peer's money a deck prices: what the carrier charges us, or what we charge. */
export type DeckKind = 'cost' | 'sell';
export const DECK_KINDS: readonly DeckKind[] = ['cost', 'sell'];

/** A deck's header: one per peer and kind; `version` grows with every change. */
export interface DeckInfo {
  id: number;
  peer: string;
  kind: DeckKind;
  version: number;
  updatedAt: number;
  rates: number;
}

/**
 * What replacing a deck changes, keyed by prefix and effective date: rates only in the new
 * deck are added, only in the old one removed, in both with another price, name,
 * increments or fee changed.
 */
export interface DeckChange {
  before: number;
  after: number;
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
}

/** Compares a deck's rates before and after a replacement. Pure. */
export function deckChange(before: readonly DeckRate[], after: readonly DeckRate[]): DeckChange {
  const old = new Map<string, DeckRate>();
  for (const r of before) old.set(`${r.prefix}@${r.effectiveFrom}`, r);
  let added = 0;
  let changed = 0;
  let unchanged = 0;
  for (const r of after) {
    const o = old.get(`${r.prefix}@${r.effectiveFrom}`);
    if (!o) added++;
    else if (o.name === r.name && o.rateMicro === r.rateMicro && o.firstIncrement === r.firstIncrement && o.nextIncrement === r.nextIncrement && o.connectionFeeMicro === r.connectionFeeMicro) unchanged++;
    else changed++;
  }
  return { before: before.length, after: after.length, added, removed: before.length - changed - unchanged, changed, unchanged };
}

/** A stored rate (a DeckRate with its row id). */
export interface StoredRate extends DeckRate {
  id: number;
}

/**
 * A deck ready for rating: its rates in a prefix trie, built once per version.
 * `match(number, at)` is the longest-prefix match in effect at `at`.
 */
export class RateDeck {
  private readonly trie: PrefixTrie<DeckRate>;

  constructor(
    readonly info: Pick<DeckInfo, 'id' | 'peer' | 'kind' | 'version'>,
    rates: DeckRate[],
  ) {
    this.trie = new PrefixTrie(rates);
  }

  get size(): number {
    return this.trie.size;
  }

  /** The rate for a number (digits, E.164 without +) at a time; undefined when no prefix in effect matches. */
  match(digits: string, at: number): DeckRate | undefined {
    return this.trie.match(digits, at);
  }
}

type Q = Knex | Knex.Transaction;

/**
 * The peers' rate decks (tables rp_decks, rp_rates). Replacing a deck from CSV or editing
 * one rate bumps its version; `deck()` keeps one RateDeck per version in memory, so the
 * trie is built once per version and not per call. Inside a call-ended hook pass the
 * transaction (`q`): with SQLite there is one connection.
 */
export class RateDeckStore {
  private readonly cache = new Map<string, RateDeck | null>();
  /** Grows with every change: a deck read while a change ran is used but not cached. */
  private generation = 0;

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every deck with its number of rates. */
  async list(): Promise<DeckInfo[]> {
    const rows = await this.db('rp_decks as d')
      .leftJoin('rp_rates as r', 'r.deck_id', 'd.id')
      .groupBy('d.id', 'd.peer', 'd.kind', 'd.version', 'd.updated_at')
      .orderBy([{ column: 'd.peer' }, { column: 'd.kind' }])
      .select('d.id', 'd.peer', 'd.kind', 'd.version', 'd.updated_at')
      .count({ n: 'r.id' });
    return rows.map((r: Record<string, unknown>) => ({ id: Number(r.id), peer: String(r.peer), kind: r.kind as DeckKind, version: Number(r.version), updatedAt: Number(r.updated_at), rates: Number(r.n) }));
  }

  /** One deck's header, if it exists. */
  async info(peer: string, kind: DeckKind): Promise<DeckInfo | undefined> {
    return (await this.list()).find((d) => d.peer === peer && d.kind === kind);
  }

  /** The rates of a deck, by prefix then date (paged for the page). */
  async rates(peer: string, kind: DeckKind, opts: { prefix?: string; limit?: number; offset?: number } = {}): Promise<StoredRate[]> {
    const query = this.db('rp_rates as r')
      .join('rp_decks as d', 'd.id', 'r.deck_id')
      .where({ 'd.peer': peer, 'd.kind': kind })
      .orderBy([{ column: 'r.prefix' }, { column: 'r.effective_from' }])
      .limit(Math.min(opts.limit ?? 200, 5000))
      .offset(opts.offset ?? 0)
      .select('r.*');
    if (opts.prefix) query.where('r.prefix', '>=', opts.prefix).where('r.prefix', '<', opts.prefix + ':');
    return (await query).map(rateFromRow);
  }

  /**
   * Replaces a deck's rates with these (a CSV import) in one transaction; returns the new
   * version and what changed against the rates it replaced.
   */
  async replace(peer: string, kind: DeckKind, rates: DeckRate[]): Promise<{ version: number; change: DeckChange }> {
    const out = await this.db.transaction(async (trx) => {
      const change = deckChange(await this.allRates(trx, peer, kind), rates);
      const deckId = await this.bump(trx, peer, kind);
      await trx('rp_rates').where({ deck_id: deckId }).delete();
      for (let i = 0; i < rates.length; i += 500) await trx('rp_rates').insert(rates.slice(i, i + 500).map((r) => rateRow(deckId, r)));
      return { version: Number((await trx('rp_decks').where({ id: deckId }).first('version')).version), change };
    });
    this.forget(peer, kind);
    return out;
  }

  /** What replacing the deck with these rates would change (nothing is stored). */
  async preview(peer: string, kind: DeckKind, rates: DeckRate[]): Promise<DeckChange> {
    return deckChange(await this.allRates(this.db, peer, kind), rates);
  }

  /** Every rate of a deck (none when it does not exist). */
  private async allRates(q: Q, peer: string, kind: DeckKind): Promise<DeckRate[]> {
    const deck = await q('rp_decks').where({ peer, kind }).first('id');
    return deck ? (await q('rp_rates').where({ deck_id: deck.id }).select('*')).map(rateFromRow) : [];
  }

  /**
   * Adds a rate or replaces the one with the same prefix and date. With `replaces` (the id
   * of the rate being edited) that rate goes in the same transaction, so an edit that
   * changes the prefix or the date moves the rate instead of adding a second one.
   */
  async putRate(peer: string, kind: DeckKind, rate: DeckRate, replaces?: number): Promise<void> {
    await this.db.transaction(async (trx) => {
      const deckId = await this.bump(trx, peer, kind);
      if (replaces !== undefined) await trx('rp_rates').where({ id: replaces, deck_id: deckId }).delete();
      await trx('rp_rates').insert(rateRow(deckId, rate)).onConflict(['deck_id', 'prefix', 'effective_from']).merge();
    });
    this.forget(peer, kind);
  }

  /** One rate of a deck by its id. */
  async rate(peer: string, kind: DeckKind, id: number): Promise<StoredRate | undefined> {
    const row = await this.db('rp_rates as r').join('rp_decks as d', 'd.id', 'r.deck_id').where({ 'd.peer': peer, 'd.kind': kind, 'r.id': id }).first('r.*');
    return row ? rateFromRow(row) : undefined;
  }

  /** Removes one rate; false when the deck has no rate with this id. */
  async removeRate(peer: string, kind: DeckKind, rateId: number): Promise<boolean> {
    const removed = await this.db.transaction(async (trx) => {
      const deck = await trx('rp_decks').where({ peer, kind }).first('id');
      if (!deck) return 0;
      const n = await trx('rp_rates').where({ id: rateId, deck_id: deck.id }).delete();
      if (n) await trx('rp_decks').where({ id: deck.id }).update({ version: trx.raw('version + 1'), updated_at: this.now() });
      return n;
    });
    this.forget(peer, kind);
    return removed > 0;
  }

  /** Deletes a deck and its rates. */
  async remove(peer: string, kind: DeckKind): Promise<boolean> {
    const n = await this.db('rp_decks').where({ peer, kind }).delete();
    this.forget(peer, kind);
    return n > 0;
  }

  /**
   * The deck ready for matching, or null when the peer has none of this kind. Built from the
   * table on first use after a change, then served from memory.
   */
  async deck(peer: string, kind: DeckKind, q: Q = this.db): Promise<RateDeck | null> {
    const key = cacheKey(peer, kind);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const info = await q('rp_decks').where({ peer, kind }).first('id', 'version');
    let deck: RateDeck | null = null;
    if (info) {
      const rows = await q('rp_rates').where({ deck_id: info.id }).select('*');
      deck = new RateDeck({ id: Number(info.id), peer, kind, version: Number(info.version) }, rows.map(rateFromRow));
    }
    if (generation === this.generation) this.cache.set(key, deck);
    return deck;
  }

  /** The peers that have a deck. */
  async peers(): Promise<string[]> {
    return (await this.db('rp_decks').distinct('peer').orderBy('peer')).map((r: { peer: string }) => r.peer);
  }

  private forget(peer: string, kind: DeckKind): void {
    this.generation++;
    this.cache.delete(cacheKey(peer, kind));
  }

  private async bump(trx: Knex.Transaction, peer: string, kind: DeckKind): Promise<number> {
    const now = this.now();
    const existing = await trx('rp_decks').where({ peer, kind }).first('id');
    if (existing) {
      await trx('rp_decks').where({ id: existing.id }).update({ version: trx.raw('version + 1'), updated_at: now });
      return Number(existing.id);
    }
    const [row] = await trx('rp_decks').insert({ peer, kind, version: 1, updated_at: now }).returning('id');
    return typeof row === 'object' ? Number((row as { id: number }).id) : Number(row);
  }
}

function cacheKey(peer: string, kind: DeckKind): string {
  return `${kind}\u0000${peer}`;
}

function rateRow(deckId: number, r: DeckRate) {
  return {
    deck_id: deckId,
    prefix: r.prefix,
    name: r.name,
    rate_micro: r.rateMicro,
    first_increment: r.firstIncrement,
    next_increment: r.nextIncrement,
    connection_fee_micro: r.connectionFeeMicro,
    effective_from: r.effectiveFrom,
  };
}

function rateFromRow(r: Record<string, unknown>): StoredRate {
  return {
    id: Number(r.id),
    prefix: String(r.prefix),
    name: String(r.name),
    rateMicro: Number(r.rate_micro),
    firstIncrement: Number(r.first_increment),
    nextIncrement: Number(r.next_increment),
    connectionFeeMicro: Number(r.connection_fee_micro),
    effectiveFrom: Number(r.effective_from),
  };
}
