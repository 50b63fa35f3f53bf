/**
 * Call engine: events/s from AMI bytes on a socket to `call.ended` (tgpbx's AmiClient +
 * CallTracker) against asterisk-manager alone parsing the same stream; calls/s stored in
 * the SQLite call history; heap before and after; and the latency from the write of a
 * call's last Hangup frame to its `call.ended` (settle time 0) on a paced stream.
 * BENCH_CALLS sets the number of calls of the throughput runs (default 20,000, about 1.8M events).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log/logger.js';
import { SecretScrubber } from '../src/log/secret-scrubber.js';
import { AmiClient } from '../src/pbx/ami.js';
import { CallHistory } from '../src/pbx/call-history.js';
import type { Call } from '../src/pbx/call-model.js';
import { CallTracker } from '../src/pbx/calls.js';
import { endpointClassifier } from '../src/pbx/channel-name.js';
import { Metrics } from '../src/status/metrics.js';
import { StatusBoard } from '../src/status/status-board.js';
import { openDatabase } from '../src/storage/database.js';
import { forkAmiPeer } from './ami-peer.js';
import { CallStream } from './call-stream.js';
import { machineLine } from './machine.js';

const require = createRequire(import.meta.url);
const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const STORED = Math.min(CALLS, 5_000);
const PACED_CALLS = 2_000;
const PACED_PER_SECOND = 200;

async function peer(trigger: string, calls: number, perSecond: number | null = null) {
  return forkAmiPeer({ trigger, calls, perSecond });
}

function client(port: number): AmiClient {
  return new AmiClient({
    endpoint: loadConfig({ TGPBX_AMI_URL: `ami://u:p@127.0.0.1:${port}` }).ami!,
    logger: createLogger({ level: 'silent', scrubber: new SecretScrubber() }),
    status: new StatusBoard(),
    metrics: new Metrics(),
  });
}

function tracker(): CallTracker {
  return new CallTracker({
    classify: endpointClassifier(() => ({ extensions: new Set(), trunks: new Set() })),
    policy: () => ({ ivrHangupIsMissed: false }),
    logger: createLogger({ level: 'silent', scrubber: new SecretScrubber() }),
    metrics: new Metrics(),
    settleMs: 0,
  });
}

function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function rawLibrary(events: number): Promise<number> {
  const p = await peer('action: *login', CALLS);
  const m = require('asterisk-manager')(undefined, '127.0.0.1', 'u', 'p', true);
  let seen = 0;
  let start = 0;
  const done = new Promise<number>((resolve) =>
    m.on('managerevent', () => {
      if (seen++ === 0) start = performance.now();
      if (seen === events) resolve(performance.now() - start);
    }),
  );
  m.connect(p.port, '127.0.0.1', () => m.login(() => undefined));
  const ms = await done;
  m.disconnect();
  p.close();
  return (events / ms) * 1000;
}

async function ourPipeline(events: number): Promise<{ eventsPerSecond: number; callsPerSecond: number; ended: number; heapBefore: number; tracker: CallTracker; sample: Call[] }> {
  const p = await peer('action: *events', CALLS);
  const c = client(p.port);
  const t = tracker();
  const sample: Call[] = [];
  let seen = 0;
  let ended = 0;
  let start = 0;
  let eventsDone = 0;
  const heapBefore = heapMiB();
  c.on('event', (e) => {
    if (seen++ === 0) start = performance.now();
    t.handle(e);
    if (seen === events) eventsDone = performance.now();
  });
  const finished = new Promise<number>((resolve) =>
    t.on('call.ended', (call: Call) => {
      if (sample.length < STORED) sample.push(call);
      if (++ended === CALLS) resolve(performance.now());
    }),
  );
  c.start();
  const end = await finished;
  await c.stop();
  p.close();

  return { eventsPerSecond: (events / (eventsDone - start)) * 1000, callsPerSecond: (CALLS / (end - start)) * 1000, ended, heapBefore, tracker: t, sample };
}

async function storing(sample: Call[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tgpbx-bench-'));
  const db = await openDatabase({ dataDir: dir, databaseUrl: null });
  const history = new CallHistory(db, createLogger({ level: 'silent', scrubber: new SecretScrubber() }));
  const start = performance.now();
  for (const call of sample) await history.record(call);
  const ms = performance.now() - start;
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
  return (sample.length / ms) * 1000;
}

/** Paced calls; the peer stamps the moment each call's last Hangup frame was written. */
async function latency(): Promise<number[]> {
  const p = await peer('action: *events', PACED_CALLS, PACED_PER_SECOND);
  const c = client(p.port);
  const t = tracker();
  const endedAt = new Map<string, number>();
  c.on('event', (e) => t.handle(e));
  const done = new Promise<void>((resolve) =>
    t.on('call.ended', (call: Call) => {
      endedAt.set(call.linkedid, performance.timeOrigin + performance.now());
      if (endedAt.size === PACED_CALLS) resolve();
    }),
  );
  c.start();
  await done;
  const written = await p.written;
  await c.stop();
  p.close();
  return [...endedAt].map(([id, at]) => at - written.get(id)!).sort((a, b) => a - b);
}

export async function benchCallEngine(): Promise<void> {
  const perCall = new CallStream().eventsPerCall;
  const events = Math.round(perCall * CALLS);
  const stream = new CallStream();
  let exact = 0;
  for (let i = 0; i < CALLS; i++) exact += stream.next().events;
  console.log(`call-engine: ${CALLS.toLocaleString('en')} calls (${exact.toLocaleString('en')} events, ${perCall.toFixed(0)} per call: plain, ring group, queue, busy, cancelled, internal)`);
  const raw = await rawLibrary(exact);
  const ours = await ourPipeline(exact);
  console.log(`  asterisk-manager alone          : ${Math.round(raw).toLocaleString('en')} events/s`);
  console.log(`  AmiClient + CallTracker         : ${Math.round(ours.eventsPerSecond).toLocaleString('en')} events/s = ${Math.round(ours.callsPerSecond).toLocaleString('en')} calls/s to call.ended (${((ours.eventsPerSecond / raw) * 100).toFixed(0)}% of the library's parse rate; ${ours.ended} ended, ${ours.tracker.active} left open)`);
  console.log(`  stored in SQLite (CallHistory)  : ${Math.round(await storing(ours.sample)).toLocaleString('en')} calls/s (${ours.sample.length} calls, one transaction each)`);
  ours.sample.length = 0; // the tracker stays alive: the heap below is what it keeps after all those calls
  console.log(`  heap                            : ${ours.heapBefore.toFixed(1)} MiB before, ${heapMiB().toFixed(1)} MiB after (tracker alive, ${ours.tracker.active} calls open)${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for exact figures)'}`);
  const lat = await latency();
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
  console.log(`  last Hangup written -> call.ended: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat[lat.length - 1]!.toFixed(2)} ms (${PACED_CALLS} calls at ${PACED_PER_SECOND}/s, settle time 0)`);
  console.log(`  ${machineLine()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCallEngine();
