/**
 * Reports: how long a re-rate of 100 000 calls holds SQLite's one connection (and so its
 * write lock), seen as the wait of a small write every 20 ms (what storing a call would
 * wait): the atomic re-rate (stage in batches, swap in one transaction) against the same
 * work done as one transaction. Run alone: node --expose-gc --import tsx bench/reports-rerate.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DeckRate } from '../src/features/reports/deck-csv.js';
import { RateDeckStore } from '../src/features/reports/rate-decks.js';
import { CallRater, rateCall, ratingRow } from '../src/features/reports/rating.js';
import { openDatabase, type Database } from '../src/storage/database.js';
import { machineLine } from './machine.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Writes a row every 20 ms while `work` runs; returns the work's time and the longest a write waited. */
async function withProbe(db: Database, work: () => Promise<unknown>): Promise<{ ms: number; longestWaitMs: number; writes: number }> {
  let running = true;
  let longest = 0;
  let writes = 0;
  const probe = (async () => {
    while (running) {
      const t = performance.now();
      await db('bench_probe').insert({ at: Date.now() });
      longest = Math.max(longest, performance.now() - t);
      writes++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const t = performance.now();
  await work();
  const ms = performance.now() - t;
  running = false;
  await probe;
  return { ms, longestWaitMs: longest, writes };
}

export async function benchReportsRerate(opts: { calls?: number; prefixes?: number } = {}): Promise<void> {
  const calls = opts.calls ?? 100_000;
  const size = opts.prefixes ?? 60_000;
  console.log(`reports-rerate: re-rating ${calls.toLocaleString('en')} calls against ${size.toLocaleString('en')}-prefix decks, SQLite`);
  const rand = random(7);
  const rates: DeckRate[] = [];
  const seen = new Set<string>();
  while (rates.length < size) {
    let p = String(1 + Math.floor(rand() * 9));
    for (let i = 0, n = 1 + Math.floor(rand() * 5); i < n; i++) p += String(Math.floor(rand() * 10));
    if (seen.has(p)) continue;
    seen.add(p);
    rates.push({ prefix: p, name: `Destination ${p}`, rateMicro: 10_000 + Math.floor(rand() * 100_000), firstIncrement: 60, nextIncrement: 60, connectionFeeMicro: 0, effectiveFrom: 0 });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tgpbx-bench-rerate-'));
  const db = await openDatabase({ dataDir: dir, databaseUrl: null });
  await db.schema.createTable('bench_probe', (t) => {
    t.increments('id');
    t.bigInteger('at');
  });
  const decks = new RateDeckStore(db);
  await decks.replace('carrier', 'cost', rates);
  await decks.replace('carrier', 'sell', rates.map((r) => ({ ...r, rateMicro: r.rateMicro + 5_000 })));
  const start = Date.UTC(2026, 10, 1);
  const rows = Array.from({ length: calls }, (_, i) => ({
    linkedid: `bench-${i}`, direction: 'outbound', originated: false, started_at: start + i * 1000, answered_at: start + i * 1000, ended_at: start + i * 1000 + 60_000,
    caller_number: '101', caller_name: 'Bench', dialed: `${rates[Math.floor(rand() * rates.length)]!.prefix}1234567`, trunk: 'carrier', answered_by: null,
    ring_seconds: 5, talk_seconds: 1 + Math.floor(rand() * 600), voicemail_left: false, disposition: 'answered', partial: false, detail: '{}',
  }));
  for (let i = 0; i < calls; i += 5_000) await db.transaction((trx) => trx.batchInsert('calls', rows.slice(i, i + 5_000), 500));
  const rater = new CallRater({ db, decks, now: () => start });
  const span = { from: start, to: start + calls * 1000 };
  await rater.rerate(span); // every call rated once, as the hook would have
  await decks.replace('carrier', 'sell', rates.map((r) => ({ ...r, rateMicro: r.rateMicro + 6_000 })));

  const atomic = await withProbe(db, () => rater.rerate(span));

  // The alternative: the same work as one transaction (old ratings deleted, new ones inserted in batches of 500).
  const [cost, sell] = [await decks.deck('carrier', 'cost'), await decks.deck('carrier', 'sell')];
  const oneTrx = await withProbe(db, () =>
    db.transaction(async (trx) => {
      await trx('rp_ratings').where('started_at', '>=', span.from).andWhere('started_at', '<', span.to).delete();
      for (let after = { at: span.from, id: 0 }; ; ) {
        const batch = await trx('calls')
          .where('started_at', '>=', after.at)
          .andWhere('started_at', '<', span.to)
          .andWhere((w) => w.where('started_at', '>', after.at).orWhere('id', '>', after.id))
          .orderBy([{ column: 'started_at' }, { column: 'id' }])
          .limit(1000)
          .select('id', 'trunk', 'talk_seconds', 'dialed', 'started_at');
        if (!batch.length) break;
        after = { at: Number(batch[batch.length - 1].started_at), id: batch[batch.length - 1].id };
        const out = batch.map((c: { id: number; trunk: string; talk_seconds: number; dialed: string; started_at: number }) =>
          ratingRow(c.id, Number(c.started_at), rateCall({ peer: c.trunk, dialed: c.dialed, startedAt: Number(c.started_at), talkSeconds: c.talk_seconds }, cost, sell), start),
        );
        for (let i = 0; i < out.length; i += 500) await trx('rp_ratings').insert(out.slice(i, i + 500));
      }
    }),
  );
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });

  const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  console.log(`  atomic re-rate (stage in batches of 1 000, swap in one transaction): ${fmt(atomic.ms)} in all; a write waited at most ${fmt(atomic.longestWaitMs)} (${atomic.writes} writes went through meanwhile)`);
  console.log(`  the same as one transaction: ${fmt(oneTrx.ms)}; a write waited at most ${fmt(oneTrx.longestWaitMs)} (${oneTrx.writes} writes)`);
  console.log(`  ${machineLine()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchReportsRerate({ calls: Number(process.env.BENCH_CALLS) || undefined });
