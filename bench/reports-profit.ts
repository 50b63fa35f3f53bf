/**
 * Reports: /profit for 1M rated calls against a 60 000-prefix deck on SQLite, the rating
 * throughput (longest-prefix match in the trie, and storing ratings), and the same report
 * done the naive way (matching each call to the deck with SQL LIKE) for the ratio.
 * Run alone: node --expose-gc --import tsx bench/reports-profit.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { profitReport } from '../src/features/reports/profit.js';
import { RateDeck, RateDeckStore } from '../src/features/reports/rate-decks.js';
import { rateCall, ratingRow } from '../src/features/reports/rating.js';
import type { DeckRate } from '../src/features/reports/deck-csv.js';
import { openDatabase } from '../src/storage/database.js';
import { machineLine } from './machine.js';

/** Country codes with how many digits their national ranges take (a realistic spread, not a real deck). */
const COUNTRIES: [string, string][] = [
  ['1', 'USA/Canada'], ['7', 'Russia'], ['20', 'Egypt'], ['27', 'South Africa'], ['30', 'Greece'], ['31', 'Netherlands'], ['32', 'Belgium'], ['33', 'France'], ['34', 'Spain'],
  ['36', 'Hungary'], ['39', 'Italy'], ['40', 'Romania'], ['41', 'Switzerland'], ['43', 'Austria'], ['44', 'UK'], ['45', 'Denmark'], ['46', 'Sweden'], ['47', 'Norway'], ['48', 'Poland'],
  ['49', 'Germany'], ['51', 'Peru'], ['52', 'Mexico'], ['54', 'Argentina'], ['55', 'Brazil'], ['56', 'Chile'], ['57', 'Colombia'], ['60', 'Malaysia'], ['61', 'Australia'], ['62', 'Indonesia'],
  ['63', 'Philippines'], ['64', 'New Zealand'], ['65', 'Singapore'], ['66', 'Thailand'], ['81', 'Japan'], ['82', 'South Korea'], ['84', 'Vietnam'], ['86', 'China'], ['90', 'Turkey'], ['91', 'India'],
  ['92', 'Pakistan'], ['93', 'Afghanistan'], ['94', 'Sri Lanka'], ['98', 'Iran'], ['212', 'Morocco'], ['213', 'Algeria'], ['234', 'Nigeria'], ['254', 'Kenya'], ['351', 'Portugal'], ['353', 'Ireland'],
  ['358', 'Finland'], ['359', 'Bulgaria'], ['370', 'Lithuania'], ['371', 'Latvia'], ['372', 'Estonia'], ['373', 'Moldova'], ['374', 'Armenia'], ['375', 'Belarus'], ['380', 'Ukraine'], ['381', 'Serbia'],
  ['420', 'Czechia'], ['421', 'Slovakia'], ['966', 'Saudi Arabia'], ['971', 'UAE'], ['972', 'Israel'], ['992', 'Tajikistan'], ['993', 'Turkmenistan'], ['994', 'Azerbaijan'], ['995', 'Georgia'], ['996', 'Kyrgyzstan'], ['998', 'Uzbekistan'],
];

/** A seeded generator, so every run rates the same numbers. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** 60 000 prefixes: each country, its fixed ranges (2 digits more) and mobile ranges (3-4 digits more). */
function makeDeck(size: number, rand: () => number, markup: number): DeckRate[] {
  const rates: DeckRate[] = [];
  const seen = new Set<string>();
  const add = (prefix: string, name: string, base: number) => {
    if (seen.has(prefix) || rates.length >= size) return;
    seen.add(prefix);
    const perMinute = Math.round(base * markup * (0.6 + rand() * 0.8));
    const inc = rand() < 0.6 ? [60, 60] : rand() < 0.5 ? [1, 1] : [30, 6];
    rates.push({ prefix, name, rateMicro: perMinute, firstIncrement: inc[0]!, nextIncrement: inc[1]!, connectionFeeMicro: 0, effectiveFrom: 0 });
  };
  for (const [cc, name] of COUNTRIES) add(cc, name, 20_000 + Math.floor(rand() * 80_000));
  while (rates.length < size) {
    const [cc, name] = COUNTRIES[Math.floor(rand() * COUNTRIES.length)]!;
    const mobile = rand() < 0.6;
    const extra = mobile ? 3 + Math.floor(rand() * 2) : 2;
    let digits = '';
    for (let i = 0; i < extra; i++) digits += String(Math.floor(rand() * 10));
    add(cc + digits, `${name} ${mobile ? 'mobile' : 'fixed'}`, mobile ? 60_000 + Math.floor(rand() * 200_000) : 10_000 + Math.floor(rand() * 40_000));
  }
  return rates;
}

