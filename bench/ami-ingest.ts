/**
 * AMI ingest: events per second through asterisk-manager alone, and through tgpbx's
 * AmiClient (which wraps it), on the same byte stream: real event frames from the
 * recorded 20-call burst, repeated, blasted from a local TCP server after login.
 */
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log/logger.js';
import { SecretScrubber } from '../src/log/secret-scrubber.js';
import { AmiClient } from '../src/pbx/ami.js';
import { Metrics } from '../src/status/metrics.js';
import { StatusBoard } from '../src/status/status-board.js';
import { parseAmiFrames, frameKind, serializeAmiFrame } from '../test/support/ami-frames.js';
import { listenAsAmiPeer } from './ami-peer.js';
import { machineLine } from './machine.js';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const EVENTS = Number(process.env.BENCH_AMI_EVENTS ?? 200_000);

function buildStream(): { bytes: Buffer; count: number } {
  const frames = parseAmiFrames(fs.readFileSync(path.join(here, '../test/fixtures/ami/burst.ami'), 'utf8')).filter((f) => frameKind(f) === 'event');
  const texts = frames.map((f) => serializeAmiFrame(f.pairs));
  const parts: string[] = [];
  for (let i = 0; i < EVENTS; i++) parts.push(texts[i % texts.length]!);
  return { bytes: Buffer.from(parts.join('')), count: EVENTS };
}

async function blaster(stream: Buffer, trigger: RegExp): Promise<{ port: number; close(): void }> {
  const server = await listenAsAmiPeer(trigger, (socket) => socket.write(stream));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

async function rawLibrary(stream: Buffer, count: number): Promise<number> {
  const peer = await blaster(stream, /action: *login/i);
  const Manager = require('asterisk-manager');
  const m = Manager(undefined, '127.0.0.1', 'u', 'p', true);
  let seen = 0;
  let start = 0;
  const done = new Promise<number>((resolve) =>
    m.on('managerevent', () => {
      if (seen++ === 0) start = performance.now();
      if (seen === count) resolve(performance.now() - start);
    }),
  );
  m.connect(peer.port, '127.0.0.1', () => m.login(() => undefined));
  const ms = await done;
  m.disconnect();
  peer.close();
  return (count / ms) * 1000;
}

async function ourClient(stream: Buffer, count: number): Promise<number> {
  const peer = await blaster(stream, /action: *events/i);
  const scrubber = new SecretScrubber();
  const client = new AmiClient({
    endpoint: loadConfig({ TGPBX_AMI_URL: `ami://u:p@127.0.0.1:${peer.port}` }).ami!,
    logger: createLogger({ level: 'silent', scrubber }),
    status: new StatusBoard(),
    metrics: new Metrics(),
  });
  let seen = 0;
  let start = 0;
  const done = new Promise<number>((resolve) =>
    client.on('event', () => {
      if (seen++ === 0) start = performance.now();
      if (seen === count) resolve(performance.now() - start);
    }),
  );
  client.start();
  const ms = await done;
  await client.stop();
  peer.close();
  return (count / ms) * 1000;
}

export async function benchAmiIngest(): Promise<void> {
  const { bytes, count } = buildStream();
  console.log(`ami-ingest: ${count} real event frames (burst.ami repeated), ${(bytes.length / 2 ** 20).toFixed(1)} MiB`);
  const runs = { raw: [] as number[], ours: [] as number[] };
  for (let i = 0; i < 3; i++) {
    runs.raw.push(await rawLibrary(bytes, count));
    runs.ours.push(await ourClient(bytes, count));
  }
  const best = (xs: number[]) => Math.max(...xs);
  console.log(`  asterisk-manager alone : ${Math.round(best(runs.raw)).toLocaleString('en')} events/s (best of 3)`);
  console.log(`  tgpbx AmiClient        : ${Math.round(best(runs.ours)).toLocaleString('en')} events/s (best of 3), ${((best(runs.ours) / best(runs.raw)) * 100).toFixed(0)}% of the library`);
  console.log(`  ${machineLine()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAmiIngest();
