import assert from 'node:assert/strict';
import { startModule, type TestModule } from '../support/module.js';
import { ManualClock } from '../support/manual-clock.js';
import { outboundCall, storeCalls } from '../support/rated-calls.js';

const ADMIN_TOKEN = 'test-admin-token-reports-0123456789';
const T0 = Date.UTC(2026, 10, 22, 7, 0); // 10:00 in Moscow

const COST_CSV = ['prefix,name,rate,increments,from-date', '7,Russia,0.05,60/60,', '7916,Russia MTS,0.08,1/1,', '44,UK,0.02,60/60,', 'oops,Broken,1,1/1,'].join('\n');
const SELL_CSV = ['7,Russia,0.07,60/60,', '7916,Russia MTS,0.12,30/6,,0.01', '44,UK,0.01,60/60,'].join('\n');

describe('reports: decks, rating, re-rating and the profit query', function () {
  let mod: TestModule;
  let clock: ManualClock;

  async function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', url: string, body?: unknown, contentType = 'application/json') {
    const res = await mod.app.web.inject({
      method,
      url,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : undefined };
  }

  beforeEach(async () => {
    clock = new ManualClock(T0 + 3_600_000);
    mod = await startModule({ TGPBX_ADMIN_TOKEN: ADMIN_TOKEN }, { clock });
    await mod.app.settings.update({ 'general.timezone': 'Europe/Moscow' });
  });
  afterEach(() => mod.close());

  it('imports a deck from CSV: the good lines replace the deck, the bad ones come back with line and reason', async () => {
    const res = await api('PUT', '/api/v1/reports/decks/carrier-a/cost', COST_CSV, 'text/csv');
    assert.equal(res.status, 200);
    assert.equal(res.json.accepted, 3);
    assert.deepEqual(res.json.rejected.map((r: { line: number }) => r.line), [5]);
    assert.match(res.json.rejected[0].reason, /prefix/);
    const nothing = await api('PUT', '/api/v1/reports/decks/carrier-a/cost', 'x,y', 'text/csv');
    assert.equal(nothing.status, 400, 'a file with no good line leaves the deck alone');
    assert.equal((await api('GET', '/api/v1/reports/decks')).json.decks[0].rates, 3);
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
