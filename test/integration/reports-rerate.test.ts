import assert from 'node:assert/strict';
import knexFactory from 'knex';
import type { Database } from '../../src/storage/database.js';
import { ManualClock } from '../support/manual-clock.js';
import { startModule, type TestModule } from '../support/module.js';
import { outboundCall, storeCalls } from '../support/rated-calls.js';

const T0 = Date.UTC(2026, 10, 22, 7, 0); // 10:00 in Moscow
/** More calls than a re-rate stages per transaction (1 000), so a failure comes after batches were done. */
const CALLS = 2_100;
/** The number of the call the database refuses to rate (the last one stored, so in the last batch). */
const CRAFTED = '4915550000000';

const micro = (v: number) => Math.round(v * 1_000_000);
const rate = (prefix: string, name: string, perMinute: number) => ({ prefix, name, rateMicro: micro(perMinute), firstIncrement: 60, nextIncrement: 60, connectionFeeMicro: 0, effectiveFrom: 0 });

/** Every rating, in call order, with numbers as numbers (PostgreSQL may return bigints as strings). */
async function ratings(db: Database) {
  const rows = await db('rp_ratings').orderBy('call_id').select('call_id', 'code', 'billed_seconds', 'cost_micro', 'revenue_micro', 'profit_micro');
  return rows.map((r: Record<string, unknown>) => ({ call: Number(r.call_id), code: String(r.code), billed: Number(r.billed_seconds), cost: Number(r.cost_micro), revenue: Number(r.revenue_micro), profit: Number(r.profit_micro) }));
}

async function count(db: Database, table: string): Promise<number> {
  return Number((await db(table).count({ n: '*' }))[0]!.n);
}

/**
 * Makes the database itself refuse a rating (a real error from the database, in the middle
 * of the work): a trigger on `table` that aborts on the crafted number. Returns its removal.
 */
async function refuseCrafted(db: Database, table: string): Promise<() => Promise<void>> {
  if (db.client.config.client === 'pg') {
    await db.raw(`create or replace function rp_test_refuse() returns trigger language plpgsql as $$ begin if new.number = '${CRAFTED}' then raise exception 'crafted failure on %', new.call_id; end if; return new; end $$`);
    await db.raw(`create trigger rp_test_refuse before insert or update on ${table} for each row execute function rp_test_refuse()`);
    return async () => {
      await db.raw(`drop trigger rp_test_refuse on ${table}`);
    };
  }
  for (const op of ['insert', 'update']) await db.raw(`create trigger rp_test_refuse_${op} before ${op} on ${table} when new.number = '${CRAFTED}' begin select raise(abort, 'crafted failure'); end`);
  return async () => {
    for (const op of ['insert', 'update']) await db.raw(`drop trigger rp_test_refuse_${op}`);
  };
}

const pgServer = process.env.TGPBX_TEST_PG_URL;

