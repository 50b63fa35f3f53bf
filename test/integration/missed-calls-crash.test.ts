import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTestDatabase, testDatabaseEnv } from '../support/database.js';
import { AmiServer } from '../support/ami-server.js';
import { AMI_FIXTURES } from '../support/ami-fixtures.js';
import { BotApiServer } from '../support/bot-api-server.js';
import { startModule, tempDataDir, until, callStored, outboxDrained } from '../support/module.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = '123456789:TESTcrashNoticeAbcdefghijklmnopqrstu';

describe('a missed-call notice survives kill -9 between the call and the send', function () {
  this.timeout(60_000);

  it('is delivered exactly once after the restart', async () => {
    const ami = await AmiServer.start();
    const telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    const ann = telegram.user({ id: 1001, first_name: 'Ann' });
    const dataDir = tempDataDir('tgpbx-notice-crash-');
    try {
      // 1. A subscriber of extension 101; the bot token is not known to Telegram yet, so nothing can be sent.
      const setup = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir, start: false });
      await setup.app.settings.update({ 'telegram.bot_token': TOKEN, 'telegram.rate.private_chat_per_second': 1000 });
      await setup.app.missedCalls.store.addByAdmin('Ann', '1001', { kind: 'extension', id: '101' });
      await setup.app.stop();

      // 2. The real module in a child process sees the missed call, stores it with its notice, and is killed.
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        env: { ...process.env, ...(await testDatabaseEnv(dataDir)), TGPBX_DATA_DIR: dataDir, TGPBX_HTTP_PORT: '0', TGPBX_FASTAGI_PORT: '0', TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
      await ami.waitForAction('Events');
      await ami.replay(path.join(AMI_FIXTURES, 'missed-call.ami'), { timing: 'fast' });
      const db = await openTestDatabase(dataDir);
      try {
        await until('the notice stored by the child', async () => Boolean(await db('outbox').where({ idempotency_key: 'missed:1795331344.0:1001' }).first()));
      } finally {
        await db.destroy();
      }
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      assert.equal(ann.inbox().length, 0, 'nothing was sent before the kill');

      // 3. Telegram accepts the token now; the restarted module delivers the notice once, and a replay adds nothing.
      telegram.addBot({ token: TOKEN, username: 'tgpbx_crash_bot' });
      const again = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir, callSettleMs: 0 });
      try {
        const notice = await ann.waitForMessage((m) => m.text?.startsWith('📞') ?? false);
        assert.match(notice.text!, /From: \+79990001122/);
        await ami.waitForLogins(2);
        await ami.replay(path.join(AMI_FIXTURES, 'missed-call.ami'), { timing: 'fast' });
        await ami.replay(path.join(AMI_FIXTURES, 'answered-call.ami'), { timing: 'fast' });
        await callStored(again.app, '1795331357.2');
        await outboxDrained(again.app);
        assert.equal(ann.inbox().filter((m) => m.text?.startsWith('📞')).length, 1);
      } finally {
        await again.app.stop();
      }
    } finally {
      await telegram.stop();
      await ami.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
