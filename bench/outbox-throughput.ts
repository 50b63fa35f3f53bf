/**
 * Outbox throughput: messages per second the real module delivers through the durable
 * outbox to the limit-enforcing Bot API emulator, at Telegram's limits (30/s per bot,
 * 1/s per chat) and with raised limits (what the sender itself can do), plus 429 counts.
 */
import fs from 'node:fs';
import { startModule } from '../test/support/module.js';
import { BotApiServer, type BotApiLimits } from '../test/support/bot-api-server.js';
import { machineLine } from './machine.js';

const TOKEN = '123456789:BENCHoutboxTokenAbcdefghijklmnopqrst';

async function run(label: string, messages: number, chats: number, limits: BotApiLimits, inFlight: number): Promise<void> {
  const telegram = await BotApiServer.start({ limits });
  telegram.addBot({ token: TOKEN, username: 'tgpbx_bench_bot' });
  for (let c = 0; c < chats; c++) telegram.user({ id: 10_000 + c, first_name: `U${c}` });
  const mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_LOG_LEVEL: 'warn' }, { start: false });
  await mod.app.settings.update({
    'telegram.bot_token': TOKEN,
    'telegram.rate.global_per_second': limits.globalPerSecond,
    'telegram.rate.private_chat_per_second': limits.privateChatPerSecond,
    'telegram.rate.group_per_minute': limits.groupPerMinute,
    'telegram.in_flight': inFlight,
  });
  await mod.app.db.transaction(async (trx) => {
    for (let i = 0; i < messages; i++) await mod.app.outbox.enqueue(trx, { key: `b:${i}`, chatId: 10_000 + (i % chats), method: 'sendMessage', params: { text: `m${i}` } });
  });
  await mod.app.start();
  await telegram.waitForSent(messages, 600_000);
  const times = telegram.requestsOf('sendMessage').filter((r) => r.status === 200).map((r) => r.at);
  const first = Math.min(...times);
  const last = Math.max(...times);
  const seconds = (last - first) / 1000;
  const rate = (messages - 1) / seconds;
  // Compliance: the most sends the emulator saw in any one-second window.
  const sorted = [...times].sort((a, b) => a - b);
  let busiest = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  console.log(
    `  ${label}: ${messages} messages to ${chats} chats in ${seconds.toFixed(2)} s = ${rate.toFixed(1)} msg/s;` +
      ` busiest second ${busiest} (allowed ${limits.globalPerSecond}/s per bot, ${limits.privateChatPerSecond}/s per chat); 429 answers: ${telegram.stats.rateLimited}`,
  );
  await mod.close();
  await telegram.stop();
  fs.rmSync(mod.dataDir, { recursive: true, force: true });
}

export async function benchOutboxThroughput(): Promise<void> {
  console.log('outbox-throughput: real module, SQLite outbox, Bot API emulator enforcing the limits');
  await run("Telegram's limits", 300, 100, { globalPerSecond: 30, privateChatPerSecond: 1, groupPerMinute: 20 }, 4);
  await run('raised limits   ', 5000, 500, { globalPerSecond: 1000, privateChatPerSecond: 1000, groupPerMinute: 20 }, 8);
  console.log(`  ${machineLine()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchOutboxThroughput();
