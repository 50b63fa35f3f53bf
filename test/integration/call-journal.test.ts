import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadAmiEvents } from '../support/ami-fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { callStored, startModule, tempDataDir, type TestModule } from '../support/module.js';

const MISSED = '1795331344.0';
const IDLE_MS = 4 * 3600_000;

/**
 * The journal inside the module on fake time: the module is stopped (SIGTERM path: the
 * journal is written out) and started again on the same data directory and clock. The
 * kill -9 tests are in call-journal-crash.test.ts.
 */
describe('call journal on fake time', () => {
  let dataDir: string;
  let clock: ManualClock;
  const mods: TestModule[] = [];
  const start = async () => {
    const mod = await startModule({}, { dataDir, clock, callSettleMs: 1500 });
    mods.push(mod);
    return mod;
  };

  beforeEach(() => {
    dataDir = tempDataDir('tgpbx-journal-');
    clock = new ManualClock();
  });
  afterEach(async () => {
    for (const m of mods.splice(0)) await m.app.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a stored call leaves the journal; the journal kept only the events that changed the call', async () => {
    const mod = await start();
    const events = loadAmiEvents('missed-call.ami');
    for (const e of events) mod.app.calls.tracker.handle(e);
    await mod.app.calls.journal.flushed();
    const rows = await mod.app.calls.journal.count();
    assert.ok(rows > 0 && rows < events.length / 2, `${rows} rows for ${events.length} events`);
    clock.advance(1500);
    await callStored(mod.app, MISSED);
    assert.equal(await mod.app.calls.journal.count(), 0);
  });

  it('a call stopped during its settle time is stored when the rest of it has passed, counted from the journal', async () => {
    const first = await start();
    for (const e of loadAmiEvents('missed-call.ami')) first.app.calls.tracker.handle(e); // every channel hung up: settling
    clock.advance(500);
    await first.app.stop(); // its settle timer dies with it
    mods.length = 0;

    const second = await start();
    assert.equal(second.app.calls.tracker.active, 1);
    clock.advance(999); // 1,499 ms after the last Hangup was received
    assert.equal(second.app.calls.tracker.active, 1, 'still settling');
    clock.advance(1);
    assert.equal(second.app.calls.tracker.active, 0, 'settled 1,500 ms after the last Hangup, not after the restart');
    await callStored(second.app, MISSED);
    const call = await second.app.db('calls').where({ linkedid: MISSED }).first();
    assert.deepEqual([call.disposition, Boolean(call.partial)], ['missed', false]);
    assert.equal(await second.app.calls.journal.count(), 0);
  });

  it('a journaled call that never ends is closed as partial after the idle limit, also across a restart, and leaves the journal', async () => {
    const events = loadAmiEvents('missed-call.ami');
    const first = await start();
    for (const e of events.slice(0, events.findIndex((e) => e.event === 'DialEnd'))) first.app.calls.tracker.handle(e);
    clock.advance(IDLE_MS - 60_000);
    await first.app.stop();
    mods.length = 0;

    const second = await start();
    assert.equal(second.app.calls.tracker.active, 1, 'silent for 3 h 59 min: restored');
    clock.advance(60_000 + 600_000); // the next idle sweep after the limit
    await callStored(second.app, MISSED);
    const call = await second.app.db('calls').where({ linkedid: MISSED }).first();
    assert.equal(Boolean(call.partial), true);
    assert.equal(await second.app.calls.journal.count(), 0);
  });

  it('at start, a journaled call silent for longer than the idle limit is closed at once', async () => {
    const events = loadAmiEvents('missed-call.ami');
    const first = await start();
    for (const e of events.slice(0, 10)) first.app.calls.tracker.handle(e);
    await first.app.stop();
    mods.length = 0;
    clock.advance(IDLE_MS);

    const second = await start();
    assert.equal(second.app.calls.tracker.active, 0);
    await callStored(second.app, MISSED);
    assert.equal(await second.app.calls.journal.count(), 0);
  });
});
