/**
 * The cost of the call journal (pbx/call-journal.ts): the AMI stream of bench/call-stream
 * through AmiClient + CallTracker, with and without the journal on SQLite, and with and
 * without storing every call (CallHistory; with the journal, as CallEngine does: wait for
 * the call's rows to be written, store the call and delete its rows in one transaction).
 * Prints events/s, calls/s, the journal's write rate (rows, transactions and bytes per
 * second) and, on a paced stream, the time from a call's last Hangup frame to the call
 * stored (with the production settle time). BENCH_CALLS: calls of the unstored runs (default 10,000); BENCH_STORED_CALLS:
 * of the stored runs (default 3,000); BENCH_ROUNDS: runs of each (default 3, best shown).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log/logger.js';
import { SecretScrubber } from '../src/log/secret-scrubber.js';
import { AmiClient } from '../src/pbx/ami.js';
import { CallHistory } from '../src/pbx/call-history.js';
import { CallJournal } from '../src/pbx/call-journal.js';
import type { Call } from '../src/pbx/call-model.js';
import { CallTracker } from '../src/pbx/calls.js';
import { endpointClassifier } from '../src/pbx/channel-name.js';
import { Metrics } from '../src/status/metrics.js';
import { StatusBoard } from '../src/status/status-board.js';
import { openDatabase, type Database } from '../src/storage/database.js';
import { loadAmiEvents } from '../test/support/ami-fixtures.js';
import type { AmiEvent } from '../src/pbx/ami.js';
import { forkAmiPeer } from './ami-peer.js';
import { CallStream } from './call-stream.js';
import { machineLine } from './machine.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
const STORED_CALLS = Number(process.env.BENCH_STORED_CALLS ?? 3_000);
const PACED_CALLS = 1_000;
const PACED_PER_SECOND = 100;
const SETTLE_MS = 1_500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MEMORY_CALLS = 3_000;
const silent = () => createLogger({ level: 'silent', scrubber: new SecretScrubber() });

interface Run {
  events: number;
  eventsPerSecond: number;
  callsPerSecond: number;
  seconds: number;
  journal?: { rows: number; batches: number; bytes: number; maxLagMs: number };
  /** ms from each call's last Hangup frame written to the call stored (paced runs). */
  latencies?: number[];
}

async function run(opts: { journal: boolean; store: boolean; calls: number; perSecond?: number; settleMs?: number }): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tgpbx-bench-journal-'));
  const db: Database = await openDatabase({ dataDir: dir, databaseUrl: null });
  const logger = silent();
  const journal = opts.journal ? new CallJournal(db, logger) : undefined;
  await journal?.load();
  const history = new CallHistory(db, logger);
  const tracker = new CallTracker({
    classify: endpointClassifier(() => ({ extensions: new Set(), trunks: new Set() })),
    policy: () => ({ ivrHangupIsMissed: false }),
    logger,
    metrics: new Metrics(),
    settleMs: opts.settleMs ?? 0,
    journal,
  });
  const stream = new CallStream();
  let events = 0;
  for (let i = 0; i < opts.calls; i++) events += stream.next().events;

  const p = await forkAmiPeer({ trigger: 'action: *events', calls: opts.calls, perSecond: opts.perSecond ?? null });
  const client = new AmiClient({
    endpoint: loadConfig({ TGPBX_AMI_URL: `ami://u:p@127.0.0.1:${p.port}` }).ami!,
    logger,
    status: new StatusBoard(),
    metrics: new Metrics(),
  });
  let seen = 0;
  let start = 0;
  let eventsDone = 0;
  let done = 0;
  const storedAt = new Map<string, number>();
  const finished = new Promise<void>((resolve) => {
    const one = (call: Call) => {
      if (opts.perSecond) storedAt.set(call.linkedid, performance.timeOrigin + performance.now());
      if (++done === opts.calls) resolve();
    };
    tracker.on('call.ended', (call: Call) => {
      if (!opts.store) return one(call);
      const stored = journal
        ? journal.flushedFor(call.linkedid).then(() => history.record(call, (trx) => journal.deleteCall(trx, call.linkedid)))
        : history.record(call);
      stored.then(() => one(call), (err: Error) => console.error(err.message));
    });
  });
  client.on('event', (e) => {
    if (seen++ === 0) start = performance.now();
    tracker.handle(e);
    if (seen === events) eventsDone = performance.now();
  });
  client.start();
  await finished;
  await journal?.flushed();
  const end = performance.now();
  const written = opts.perSecond ? await p.written : undefined;
  await client.stop();
  p.close();
  const result: Run = {
    events,
    eventsPerSecond: (events / (eventsDone - start)) * 1000,
    callsPerSecond: (opts.calls / (end - start)) * 1000,
    seconds: (end - start) / 1000,
    journal: journal ? { rows: journal.rowsWritten, batches: journal.batchesWritten, bytes: journal.bytesWritten, maxLagMs: journal.maxLagMs } : undefined,
    latencies: written ? [...storedAt].map(([id, at]) => at - written.get(id)!).sort((a, b) => a - b) : undefined,
  };
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

const n = (x: number) => Math.round(x).toLocaleString('en');

/** The stream of `calls` calls as AmiClient would emit them, in memory. */
function eventsInMemory(calls: number): AmiEvent[] {
  const stream = new CallStream();
  let text = '';
  for (let i = 0; i < calls; i++) text += stream.next().text;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tgpbx-bench-stream-')), 'stream.ami');
  fs.writeFileSync(file, text);
  const events = loadAmiEvents(file);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return events;
}

