/**
 * FastAGI throughput: `tg-callerid` requests per second with 50 concurrent connections.
 * Each request is a whole AGI conversation as Asterisk has it: connect, the agi_*
 * environment, five GET VARIABLE PJSIP_HEADER(read,X-TG-*), SET CALLERID(num),
 * SET CALLERID(name), SET __TG_ID, GET CHANNEL(linkedid), then tgpbx writes the channel
 * record to SQLite and closes. The load (Asterisk's side) runs in a child process, so the
 * figure is the server's, not the client's.
 */
import fs from 'node:fs';
import net from 'node:net';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/log/logger.js';
import { SecretScrubber } from '../src/log/secret-scrubber.js';
import { createAgiHandlers } from '../src/pbx/agi-handlers/index.js';
import { FastAgiServer } from '../src/pbx/fastagi.js';
import { RouteGuard } from '../src/pbx/route-guard.js';
import { TelegramChannelStore } from '../src/pbx/telegram-channel-store.js';
import { StatusBoard } from '../src/status/status-board.js';
import { openDatabase } from '../src/storage/database.js';
import { tempDataDir } from '../test/support/module.js';
import { machineLine } from './machine.js';

const CONCURRENCY = Number(process.env.BENCH_FASTAGI_CONCURRENCY ?? 50);
const REQUESTS = Number(process.env.BENCH_FASTAGI_REQUESTS ?? 20_000);

interface LoadOrder {
  port: number;
  requests: number;
  concurrency: number;
  offset: number;
}

interface LoadResult {
  ms: number;
  latencies: number[];
  failures: number;
}

const HEADERS: Record<string, string> = { 'X-TG-Phone': '79990001122', 'X-TG-Username': 'alice_tg', 'X-TG-FirstName': 'Alice', 'X-TG-LastName': 'Smith' };

/** Asterisk's side of one conversation, as lean as possible: answers each command line by line. */
function conversation(port: number, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      socket.write(
        'agi_network: yes\nagi_network_script: tg-callerid?line=1\n' +
          `agi_request: agi://127.0.0.1:${port}/tg-callerid?line=1\nagi_channel: PJSIP/tgpbx-line-1-${n.toString(16).padStart(8, '0')}\n` +
          `agi_language: en\nagi_type: PJSIP\nagi_uniqueid: 1795331409.${n}\nagi_version: 20.20.1\nagi_callerid: trunk\nagi_calleridname: Telegram\n` +
          'agi_callingpres: 0\nagi_callingani2: 0\nagi_callington: 0\nagi_callingtns: 0\nagi_dnid: 400\nagi_rdnis: unknown\n' +
          'agi_context: tgpbx-from-telegram\nagi_extension: 400\nagi_priority: 2\nagi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: 1\n\n',
      );
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const header = /^GET VARIABLE PJSIP_HEADER\(read,(.+)\)$/.exec(line);
        if (header) socket.write(header[1] === 'X-TG-ID' ? `200 result=1 (${1_000_000 + n})\n` : HEADERS[header[1]!] ? `200 result=1 (${HEADERS[header[1]!]})\n` : '200 result=0\n');
        else if (line.startsWith('GET VARIABLE CHANNEL(linkedid)')) socket.write(`200 result=1 (1795331409.${n})\n`);
        else socket.write('200 result=1\n');
      }
    });
    socket.on('end', () => {
      socket.end();
      resolve(performance.now() - started);
    });
    socket.on('error', reject);
  });
}

/** The worker: keeps `concurrency` conversations going until `requests` are done. */
async function runLoad(order: LoadOrder): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < order.requests) {
      const n = order.offset + next++;
      try {
        latencies.push(await conversation(order.port, n));
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: order.concurrency }, lane));
  return { ms: performance.now() - started, latencies, failures };
}

const LOAD_ROLE = 'fastagi-load';

if (process.env.TGPBX_BENCH_ROLE === LOAD_ROLE) {
  process.once('message', (order: LoadOrder) => {
    void runLoad(order).then((result) => process.send!(result, () => process.exit(0)));
  });
}

/** Runs the load in a child process (another core) and resolves with its result. */
function load(order: LoadOrder): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, TGPBX_BENCH_ROLE: LOAD_ROLE } });
    child.once('message', (r: LoadResult) => resolve(r));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`load process exited with ${code}`)));
    child.send(order);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

/** Prints tg-callerid requests/s over FastAGI with 50 concurrent connections, latencies, and the machine. */
export async function benchFastAgi(): Promise<void> {
  const dataDir = tempDataDir('tgpbx-bench-');
  const db = await openDatabase({ dataDir, databaseUrl: null });
  const logger = createLogger({ level: 'warn', scrubber: new SecretScrubber() });
  const store = new TelegramChannelStore(db);
  const server = new FastAgiServer({
    host: '127.0.0.1',
    port: 0,
    handlers: createAgiHandlers({ telegramChannels: store, routeGuard: new RouteGuard({ logger }) }),
    logger,
    status: new StatusBoard(),
  });
  const outcomes = new Map<string, number>();
  server.on('session', (r: { outcome: string }) => outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1));
  await server.start();
  const port = server.address!.port;
  try {
    await load({ port, requests: 1_000, concurrency: CONCURRENCY, offset: 0 }); // warm-up
    outcomes.clear();
    const result = await load({ port, requests: REQUESTS, concurrency: CONCURRENCY, offset: 1_000 });
    const sorted = [...result.latencies].sort((a, b) => a - b);
    const rate = (result.latencies.length / result.ms) * 1000;
    const rows = Number((await db('telegram_channels').count({ n: '*' }))[0]!.n);
    console.log(`fastagi: tg-callerid over FastAGI, ${CONCURRENCY} concurrent connections, ${REQUESTS} requests (9 AGI commands + 1 SQLite write each)`);
    console.log(`  ${Math.round(rate).toLocaleString('en')} requests/s; latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`);
    console.log(`  outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; client failures ${result.failures}; channel records ${rows}`);
    console.log(`  ${machineLine()}`);
  } finally {
    await server.stop();
    await db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.env.TGPBX_BENCH_ROLE !== LOAD_ROLE && import.meta.url === `file://${process.argv[1]}`) await benchFastAgi();