/** A PostgreSQL database of its own for this file (TGPBX_TEST_PG_URL names a server and a user that may create databases). */
async function pgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tgpbx_rerate_${process.pid}_${Date.now()}`;
  const admin = () => knexFactory({ client: 'pg', connection: `${pgServer}/postgres`, pool: { min: 0, max: 1 } });
  const k = admin();
  await k.raw(`create database ${name}`);
  await k.destroy();
  return {
    url: `${pgServer}/${name}`,
    drop: async () => {
      const d = admin();
      await d.raw(`drop database if exists ${name}`);
      await d.destroy();
    },
  };
}

const backends = [
  { name: 'SQLite', enabled: true, pg: false },
  { name: 'PostgreSQL (TGPBX_TEST_PG_URL)', enabled: Boolean(pgServer), pg: true },
];

for (const backend of backends) {
  (backend.enabled ? describe : describe.skip)(`reports: re-rating a period is all or nothing, on ${backend.name}`, function () {
    this.timeout(120_000);
    let mod: TestModule;
    let dropDatabase: (() => Promise<void>) | undefined;

    before(async () => {
      let env: Record<string, string> = {};
      if (backend.pg) {
        const pg = await pgDatabase();
        dropDatabase = pg.drop;
        env = { TGPBX_DATABASE_URL: pg.url };
      }
      mod = await startModule(env, { clock: new ManualClock(T0 + 3_600_000), start: false });
      await mod.app.settings.update({ 'general.timezone': 'Europe/Moscow' });
      await mod.app.start();
      const { decks } = mod.app.reports;
      await decks.replace('carrier-a', 'cost', [rate('49', 'Germany', 0.02), rate('7', 'Russia', 0.05)]);
      await decks.replace('carrier-a', 'sell', [rate('49', 'Germany', 0.03), rate('7', 'Russia', 0.07)]);
      const calls = Array.from({ length: CALLS }, (_, i) =>
        outboundCall({ trunk: 'carrier-a', dialed: i === CALLS - 1 ? CRAFTED : `${i % 2 ? '49' : '7'}${String(300000000 + i)}`, startedAt: T0 + i * 1000, talkSeconds: 30 + (i % 300) }),
      );
      await storeCalls(mod.app, calls);
    });
    after(async () => {
      await mod?.close();
      await dropDatabase?.();
    });

    it('a failure partway (the database refuses one call\'s rating) leaves every old rating as it was; once it is gone the re-rate replaces them all', async () => {
      const { db, reports } = mod.app;
      const before = await ratings(db);
      assert.equal(before.length, CALLS, 'every call was rated as it was stored');
      // The sell deck changes: a re-rate would change every rating.
      await reports.decks.replace('carrier-a', 'sell', [rate('49', 'Germany', 0.04), rate('7', 'Russia', 0.09)]);

      // Refused in the swap into rp_ratings (the old code had replaced two batches by then and left the rest unrated).
      const allow = await refuseCrafted(db, 'rp_ratings');
      await assert.rejects(reports.rerate({ from: T0, to: T0 + 86_400_000 }), /crafted failure/);
      assert.deepEqual(await ratings(db), before, 'the old ratings, all of them');
      assert.deepEqual([await count(db, 'rp_rerate_rows'), await count(db, 'rp_rerates')], [0, 0], 'nothing staged is left behind');
      await allow();

      // Refused while the calls are being rated (after the first batch was staged).
      const allowStaging = await refuseCrafted(db, 'rp_rerate_rows');
      await assert.rejects(reports.rerate({ from: T0, to: T0 + 86_400_000, peer: 'carrier-a' }), /crafted failure/);
      assert.deepEqual(await ratings(db), before);
      assert.deepEqual([await count(db, 'rp_rerate_rows'), await count(db, 'rp_rerates')], [0, 0]);
      await allowStaging();

      // With the database willing, the same re-rate replaces every rating.
      const profitBefore = (await reports.profit({ peer: 'carrier-a', from: T0, to: T0 + 86_400_000 })).totals;
      const done = await reports.rerate({ from: T0, to: T0 + 86_400_000 });
      assert.deepEqual([done.rated, done.removed], [CALLS, CALLS]);
      const after = await ratings(db);
      assert.deepEqual(after.map((r) => [r.call, r.code, r.cost]), before.map((r) => [r.call, r.code, r.cost]), 'same calls, codes and costs');
      assert.ok(after.every((r, i) => r.revenue > before[i]!.revenue), 'every revenue from the new sell deck');
      assert.ok((await reports.profit({ peer: 'carrier-a', from: T0, to: T0 + 86_400_000 })).totals.profitMicro > profitBefore.profitMicro);
      assert.deepEqual([await count(db, 'rp_rerate_rows'), await count(db, 'rp_rerates')], [0, 0]);
    });

    it('what a crashed re-rate staged is cleared by the next one; a peer that lost its decks loses its ratings with the swap', async () => {
      const { db, reports } = mod.app;
      // A re-rate killed before its swap leaves its run and staged rows behind (as a kill -9 would).
      const [row] = await db('rp_rerates').insert({ started_at: T0 }).returning('id');
      const crashed = typeof row === 'object' ? Number((row as { id: number }).id) : Number(row);
      const first = (await ratings(db))[0]!;
      await db('rp_rerate_rows').insert({ rerate_id: crashed, call_id: first.call, rated: true, peer: 'carrier-a', started_at: T0, number: '70', code: '7', destination: 'stale', talk_seconds: 1, billed_seconds: 60, cost_micro: 1, revenue_micro: 1, profit_micro: 0, cost_prefix: '7', sell_prefix: '7', rated_at: T0 });
      await reports.decks.remove('carrier-a', 'cost');
      await reports.decks.remove('carrier-a', 'sell');
      // The first 1 000 calls (one a second from T0) are re-rated: no deck rates them any more.
      const done = await reports.rerate({ from: T0, to: T0 + 1_000_000, peer: 'carrier-a' });
      assert.deepEqual([done.rated, done.removed], [0, 1_000]);
      assert.deepEqual([await count(db, 'rp_rerate_rows'), await count(db, 'rp_rerates')], [0, 0], 'the crashed run\'s rows are gone');
      const left = await ratings(db);
      assert.deepEqual([left.length, left[0]!.call], [CALLS - 1_000, first.call + 1_000], 'the later calls keep theirs');
    });
  });
}