function number(rand: () => number, prefixes: string[]): string {
  const p = prefixes[Math.floor(rand() * prefixes.length)]!;
  let n = p;
  while (n.length < 11) n += String(Math.floor(rand() * 10));
  return n;
}

export async function benchReportsProfit(opts: { calls?: number; prefixes?: number; naiveSample?: number } = {}): Promise<void> {
  const calls = opts.calls ?? 1_000_000;
  const size = opts.prefixes ?? 60_000;
  const naiveSample = opts.naiveSample ?? 1_000;
  console.log(`reports-profit: ${calls.toLocaleString('en')} rated calls, ${size.toLocaleString('en')}-prefix decks, SQLite`);
  const rand = random(42);
  const costRates = makeDeck(size, rand, 1);
  const sellRates = costRates.map((r) => ({ ...r, rateMicro: Math.round(r.rateMicro * (0.9 + rand() * 0.4)) }));
  const prefixes = costRates.map((r) => r.prefix);

  let t = performance.now();
  const cost = new RateDeck({ id: 1, peer: 'carrier', kind: 'cost', version: 1 }, costRates);
  const sell = new RateDeck({ id: 2, peer: 'carrier', kind: 'sell', version: 1 }, sellRates);
  const buildMs = (performance.now() - t) / 2;

  const start = Date.UTC(2026, 10, 1);
  const month = 30 * 86_400_000;
  const callList = Array.from({ length: calls }, (_, i) => ({ peer: 'carrier', dialed: number(rand, prefixes), startedAt: start + Math.floor((i / calls) * month), talkSeconds: 1 + Math.floor(rand() * 600) }));
  t = performance.now();
  const ratings = callList.map((c) => rateCall(c, cost, sell));
  const rateMs = performance.now() - t;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tgpbx-bench-reports-'));
  const db = await openDatabase({ dataDir: dir, databaseUrl: null });
  await db.raw('PRAGMA foreign_keys = OFF'); // ratings without their calls rows: the bench only needs rp_ratings
  const decks = new RateDeckStore(db);
  await decks.replace('carrier', 'cost', costRates);
  t = performance.now();
  const rows = ratings.map((r, i) => ratingRow(i + 1, callList[i]!.startedAt, r, start));
  for (let i = 0; i < rows.length; i += 2_000) await db.transaction(async (trx) => { await trx.batchInsert('rp_ratings', rows.slice(i, i + 2_000), 500); });
  const storeMs = performance.now() - t;

  t = performance.now();
  const report = await profitReport(db, { peer: 'carrier', from: start, to: start + month });
  const profitMs = performance.now() - t;
  t = performance.now();
  const today = await profitReport(db, { peer: 'carrier', from: start + month - 86_400_000, to: start + month });
  const dayMs = performance.now() - t;

  // The naive way: no stored match, each call found in the deck with LIKE, longest prefix first.
  const deckId = (await db('rp_decks').where({ peer: 'carrier', kind: 'cost' }).first('id')).id;
  await db.schema.createTable('bench_calls', (tb) => {
    tb.integer('id').primary();
    tb.string('number', 32);
  });
  await db.batchInsert('bench_calls', callList.slice(0, naiveSample).map((c, i) => ({ id: i + 1, number: ratings[i]!.number })), 500);
  t = performance.now();
  const naive = await db.raw(
    `select code, count(*) as calls from (
       select (select r.prefix from rp_rates r where r.deck_id = ? and c.number like r.prefix || '%' order by length(r.prefix) desc limit 1) as code
       from bench_calls c) group by code`,
    [deckId],
  );
  const naiveMs = performance.now() - t;
  const naivePerMillion = (naiveMs / naiveSample) * 1_000_000;
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });

  const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  console.log(`  trie build (${size.toLocaleString('en')} prefixes): ${fmt(buildMs)} per deck`);
  console.log(`  rating (LPM on cost + sell decks, billing): ${Math.round(calls / (rateMs / 1000)).toLocaleString('en')} calls/s (${fmt(rateMs)} for ${calls.toLocaleString('en')})`);
  console.log(`  storing ratings in SQLite (batches of 2 000): ${Math.round(calls / (storeMs / 1000)).toLocaleString('en')} rows/s`);
  console.log(`  /profit over ${calls.toLocaleString('en')} rated calls (a month, GROUP BY code): ${fmt(profitMs)}, ${report.rows.length.toLocaleString('en')} codes; one day: ${fmt(dayMs)}, ${today.rows.length.toLocaleString('en')} codes`);
  console.log(`  naive (SQL LIKE against the deck, longest first): ${fmt(naiveMs)} for ${naiveSample.toLocaleString('en')} calls (${(naive as unknown[]).length} codes) -> ~${fmt(naivePerMillion)} for 1M calls, ~${Math.round(naivePerMillion / profitMs).toLocaleString('en')}x the /profit query`);
  console.log(`  ${machineLine()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchReportsProfit();
