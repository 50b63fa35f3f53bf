import assert from 'node:assert/strict';
import { BotApiServer } from '../support/bot-api-server.js';
import { startModule, waitForLight, type TestModule, until } from '../support/module.js';
import type { OutgoingMessage } from '../../src/telegram/outbox.js';

const TOKEN = '123456789:TESToutboxTokenAbcdefghijklmnopqrstuv';

describe('Telegram outbox and bots against the Bot API emulator', () => {
  let telegram: BotApiServer;
  let mod: TestModule;

  /** Starts the module with the default bot configured, fast limits unless `realLimits`. */
  async function startWithBot(opts: { realLimits?: boolean; token?: string } = {}): Promise<TestModule> {
    const m = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { start: false, outboxRetry: { initialMs: 10, maxMs: 40 } });
    if (!opts.realLimits) {
      await m.app.settings.update({ 'telegram.rate.global_per_second': 1000, 'telegram.rate.private_chat_per_second': 1000 });
    }
    await m.app.settings.update({ 'telegram.bot_token': opts.token ?? TOKEN });
    await m.app.start();
    return m;
  }

  function message(key: string, chatId: number, text: string): OutgoingMessage {
    return { key, chatId, method: 'sendMessage', params: { text } };
  }

  async function enqueue(...messages: OutgoingMessage[]): Promise<void> {
    await mod.app.db.transaction(async (trx) => {
      for (const m of messages) await mod.app.outbox.enqueue(trx, m);
    });
  }

  afterEach(async () => {
    await mod?.close();
    await telegram.stop();
  });

  describe('with fast limits', () => {
    beforeEach(async () => {
      telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
      telegram.addBot({ token: TOKEN, username: 'tgpbx_test_bot' });
      mod = await startWithBot();
    });

    it('checks the token with getMe and shows the bot green with its username', async () => {
      await waitForLight(mod.app.status, 'bot:default', 'green');
      assert.equal(mod.app.status.get('bot:default')!.detail, '@tgpbx_test_bot connected');
    });

    it('delivers a queued message once and records its Telegram message id', async () => {
      const ann = telegram.user({ id: 1001, first_name: 'Ann' });
      await enqueue(message('t:1', 1001, 'Missed call from +79990001122'));
      const got = await ann.waitForMessage();
      assert.equal(got.text, 'Missed call from +79990001122');
      const row = await waitForRow(mod, 't:1', 'sent');
      assert.equal(Number(row.telegram_message_id), got.message_id);
      assert.equal(telegram.sent.length, 1);
    });

    it('stores one message when the same key is enqueued twice', async () => {
      telegram.user({ id: 1001, first_name: 'Ann' });
      await enqueue(message('same', 1001, 'first'));
      const again = await mod.app.outbox.enqueue(mod.app.db, message('same', 1001, 'second'));
      assert.equal(again, false);
      await waitForRow(mod, 'same', 'sent');
      assert.deepEqual((await mod.app.db('outbox').select('idempotency_key')).length, 1);
      assert.deepEqual(telegram.sent.map((s) => s.text), ['first']);
    });

    it('never sends a message whose transaction rolled back', async () => {
      const ann = telegram.user({ id: 1001, first_name: 'Ann' });
      await assert.rejects(
        mod.app.db.transaction(async (trx) => {
          await mod.app.outbox.enqueue(trx, message('rolled-back', 1001, 'must not arrive'));
          throw new Error('the fact was not recorded');
        }),
      );
      await enqueue(message('kept', 1001, 'arrives'));
      await ann.waitForMessage();
      assert.deepEqual(telegram.sent.map((s) => s.text), ['arrives']);
      assert.equal(await mod.app.outbox.find('rolled-back'), undefined);
    });

    it("keeps each chat's order even when a send has to be retried after a 5xx", async () => {
      const ann = telegram.user({ id: 1001, first_name: 'Ann' });
      telegram.failNext('sendMessage', { status: 502, description: 'Bad Gateway' });
      await enqueue(...[1, 2, 3, 4, 5].map((i) => message(`o:${i}`, 1001, `message ${i}`)));
      await telegram.waitForSent(5);
      assert.deepEqual(ann.inbox().map((m) => m.text), ['message 1', 'message 2', 'message 3', 'message 4', 'message 5']);
      const first = await mod.app.outbox.find('o:1');
      assert.equal(first!.attempts, 1);
      assert.equal(first!.status, 'sent');
    });

    it('retries after a dropped connection', async () => {
      const ann = telegram.user({ id: 1001, first_name: 'Ann' });
      telegram.dropNext('sendMessage');
      await enqueue(message('net', 1001, 'after a network error'));
      assert.equal((await ann.waitForMessage()).text, 'after a network error');
    });

    it('marks a user who blocked the bot, fails only his message, and goes on with the others', async () => {
      const ann = telegram.user({ id: 1001, first_name: 'Ann' });
      const bob = telegram.user({ id: 1002, first_name: 'Bob' });
      ann.block();
      await enqueue(message('to-ann', 1001, 'for Ann'), message('to-bob', 1002, 'for Bob'));
      await bob.waitForMessage();
      const row = await waitForRow(mod, 'to-ann', 'failed');
      assert.match(row.last_error!, /bot was blocked by the user/);
      const recipient = await mod.app.db('telegram_recipients').where({ chat_id: '1001' }).first();
      assert.equal(recipient.state, 'blocked');
      ann.unblock();
      await enqueue(message('to-ann-2', 1001, 'Ann again'));
      await ann.waitForMessage();
      await waitForRow(mod, 'to-ann-2', 'sent');
      assert.equal(await mod.app.db('telegram_recipients').where({ chat_id: '1001' }).first(), undefined, 'a delivered message clears the mark');
    });

    it('fails a message Telegram rejects as malformed, with the reason', async () => {
      telegram.user({ id: 1001, first_name: 'Ann' });
      await enqueue({ key: 'bad', chatId: 1001, method: 'sendMessage', params: { text: '' } });
      const row = await waitForRow(mod, 'bad', 'failed');
      assert.match(row.last_error!, /message text is empty/);
    });

    it('delivers what was queued while the module was stopped, after the next start', async () => {
      const ann = telegram.user({ id: 1001, first_name: 'Ann' });
      const dataDir = mod.dataDir;
      await mod.app.stop();
      const offline = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir, start: false });
      await offline.app.outbox.enqueue(offline.app.db, message('offline', 1001, 'queued while stopped'));
      await offline.app.stop();
      const again = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir });
      try {
        assert.equal((await ann.waitForMessage()).text, 'queued while stopped');
      } finally {
        await again.app.stop();
      }
    });
  });

  it('shows a refused token red with the reason and keeps its messages queued; the module keeps running', async () => {
    telegram = await BotApiServer.start();
    mod = await startWithBot({ token: '987654321:TESTnotRegisteredAbcdefghijklmnopqrst' });
    await waitForLight(mod.app.status, 'bot:default', 'red');
    assert.match(mod.app.status.get('bot:default')!.detail, /Telegram refused the token \(Unauthorized\)/);
    await mod.app.outbox.enqueue(mod.app.db, message('waits', 1001, 'waits for a good token'));
    assert.equal((await mod.app.outbox.find('waits'))!.status, 'pending');
    const health = await fetch(mod.app.url + '/health');
    assert.equal(health.status, 200);
    assert.doesNotMatch(mod.logs.text, /TESTnotRegistered/);
  });

  it('switches to a corrected token from Settings without a restart', async () => {
    telegram = await BotApiServer.start();
    telegram.addBot({ token: TOKEN, username: 'tgpbx_test_bot' });
    const ann = telegram.user({ id: 1001, first_name: 'Ann' });
    mod = await startWithBot({ token: '987654321:TESTnotRegisteredAbcdefghijklmnopqrst' });
    await waitForLight(mod.app.status, 'bot:default', 'red');
    await mod.app.outbox.enqueue(mod.app.db, message('held', 1001, 'held until the token is fixed'));
    await mod.app.settings.update({ 'telegram.bot_token': TOKEN });
    await waitForLight(mod.app.status, 'bot:default', 'green');
    assert.equal((await ann.waitForMessage()).text, 'held until the token is fixed');
  });

  it("stays within Telegram's real limits in a steady burst: no 429 at all", async function () {
    telegram = await BotApiServer.start(); // 30/s per bot, 1/s per private chat
    telegram.addBot({ token: TOKEN, username: 'tgpbx_test_bot' });
    const chats = Array.from({ length: 30 }, (_, i) => telegram.user({ id: 2000 + i, first_name: `U${i}` }));
    mod = await startWithBot({ realLimits: true });
    const burst: OutgoingMessage[] = [];
    for (let round = 0; round < 3; round++) for (const c of chats) burst.push(message(`b:${round}:${c.id}`, c.id, `round ${round}`));
    await enqueue(...burst);
    await telegram.waitForSent(90, 20_000);
    assert.equal(telegram.stats.rateLimited, 0, JSON.stringify(telegram.rateLimitLog.slice(0, 3)));
    for (const c of chats) assert.deepEqual(c.inbox().map((m) => m.text), ['round 0', 'round 1', 'round 2']);
  });

  it('waits as long as a 429 retry_after says before trying that chat again', async () => {
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: TOKEN, username: 'tgpbx_test_bot' });
    const ann = telegram.user({ id: 1001, first_name: 'Ann' });
    mod = await startWithBot();
    telegram.failNext('sendMessage', { status: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
    await enqueue(message('slow', 1001, 'after the pause'));
    await ann.waitForMessage();
    const attempts = telegram.requestsOf('sendMessage');
    assert.equal(attempts.length, 2);
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 1000, `retried after ${attempts[1]!.at - attempts[0]!.at} ms`);
  });
});

function waitForRow(mod: TestModule, key: string, status: string) {
  return until(`outbox row ${key} ${status}`, async () => {
    const row = await mod.app.outbox.find(key);
    return row?.status === status ? row : undefined;
  });
}
