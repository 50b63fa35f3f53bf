import assert from 'node:assert/strict';
import path from 'node:path';
import type { Message } from 'grammy/types';
import { AmiServer } from '../support/ami-server.js';
import { AMI_FIXTURES } from '../support/ami-fixtures.js';
import { BotApiServer, type SimUser } from '../support/bot-api-server.js';
import { startModule, waitForLight, type TestModule, callStored, outboxDrained } from '../support/module.js';

const TOKEN = '123456789:TESTmissedCallsBotAbcdefghijklmnopqr';

describe('missed calls in Telegram, through the AMI and Bot API emulators', function () {
  let ami: AmiServer;
  let telegram: BotApiServer;
  let mod: TestModule;
  let ann: SimUser; // subscribed to extension 101
  let bob: SimUser; // subscribed to the group Sales (101, 102)
  let carl: SimUser; // subscribed to extension 103, which never rings here
  let keys: { ext101: string; ext103: string; sales: string };
  let salesId: number;

  /** The next message the bot sends `user` after the `before` he already has. */
  async function nextMessage(user: SimUser, before: number): Promise<Message> {
    await user.waitForMessage(() => user.inbox().length > before);
    return user.inbox()[before]!;
  }

  /** Sends a message as `user` and returns the bot's next reply to him. */
  async function say(user: SimUser, text: string): Promise<Message> {
    const before = user.inbox().length;
    user.send(text);
    return nextMessage(user, before);
  }

  async function replay(file: string): Promise<void> {
    await ami.replay(path.join(AMI_FIXTURES, file), { timing: 'fast' });
  }

  /** Waits until the call of this Linkedid is stored (its notices were enqueued in the same transaction). */
  async function stored(linkedid: string): Promise<void> {
    await callStored(mod.app, linkedid);
  }

  /** Waits until the outbox has nothing left to send. */
  async function drained(): Promise<void> {
    await outboxDrained(mod.app);
  }

  const notices = (u: SimUser) => u.inbox().filter((m) => m.text?.startsWith('📞'));

  beforeEach(async () => {
    ami = await AmiServer.start();
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: TOKEN, username: 'tgpbx_missed_bot' });
    ann = telegram.user({ id: 1001, first_name: 'Ann' });
    bob = telegram.user({ id: 1002, first_name: 'Bob' });
    carl = telegram.user({ id: 1003, first_name: 'Carl' });
    mod = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot }, { start: false, callSettleMs: 0 });
    const { settings, calls, missedCalls } = mod.app;
    await settings.update({ 'telegram.rate.global_per_second': 1000, 'telegram.rate.private_chat_per_second': 1000, 'general.timezone': 'Europe/Moscow' });
    await settings.update({ 'telegram.bot_token': TOKEN });
    await mod.app.start();
    await calls.directory.saveEndpoint('101', 'extension', 'Reception');
    salesId = await calls.directory.saveGroup({ name: 'Sales', members: ['101', '102'] });
    keys = {
      ext101: await missedCalls.store.keyFor({ kind: 'extension', id: '101' }),
      ext103: await missedCalls.store.keyFor({ kind: 'extension', id: '103' }),
      sales: await missedCalls.store.keyFor({ kind: 'group', id: String(salesId) }),
    };
    await waitForLight(mod.app.status, 'bot:default', 'green');
    await waitForLight(mod.app.status, 'ami', 'green');
  });
  afterEach(async () => {
    await mod.close();
    await telegram.stop();
    await ami.stop();
  });

  it('announces its commands and description to Telegram', async () => {
    await telegram.waitForRequest('setMyShortDescription');
    assert.deepEqual(telegram.commandsOf(TOKEN).map((c) => c.command), ['activate', 'mute', 'status', 'help']);
    assert.match(telegram.profileOf(TOKEN).description, /missed calls/);
  });

  it('/help says what the bot does and lists the commands; /start without a key does too', async () => {
    const help = await say(ann, '/help');
    assert.match(help.text!, /notice for every call/);
    for (const c of ['/activate', '/mute', '/status', '/help']) assert.ok(help.text!.includes(c), c);
    assert.equal((await say(ann, '/start')).text, help.text);
  });

  it('/activate with a key subscribes and says to what; a missed call then reaches exactly the subscribers in scope', async () => {
    assert.equal((await say(ann, `/activate ${keys.ext101}`)).text, 'Done: you will get a notice for every missed call of extension 101 (Reception).');
    assert.equal((await say(bob, `/activate ${keys.sales}`)).text, 'Done: you will get a notice for every missed call of group "Sales".');
    await say(carl, `/activate ${keys.ext103}`);
    await replay('missed-call.ami');
    await stored('1795331344.0');
    await drained();
    assert.equal(notices(ann).length, 1);
    assert.equal(notices(bob).length, 1);
    assert.equal(notices(carl).length, 0);
    const text = notices(ann)[0]!.text!;
    for (const line of ['📞 Missed call', 'From: +79990001122 (@alice)', 'To: 101 (Reception)', 'Rang: 10 s — no answer', 'Line: trunk, number 100']) assert.ok(text.includes(line), `${line} in\n${text}`);
    assert.match(text, /When: 22\/11\/2026, 10:09/, 'time in the PBX time zone');
    assert.match(notices(bob)[0]!.text!, /To: 101 \(Reception\), group Sales/);
  });

  it('/activate from a user whose first and last names are both of the longest Telegram allows (64 each)', async () => {
    const dan = telegram.user({ id: 1004, first_name: 'Д'.repeat(64), last_name: 'Ы'.repeat(64) });
    assert.match((await say(dan, `/activate ${keys.ext101}`)).text!, /^Done/);
    const [subscriber] = await mod.app.missedCalls.store.subscriptionsOf('1004');
    assert.equal(subscriber!.telegramName, `${'Д'.repeat(64)} ${'Ы'.repeat(63)}`, 'cut to the 128 characters of its column');
  });

  it('a call answered by a colleague sends nothing; a replayed missed call sends nothing twice', async () => {
    await say(ann, `/activate ${keys.ext101}`);
    await say(bob, `/activate ${keys.sales}`);
    await replay('queue-answered.ami');
    await stored('1795332660.3');
    await replay('missed-call.ami');
    await stored('1795331344.0');
    await replay('missed-call.ami'); // an AMI reconnect replaying the same call
    await replay('answered-call.ami'); // a later call: everything before it has been handled
    await stored('1795331357.2');
    await drained();
    assert.equal(notices(ann).length, 1);
    assert.equal(notices(bob).length, 1);
    assert.equal(await mod.app.db('outbox').where('idempotency_key', 'like', 'missed:%').count({ n: '*' }).then((r) => Number(r[0]!.n)), 2);
  });

  it('/mute switches notices off and /activate on again; /status tells the state', async () => {
    await say(ann, `/activate ${keys.ext101}`);
    assert.match((await say(ann, `/mute ${keys.ext101}`)).text!, /^Notices for extension 101 \(Reception\) are off/);
    assert.equal((await say(ann, '/status')).text, 'This chat is subscribed to:\n• extension 101 (Reception): muted by you');
    await replay('missed-call.ami');
    await stored('1795331344.0');
    await drained();
    assert.equal(notices(ann).length, 0);
    assert.equal((await say(ann, `/activate ${keys.ext101}`)).text, 'Notices for extension 101 (Reception) are on again.');
    assert.equal((await say(ann, '/status')).text, 'This chat is subscribed to:\n• extension 101 (Reception): notices on');
  });

  it('a wrong key reveals nothing, and a chat that keeps guessing is throttled, even with a good key', async () => {
    assert.equal((await say(ann, '/activate not-a-key-at-all-123456')).text, 'This key is not valid. Check it, or ask your PBX administrator for a new one.');
    assert.equal((await say(ann, `/activate ${keys.ext101.slice(0, -1)}x`)).text, 'This key is not valid. Check it, or ask your PBX administrator for a new one.');
    for (let i = 0; i < 3; i++) await say(ann, `/activate wrong-key-number-${i}-abcdef`);
    assert.equal((await say(ann, '/activate yet-another-wrong-key-0000')).text, 'Too many wrong keys. Try again in 10 minutes.');
    assert.equal((await say(ann, `/activate ${keys.ext101}`)).text, 'Too many wrong keys. Try again in 10 minutes.');
    assert.equal((await say(bob, `/activate ${keys.ext101}`)).text, 'Done: you will get a notice for every missed call of extension 101 (Reception).', 'another chat is not affected');
    assert.equal((await say(ann, '/activate')).text, 'Too many wrong keys. Try again in 10 minutes.');
  });

  it('a subscriber the admin switched off is told so, and /activate cannot switch him on again', async () => {
    await say(ann, `/activate ${keys.ext101}`);
    const [sub] = await mod.app.missedCalls.store.subscriptionsOf('1001');
    const before = ann.inbox().length;
    await mod.app.missedCalls.notifier.setSubscriberByAdmin(sub!.id, false);
    const told = await nextMessage(ann, before);
    assert.equal(told.text, 'The administrator has switched off your missed-call notices for extension 101 (Reception).');
    assert.equal((await say(ann, `/activate ${keys.ext101}`)).text, 'The administrator has switched off your notices for extension 101 (Reception). Only he can switch them on again.');
    assert.equal((await mod.app.missedCalls.store.get(sub!.id))!.status, 'disabled');
    // The admin adds him again by hand: he is switched on and told so.
    const count = ann.inbox().length;
    await mod.app.missedCalls.admin.addSubscriber({ name: 'Ann (front desk)', chatId: '1001', scope: { kind: 'extension', id: '101' } });
    assert.equal((await nextMessage(ann, count)).text, 'The administrator has switched on your missed-call notices for extension 101 (Reception).');
    assert.deepEqual(await mod.app.missedCalls.store.get(sub!.id).then((s) => [s!.status, s!.name]), ['on', 'Ann (front desk)']);
  });

  it('switching a group flag tells every subscriber of the group, and stops its notices', async () => {
    await say(ann, `/activate ${keys.ext101}`);
    await say(bob, `/activate ${keys.sales}`);
    const before = bob.inbox().length;
    assert.equal(await mod.app.missedCalls.notifier.setGroupFlag(salesId, false), true);
    assert.equal((await nextMessage(bob, before)).text, 'Missed-call notices for group "Sales" are off.');
    assert.equal(await mod.app.missedCalls.notifier.setGroupFlag(salesId, false), false, 'no change, no message');
    await replay('ringgroup-missed.ami');
    await stored('1795331376.6');
    await drained();
    assert.equal(notices(bob).length, 0);
    assert.equal(notices(ann).length, 1, 'the extension subscription still works');
    await mod.app.missedCalls.notifier.setGroupFlag(salesId, true);
    assert.equal((await bob.waitForMessage((m) => m.text === 'Missed-call notices for group "Sales" are on.')).text, 'Missed-call notices for group "Sales" are on.');
  });

  describe('Call back', () => {
    /** The notice of the missed call, once it reached `user`. */
    async function noticeOf(user: SimUser): Promise<Message> {
      await replay('missed-call.ami');
      await stored('1795331344.0');
      return user.waitForMessage((m) => m.text?.startsWith('📞') ?? false);
    }
    const originates = () => ami.actions.filter((a) => a.name.toLowerCase() === 'originate');

    it("rings the subscriber's own extension, then the caller; a second press within 10 s rings nothing", async () => {
      await say(ann, `/activate ${keys.ext101}`);
      const notice = await noticeOf(ann);
      const button = notice.reply_markup!.inline_keyboard[0]![0]! as { text: string; callback_data: string };
      assert.equal(button.text, '📲 Call back');
      const first = ann.pressButton(notice, button.callback_data);
      assert.equal((await first.answer).text, 'Your phone 101 rings now; pick it up and the PBX calls +79990001122.');
      const originate = await ami.waitForAction('Originate');
      const get = (k: string) => originate.pairs.filter(([key]) => key.toLowerCase() === k).map(([, v]) => v);
      assert.deepEqual(get('channel'), ['Local/101@tgpbx-callback-agent']);
      assert.deepEqual(get('context'), ['tgpbx-callback']);
      assert.deepEqual(get('exten'), ['+79990001122']);
      assert.deepEqual(get('async'), ['true']);
      assert.deepEqual(get('variable').sort(), ['TGPBX_CALLBACK=+79990001122', 'TGPBX_REQUEST=mc:1795331344.0:1001']);
      const second = ann.pressButton(notice, button.callback_data);
      assert.equal((await second.answer).text, 'Already calling: wait a few seconds.');
      assert.equal(originates().length, 1);
    });

    it('asks a group subscriber once which phone is his, then rings it', async () => {
      await say(bob, `/activate ${keys.sales}`);
      const notice = await noticeOf(bob);
      const before = bob.inbox().length;
      await bob.pressButton(notice, (notice.reply_markup!.inline_keyboard[0]![0]! as { callback_data: string }).callback_data).answer;
      const question = await nextMessage(bob, before);
      assert.equal(question.text, 'Which phone is yours? The PBX rings it first, then the caller.');
      const choices = question.reply_markup!.inline_keyboard[0]!.map((b) => b.text);
      assert.deepEqual(choices, ['101', '102']);
      const answer = await bob.pressButton(question, (question.reply_markup!.inline_keyboard[0]![1]! as { callback_data: string }).callback_data).answer;
      assert.equal(answer.text, 'Your phone 102 rings now; pick it up and the PBX calls +79990001122.');
      const originate = await ami.waitForAction('Originate');
      assert.equal(originate.fields.channel, 'Local/102@tgpbx-callback-agent');
      assert.equal(await mod.app.missedCalls.store.extensionOfChat('1002'), '102');
    });

    it('when someone returns the call, every notice of it says who called back and when, and loses its button', async () => {
      await say(ann, `/activate ${keys.ext101}`);
      await say(bob, `/activate ${keys.sales}`);
      await noticeOf(ann);
      await bob.waitForMessage((m) => m.text?.startsWith('📞') ?? false);
      await replay('callback-originate.ami'); // 101 calls +79990001122 back through an Originate; answered
      await stored('1795332816.30');
      await drained();
      for (const user of [ann, bob]) {
        const [notice] = notices(user);
        assert.match(notice!.text!, /\n↩️ Called back by 101 at \d{2}:\d{2}$/, user.user.first_name);
        assert.equal(notice!.reply_markup, undefined);
      }
      assert.equal(telegram.requestsOf('editMessageText').length, 2);
    });

    it('is refused to a chat that is no longer a subscriber', async () => {
      await say(ann, `/activate ${keys.ext101}`);
      const notice = await noticeOf(ann);
      await say(ann, `/mute ${keys.ext101}`);
      const answer = await ann.pressButton(notice, (notice.reply_markup!.inline_keyboard[0]![0]! as { callback_data: string }).callback_data).answer;
      assert.deepEqual(answer, { text: 'Only subscribers of this notice can call back.', show_alert: true });
      assert.equal(originates().length, 0);
    });
  });

  it('speaks Russian when the setting says so', async () => {
    await mod.app.settings.update({ 'general.language': 'ru' });
    assert.equal((await say(ann, `/activate ${keys.ext101}`)).text, 'Готово: вы будете получать уведомления о каждом пропущенном звонке: номер 101 (Reception).');
    await replay('missed-call.ami');
    await stored('1795331344.0');
    await drained();
    assert.match(notices(ann)[0]!.text!, /Пропущенный звонок[\s\S]*Звонил: 10 s — нет ответа/);
  });
});
