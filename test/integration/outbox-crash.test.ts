import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BotApiServer } from '../support/bot-api-server.js';
import { testDatabaseEnv } from '../support/database.js';
import { startModule, tempDataDir, outboxDrained } from '../support/module.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = '123456789:TESTcrashTokenAbcdefghijklmnopqrstuvw';
const MESSAGES = 2000;
const CHATS = 200;
const IN_FLIGHT = 4;

describe('outbox survives kill -9 mid-burst', function () {
  this.timeout(120_000);
  let telegram: BotApiServer;
  let dataDir: string;

  before(async () => {
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 5000, privateChatPerSecond: 5000 } });
    telegram.addBot({ token: TOKEN, username: 'tgpbx_crash_bot' });
    for (let c = 0; c < CHATS; c++) telegram.user({ id: 5000 + c, first_name: `User${c}` });
    dataDir = tempDataDir('tgpbx-crash-');
  });
  after(async () => {
    await telegram.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers all 2,000 messages after a SIGKILL: none lost, in order per chat, duplicates at most the requests in flight', async () => {
    // 1. Queue the burst while no sender runs.
    const setup = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir, start: false });
    await setup.app.settings.update({
      'telegram.bot_token': TOKEN,
      'telegram.rate.global_per_second': 1000,
      'telegram.rate.private_chat_per_second': 1000,
      'telegram.in_flight': IN_FLIGHT,
    });
    await setup.app.db.transaction(async (trx) => {
      for (let i = 0; i < MESSAGES; i++) {
        await setup.app.outbox.enqueue(trx, { key: `burst:${i}`, chatId: 5000 + (i % CHATS), method: 'sendMessage', params: { text: `m${i}` } });
      }
    });
    await setup.app.stop();

    // 2. Run the real module in a child process and kill it hard mid-burst.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, ...(await testDatabaseEnv(dataDir)), TGPBX_DATA_DIR: dataDir, TGPBX_HTTP_PORT: '0', TGPBX_FASTAGI_PORT: '0', TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await telegram.waitForSent(MESSAGES / 4, 60_000);
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const sentAtKill = telegram.sent.length;
    assert.ok(sentAtKill < MESSAGES, `the kill came mid-burst (${sentAtKill} sent)`);

    // 3. Start again on the same data and let it finish.
    const again = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir });
    try {
      // Rows sent just before the kill but not yet recorded are still pending: they go out again.
      await outboxDrained(again.app);
      assert.deepEqual(await again.app.outbox.counts(), { pending: 0, sent: MESSAGES, failed: 0 });
    } finally {
      await again.close();
    }

    const texts = telegram.sent.map((s) => s.text!);
    const lost = MESSAGES - new Set(texts).size;
    const duplicates = texts.length - new Set(texts).size;
    console.log(`      kill -9 after ${sentAtKill} of ${MESSAGES} sends: ${lost} lost, ${duplicates} duplicate(s) (at most ${IN_FLIGHT} were in flight)`);
    assert.equal(lost, 0);
    assert.ok(duplicates <= IN_FLIGHT, `${duplicates} duplicates`);
    for (let c = 0; c < CHATS; c++) {
      const chat = telegram.sent.filter((s) => s.chat_id === 5000 + c).map((s) => Number(s.text!.slice(1)));
      const firstSeen = chat.filter((n, i) => chat.indexOf(n) === i);
      assert.deepEqual(firstSeen, [...firstSeen].sort((a, b) => a - b), `order of chat ${5000 + c}`);
    }
  });
});
