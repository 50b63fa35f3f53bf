/**
 * Missed-call notice latency: from the write of a missed call's last Hangup frame (an AMI
 * peer in its own process) to the sendMessage of its notice arriving at the Bot API
 * emulator, through the whole running module (AmiClient, CallTracker, CallHistory + the
 * missed-calls hook, outbox, sender). Paced at 10 and 100 missed calls/s, one subscriber.
 * The settle time is 0 here: in production add the tracker's 1.5 s settle time.
 * The per-chat limit is raised: Telegram allows one message per second to one chat.
 */
import fs from 'node:fs';
import { startModule } from '../test/support/module.js';
import { BotApiServer } from '../test/support/bot-api-server.js';
import { forkAmiPeer } from './ami-peer.js';
import { machineLine } from './machine.js';

const TOKEN = '123456789:BENCHnoticesTokenAbcdefghijklmnopqr';

async function run(perSecond: number, seconds: number): Promise<void> {
  const calls = perSecond * seconds;
  const telegram = await BotApiServer.start({ limits: { globalPerSecond: 5000, privateChatPerSecond: 5000 } });
  telegram.addBot({ token: TOKEN, username: 'tgpbx_bench_bot' });
  telegram.user({ id: 4242, first_name: 'Ann' });
  const peer = await forkAmiPeer({ trigger: 'action: *events', calls, perSecond, mix: ['missed-call'], uniqueCallers: true });
  const mod = await startModule({ TGPBX_AMI_URL: `ami://u:p@127.0.0.1:${peer.port}`, TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_LOG_LEVEL: 'warn' }, { start: false, callSettleMs: 0 });
  await mod.app.settings.update({ 'telegram.bot_token': TOKEN, 'telegram.rate.global_per_second': 1000, 'telegram.rate.private_chat_per_second': 1000, 'telegram.in_flight': 8 });
  await mod.app.missedCalls.store.addByAdmin('Ann', '4242', { kind: 'extension', id: '101' });
  await mod.app.start();
  await telegram.waitForSent(calls, 600_000);
  const written = await peer.written;
  const latencies: number[] = [];
  for (const r of telegram.requestsOf('sendMessage')) {
    const caller = /From: (\+\d+)/.exec(String(r.params.text))?.[1];
    const at = caller ? written.get(caller) : undefined;
    if (at !== undefined) latencies.push(r.at - at);
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  console.log(`  ${String(perSecond).padStart(3)} missed calls/s for ${seconds} s: ${latencies.length} notices, last Hangup -> sendMessage p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms`);
  peer.close();
  await mod.close();
  await telegram.stop();
  fs.rmSync(mod.dataDir, { recursive: true, force: true });
}

export async function benchMissedCallNotices(): Promise<void> {
  console.log('missed-call-notices: AMI bytes -> call -> stored with its notice -> outbox -> Bot API (settle time 0, one subscriber)');
  await run(10, 20);
  await run(100, 10);
  console.log(`  ${machineLine()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMissedCallNotices();