/**
 * The journal's own CPU cost: the tracker fed from memory (no socket, no parser), with
 * and without the journal, until every call ended and every row is written. Returns
 * events/s and the journal's rows.
 */
async function inMemory(events: AmiEvent[], withJournal: boolean): Promise<{ eventsPerSecond: number; rows: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tgpbx-bench-journal-'));
  const db = await openDatabase({ dataDir: dir, databaseUrl: null });
  const journal = withJournal ? new CallJournal(db, silent()) : undefined;
  await journal?.load();
  const tracker = new CallTracker({
    classify: endpointClassifier(() => ({ extensions: new Set(), trunks: new Set() })),
    policy: () => ({ ivrHangupIsMissed: false }),
    logger: silent(),
    metrics: new Metrics(),
    settleMs: 0,
    journal,
  });
  const start = performance.now();
  // In slices, yielding between them, as socket chunks would: the writer gets its turns.
  for (let i = 0; i < events.length; i += 500) {
    for (const e of events.slice(i, i + 500)) tracker.handle(e);
    await new Promise((r) => setImmediate(r));
  }
  await journal?.flushed();
  const ms = performance.now() - start;
  const rows = journal?.rowsWritten ?? 0;
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
  return { eventsPerSecond: (events.length / ms) * 1000, rows };
}

function line(label: string, r: Run): string {
  let text = `  ${label.padEnd(34)}: ${n(r.eventsPerSecond).padStart(7)} events/s, ${n(r.callsPerSecond).padStart(6)} calls/s`;
  if (r.journal) {
    const { rows, batches, bytes, maxLagMs } = r.journal;
    text += `\n  ${''.padEnd(34)}  journal: ${n(rows)} rows (${((rows / r.events) * 100).toFixed(0)}% of the events, ${n(bytes / rows)} B of JSON each) in ${n(batches)} writes: ${n(rows / r.seconds)} rows/s, ${(batches / r.seconds).toFixed(1)} writes/s, ${(bytes / r.seconds / 2 ** 20).toFixed(2)} MiB/s; longest wait before written (crash window) ${n(maxLagMs)} ms`;
  }
  return text;
}

function percentiles(lat: number[]): string {
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(1);
  return `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat[lat.length - 1]!.toFixed(1)} ms`;
}

export async function benchCallJournal(): Promise<void> {
  console.log(`call-journal: ${n(CALLS)} calls unstored, ${n(STORED_CALLS)} stored (${new CallStream().eventsPerCall.toFixed(0)} events per call), SQLite in ${os.tmpdir()}, settle time 0`);
  const memory = eventsInMemory(MEMORY_CALLS);
  const bestMemory = [0, 0];
  let rows = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const withJournal of [false, true]) {
      const r = await inMemory(memory, withJournal);
      bestMemory[Number(withJournal)] = Math.max(bestMemory[Number(withJournal)]!, r.eventsPerSecond);
      rows = Math.max(rows, r.rows);
    }
  }
  const perEvent = (1e6 / bestMemory[1]! - 1e6 / bestMemory[0]!).toFixed(2);
  console.log(`  tracker alone, events from memory: ${n(bestMemory[0]!)} events/s without the journal, ${n(bestMemory[1]!)} with it (${n(rows)} rows written): ${perEvent} µs more per event (${MEMORY_CALLS.toLocaleString('en')} calls, best of ${ROUNDS})`);
  // Runs with and without the journal alternate, ROUNDS times; the best of each is shown (other load on the machine only slows runs down).
  const best = new Map<string, Run>();
  const configs: [string, Parameters<typeof run>[0]][] = [
    ['tracker, no journal', { journal: false, store: false, calls: CALLS }],
    ['tracker + journal', { journal: true, store: false, calls: CALLS }],
    ['tracker + CallHistory, no journal', { journal: false, store: true, calls: STORED_CALLS }],
    ['tracker + CallHistory + journal', { journal: true, store: true, calls: STORED_CALLS }],
  ];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, opts] of configs) {
      const r = await run(opts);
      if (!best.has(label) || r.callsPerSecond > best.get(label)!.callsPerSecond) best.set(label, r);
    }
  }
  console.log(`  (best of ${ROUNDS} alternating runs; load average at the start ${os.loadavg()[0]!.toFixed(1)})`);
  for (const [label] of configs) console.log(line(label, best.get(label)!));
  for (const journal of [false, true]) {
    const r = await run({ journal, store: true, calls: PACED_CALLS, perSecond: PACED_PER_SECOND, settleMs: SETTLE_MS });
    let text = `  last Hangup -> stored, ${journal ? 'journal   ' : 'no journal'}: ${percentiles(r.latencies!.map((ms) => ms - SETTLE_MS))} after the settle time (${PACED_CALLS} calls at ${PACED_PER_SECOND}/s = ${n(r.events / PACED_CALLS * PACED_PER_SECOND)} events/s, settle time ${SETTLE_MS} ms as in production)`;
    if (r.journal) text += `\n  ${''.padEnd(34)}  journal: ${n(r.journal.rows / r.seconds)} rows/s in ${(r.journal.batches / r.seconds).toFixed(1)} writes/s, ${(r.journal.bytes / r.seconds / 2 ** 10).toFixed(0)} KiB/s; longest wait before written (crash window) ${n(r.journal.maxLagMs)} ms`;
    console.log(text);
  }
  console.log(`  ${machineLine()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCallJournal();
