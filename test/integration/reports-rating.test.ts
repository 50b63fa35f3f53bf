import assert from 'node:assert/strict';
import { adminApi, startModule, type TestModule } from '../support/module.js';
import { ManualClock } from '../support/manual-clock.js';
import { outboundCall, storeCalls } from '../support/rated-calls.js';

const ADMIN_TOKEN = 'test-admin-token-reports-0123456789';
const T0 = Date.UTC(2026, 10, 22, 7, 0); // 10:00 in Moscow

const COST_CSV = ['prefix,name,rate,increments,from-date', '7,Russia,0.05,60/60,', '7916,Russia MTS,0.08,1/1,', '44,UK,0.02,60/60,'].join('\n');
const SELL_CSV = ['7,Russia,0.07,60/60,', '7916,Russia MTS,0.12,30/6,,0.01', '44,UK,0.01,60/60,'].join('\n');

describe('reports: decks, rating, re-rating and the profit query', function () {
  let mod: TestModule;
  let clock: ManualClock;

  const api = (...args: Parameters<ReturnType<typeof adminApi>>) => adminApi(mod.app, ADMIN_TOKEN)(...args);

  beforeEach(async () => {
    clock = new ManualClock(T0 + 3_600_000);
    mod = await startModule({ TGPBX_ADMIN_TOKEN: ADMIN_TOKEN }, { clock });
    await mod.app.settings.update({ 'general.timezone': 'Europe/Moscow' });
  });
  afterEach(() => mod.close());

  it('imports a deck from CSV all or nothing: one rejected line stores nothing and lists the lines; partial=1 stores the good ones and says what changed', async () => {
    const deckOf = async () => (await api('GET', '/api/v1/reports/decks')).json.decks.find((d: { peer: string; kind: string }) => d.peer === 'carrier-a' && d.kind === 'cost');
    const clean = COST_CSV;
    const first = await api('PUT', '/api/v1/reports/decks/carrier-a/cost', clean, 'text/csv');
    assert.equal(first.status, 200);
    assert.deepEqual([first.json.stored, first.json.accepted, first.json.rejected_total], [true, 3, 0]);
    assert.deepEqual(first.json.change, { before: 0, after: 3, added: 3, removed: 0, changed: 0, unchanged: 0 });
    const version = (await deckOf()).version;

    // A typo in one line: nothing is stored, the deck keeps its 3 rates and its version.
    const typo = [clean, '4420,London,0.03,60/60,', 'oops,Broken,1,1/1,'].join('\n');
    const refused = await api('PUT', '/api/v1/reports/decks/carrier-a/cost', typo, 'text/csv');
    assert.equal(refused.status, 400);
    assert.equal(refused.json.stored, false);
    assert.deepEqual(refused.json.rejected.map((r: { line: number }) => r.line), [6]);
    assert.match(refused.json.rejected[0].reason, /prefix/);
    assert.deepEqual([refused.json.accepted, refused.json.rejected_total], [4, 1]);
    assert.match(refused.json.error, /nothing was imported, the deck is unchanged.*partial=1/);
    assert.deepEqual(refused.json.change, { before: 3, after: 4, added: 1, removed: 0, changed: 0, unchanged: 3 }, 'what storing the good lines would do');
    assert.deepEqual([(await deckOf()).rates, (await deckOf()).version], [3, version]);

    // Columns in the wrong order (name first): every line is rejected, the deck stays.
    const swapped = ['Russia,7,0.05,60/60,', 'UK,44,0.02,60/60,'].join('\n');
    const wrong = await api('PUT', '/api/v1/reports/decks/carrier-a/cost', swapped, 'text/csv');
    assert.deepEqual([wrong.status, wrong.json.stored, wrong.json.accepted, wrong.json.rejected_total], [400, false, 0, 2]);
    assert.equal((await deckOf()).rates, 3);

    // A big file with many bad lines: the first 100 are listed, with the total.
    const many = Array.from({ length: 150 }, (_, i) => `x${i},Bad,0.01,60/60,`).concat(['7,Russia,0.05,60/60,']).join('\n');
    const big = await api('PUT', '/api/v1/reports/decks/carrier-a/cost', many, 'text/csv');
    assert.deepEqual([big.status, big.json.rejected.length, big.json.rejected_total, big.json.rejected[99].line], [400, 100, 150, 100]);
    assert.equal((await deckOf()).rates, 3);

    // Asked for explicitly: the good lines are stored, with what they changed.
    const partial = await api('PUT', '/api/v1/reports/decks/carrier-a/cost?partial=1', ['7,Russia,0.06,60/60,', '44,UK,0.02,60/60,', 'oops,Broken,1,1/1,'].join('\n'), 'text/csv');
    assert.equal(partial.status, 200);
    assert.deepEqual([partial.json.stored, partial.json.partial, partial.json.accepted, partial.json.rejected_total], [true, true, 2, 1]);
    assert.deepEqual(partial.json.change, { before: 3, after: 2, added: 0, removed: 1, changed: 1, unchanged: 1 });
    assert.deepEqual([(await deckOf()).rates, (await deckOf()).version], [2, version + 1]);
    const json = await api('PUT', '/api/v1/reports/decks/carrier-a/cost', { csv: typo, partial: true });
    assert.deepEqual([json.status, json.json.accepted, json.json.change.before, json.json.change.after], [200, 4, 2, 4]);
    assert.equal((await api('PUT', '/api/v1/reports/decks/carrier-a/cost', 'x,y', 'text/csv')).status, 400, 'a file with no good line is refused even with partial');
  });

  it('rates each answered outbound call as it is stored; groups profit by code, sorted by profit, with totals', async () => {
    await api('PUT', '/api/v1/reports/decks/carrier-a/cost', COST_CSV, 'text/csv');
    await api('PUT', '/api/v1/reports/decks/carrier-a/sell', SELL_CSV, 'text/csv');
    const [mts] = await storeCalls(mod.app, [
      outboundCall({ trunk: 'carrier-a', dialed: '+79161234567', startedAt: T0, talkSeconds: 31 }),
      outboundCall({ trunk: 'carrier-a', dialed: '79161110000', startedAt: T0 + 60_000, talkSeconds: 120 }),
      outboundCall({ trunk: 'carrier-a', dialed: '0074951234567', startedAt: T0 + 120_000, talkSeconds: 61 }),
      outboundCall({ trunk: 'carrier-a', dialed: '447700900123', startedAt: T0 + 180_000, talkSeconds: 60 }),
      outboundCall({ trunk: 'carrier-a', dialed: '3312345678', startedAt: T0 + 240_000, talkSeconds: 60 }),
      outboundCall({ trunk: 'carrier-a', dialed: '79160000000', startedAt: T0, talkSeconds: 0 }), // not answered
      outboundCall({ trunk: 'carrier-a', dialed: '79160000001', startedAt: T0, talkSeconds: 60, direction: 'inbound' }),
    ]);
    const rating = await mod.app.db('rp_ratings').where({ call_id: mts }).first();
    assert.equal(rating.code, '7916');
    assert.equal(rating.destination, 'Russia MTS');
    assert.equal(Number(rating.billed_seconds), 36);
    assert.equal(Number(rating.cost_micro), Math.round((80_000 * 31) / 60));
    assert.equal(Number(rating.revenue_micro), 10_000 + 72_000);
    assert.equal(await mod.app.db('rp_ratings').count({ n: '*' }).then((r) => Number(r[0]!.n)), 5, 'unanswered and inbound calls are not rated');

    const report = (await api('GET', '/api/v1/reports/profit?peer=carrier-a&interval=today')).json;
    assert.deepEqual(report.rows.map((r: { code: string }) => r.code), ['7916', '7', '', '44']);
    const mtsRow = report.rows[0];
    assert.equal(mtsRow.calls, 2);
    assert.equal(mtsRow.destination, 'Russia MTS');
    // 31 s: cost 41 333, revenue 82 000; 120 s: cost 160 000, revenue 10 000 + 240 000.
    assert.equal(mtsRow.cost.micro, 41_333 + 160_000);
    assert.equal(mtsRow.revenue.micro, 82_000 + 250_000);
    assert.equal(mtsRow.profit.micro, 332_000 - 201_333);
    assert.equal(mtsRow.margin_percent, 39.4);
    assert.equal(report.rows[3].profit.micro, -10_000, 'UK sold below cost');
    assert.equal(report.totals.calls, 5);
    assert.equal(report.totals.profit.micro, report.rows.reduce((s: number, r: { profit: { micro: number } }) => s + r.profit.micro, 0));
  });

  it('re-rating a period after a deck change is one action', async () => {
    await api('PUT', '/api/v1/reports/decks/carrier-a/cost', COST_CSV, 'text/csv');
    await api('PUT', '/api/v1/reports/decks/carrier-a/sell', SELL_CSV, 'text/csv');
    await storeCalls(mod.app, [
      outboundCall({ trunk: 'carrier-a', dialed: '447700900123', startedAt: T0, talkSeconds: 60 }),
      outboundCall({ trunk: 'carrier-a', dialed: '447700900124', startedAt: T0 - 2 * 86_400_000, talkSeconds: 60 }),
    ]);
    const uk = async (interval: string) => (await api('GET', `/api/v1/reports/profit?peer=carrier-a&interval=${interval}`)).json.rows.find((r: { code: string }) => r.code === '44');
    assert.equal((await uk('today')).profit.micro, -10_000);
    // The UK sell rate is raised, with an extra UK mobile prefix.
    assert.equal((await api('POST', '/api/v1/reports/decks/carrier-a/sell/rates', { prefix: '44', name: 'UK', rate: '0.05', increments: '60/60' })).status, 201);
    assert.equal((await uk('today')).profit.micro, -10_000, 'stored ratings stay until re-rated');
    const rerated = await api('POST', '/api/v1/reports/rerate', { interval: 'today' });
    assert.deepEqual([rerated.json.rated, rerated.json.replaced], [1, 1]);
    assert.equal((await uk('today')).profit.micro, 30_000);
    const older = await api('GET', '/api/v1/reports/profit?peer=carrier-a&from=2026-11-20&to=2026-11-20');
    assert.equal(older.json.rows[0].profit.micro, -10_000, 'calls outside the period keep their rating');
  });

  it('the REST API wants the admin token', async () => {
    const res = await mod.app.web.inject({ method: 'GET', url: '/api/v1/reports/decks' });
    assert.equal(res.statusCode, 401);
  });
});
