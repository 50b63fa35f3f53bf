/**
 * Tests of the Telegram Bot API emulator, driven through grammY's Api and Bot
 * exactly as the module under test talks to Telegram.
 */
import assert from 'node:assert/strict';
import { Api, Bot, GrammyError, HttpError, InlineKeyboard, InputFile } from 'grammy';
import type { Message } from 'grammy/types';
import { BotApiServer, fakePng, type SimUser } from '../support/bot-api-server.js';

const TOKEN = '123456789:TESTEmulatorTokenAAAAAAAAAAAAAAAA';
const BOT = { token: TOKEN, username: 'tgpbx_test_bot', first_name: 'PBX' };

/** Matches a GrammyError with the given code and (optionally) description. */
function apiError(code: number, description?: string | RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof GrammyError, `expected GrammyError, got ${String(err)}`);
    assert.equal(err.error_code, code);
    if (typeof description === 'string') assert.equal(err.description, description);
    else if (description) assert.match(err.description, description);
    return true;
  };
}

describe('Bot API emulator', function () {
  let server: BotApiServer;
  let api: Api;
  let clock: number;
  const bots: Array<{ bot: Bot; running: Promise<void> }> = [];

  /** Starts a grammY Bot with long polling against the emulator. */
  function startBot(setup: (bot: Bot) => void): Bot {
    const bot = new Bot(TOKEN, { client: { apiRoot: server.apiRoot } });
    setup(bot);
    bot.catch((err) => {
      throw err.error;
    });
    bots.push({ bot, running: bot.start() });
    return bot;
  }

  beforeEach(async function () {
    clock = Date.UTC(2025, 0, 1, 12, 0, 0);
    server = await BotApiServer.start({ now: () => clock });
    server.addBot(BOT);
    api = new Api(TOKEN, { apiRoot: server.apiRoot });
  });

  afterEach(async function () {
    for (const { bot, running } of bots.splice(0)) {
      if (bot.isRunning()) await bot.stop();
      await running;
    }
    await server.stop();
  });

  describe('protocol', function () {
    it('answers getMe, and 401 Unauthorized for an unknown token', async function () {
      const me = await api.getMe();
      assert.equal(me.id, 123456789);
      assert.equal(me.username, 'tgpbx_test_bot');
      assert.equal(me.is_bot, true);
      assert.equal(me.can_read_all_group_messages, false);

      const stranger = new Api('1:wrong', { apiRoot: server.apiRoot });
      await assert.rejects(stranger.getMe(), apiError(401, 'Unauthorized'));
    });

    it('speaks raw HTTP: query string, urlencoded body, case-insensitive methods, 404 for unknown ones', async function () {
      const user = server.user({ id: 1001, first_name: 'Ann' });
      const viaQuery = await fetch(`${server.apiRoot}/bot${TOKEN}/SENDMESSAGE?chat_id=1001&text=hi`);
      assert.equal(viaQuery.status, 200);
      const body = (await viaQuery.json()) as { ok: boolean; result: Message };
      assert.equal(body.ok, true);
      assert.equal(body.result.text, 'hi');

      clock += 1000;
      const viaForm = await fetch(`${server.apiRoot}/bot${TOKEN}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ chat_id: '1001', text: 'second', reply_markup: '{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}' }),
      });
      assert.equal(viaForm.status, 200);
      assert.deepEqual(user.inbox().map((m) => [m.message_id, m.text]), [[1, 'hi'], [2, 'second']]);
      assert.deepEqual(user.inbox()[1]?.reply_markup, { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] });

      const unknown = await fetch(`${server.apiRoot}/bot${TOKEN}/sendTelepathy`, { method: 'POST' });
      assert.equal(unknown.status, 404);
      assert.deepEqual(await unknown.json(), { ok: false, error_code: 404, description: 'Not Found' });
    });

    it('validates parameters with Telegram wording', async function () {
      server.user({ id: 1001, first_name: 'Ann' });
      await assert.rejects(api.sendMessage(555, 'hi'), apiError(400, 'Bad Request: chat not found'));
      await assert.rejects(api.sendMessage(1001, ''), apiError(400, 'Bad Request: message text is empty'));
      await assert.rejects(
        api.sendMessage(1001, 'a <br> b', { parse_mode: 'HTML' }),
        apiError(400, `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 2`),
      );
      await assert.rejects(
        api.sendMessage(1001, 'Call 8.800', { parse_mode: 'MarkdownV2' }),
        apiError(400, `Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'`),
      );
      await assert.rejects(
        api.sendMessage(1001, 'x', { reply_markup: { inline_keyboard: [[{ text: 'x', callback_data: 'y'.repeat(65) }]] } }),
        apiError(400, 'Bad Request: BUTTON_DATA_INVALID'),
      );
      assert.equal(server.stats.sent, 0);
    });

    it('stores formatted text as Telegram does: markup parsed into entities, whitespace trimmed', async function () {
      const user = server.user({ id: 1001, first_name: 'Ann' });
      const msg = await api.sendMessage(1001, '  <b>Missed call</b> from +7 999 &amp; co\n', { parse_mode: 'HTML' });
      assert.equal(msg.text, 'Missed call from +7 999 & co');
      assert.deepEqual(msg.entities, [{ type: 'bold', offset: 0, length: 11 }]);
      assert.equal(user.inbox()[0]?.text, 'Missed call from +7 999 & co');
      assert.equal(server.sent[0]?.raw_text, '  <b>Missed call</b> from +7 999 &amp; co\n');
    });
  });

  describe('editing and deleting', function () {
    it('edits, replies and deletes with Telegram refusals', async function () {
      const ann = server.user({ id: 1001, first_name: 'Ann' });
      const question = ann.send('Is the line busy?');
      const msg = await api.sendMessage(1001, 'Checking', { reply_parameters: { message_id: question.message_id } });
      assert.equal(msg.reply_to_message?.text, 'Is the line busy?');
      clock += 1000;
      await assert.rejects(
        api.sendMessage(1001, 'x', { reply_parameters: { message_id: 999 } }),
        apiError(400, 'Bad Request: message to be replied not found'),
      );
      await assert.rejects(api.editMessageText(1001, msg.message_id, 'Checking'), apiError(400, /^Bad Request: message is not modified/));
      await assert.rejects(api.editMessageText(1001, 999, 'x'), apiError(400, 'Bad Request: message to edit not found'));
      await assert.rejects(api.editMessageText(1001, question.message_id, 'x'), apiError(400, "Bad Request: message can't be edited"));
      await api.editMessageText(1001, msg.message_id, 'Line 101 is free');
      assert.deepEqual(ann.inbox().map((m) => m.text), ['Line 101 is free']);

      assert.equal(await api.deleteMessage(1001, msg.message_id), true);
      await assert.rejects(api.deleteMessage(1001, msg.message_id), apiError(400, 'Bad Request: message to delete not found'));
      assert.deepEqual(ann.inbox(), []);
      assert.equal(server.sent.length, 1, 'the sent log keeps what was sent');
    });
  });

  describe('long polling with grammY Bot', function () {
    it('delivers a user /start to bot.start() and the reply to the user', async function () {
      const ann = server.user({ id: 1001, first_name: 'Ann', username: 'ann' });
      startBot((bot) => bot.command('start', (ctx) => ctx.reply(`Hello, ${ctx.from?.first_name}!`)));

      const sent = ann.send('/start');
      assert.deepEqual(sent.entities, [{ type: 'bot_command', offset: 0, length: 6 }]);
      const reply = await ann.waitForMessage();
      assert.equal(reply.text, 'Hello, Ann!');
      assert.equal(reply.message_id, 2, 'message ids increase per chat');
      assert.equal(reply.from?.id, 123456789);

      assert.ok(server.requestsOf('deleteWebhook').length >= 1);
      assert.ok(server.requestsOf('getMe').length >= 1);
      const poll = server.requestsOf('getUpdates')[0];
      assert.equal(poll?.params.timeout, 30);
    });

    it('delivers a button press as callback_query and records the answer', async function () {
      const ann = server.user({ id: 1001, first_name: 'Ann' });
      startBot((bot) => {
        bot.command('menu', (ctx) =>
          ctx.reply('Call back?', { reply_markup: new InlineKeyboard().text('Yes', 'cb:yes').text('No', 'cb:no') }),
        );
        bot.callbackQuery(/^cb:/, async (ctx) => {
          await ctx.answerCallbackQuery({ text: 'Noted' });
          await ctx.editMessageText(`You chose ${ctx.callbackQuery.data}`);
        });
      });

      ann.send('/menu');
      const menu = await ann.waitForMessage((m) => m.text === 'Call back?');
      assert.throws(() => ann.pressButton(menu, 'cb:maybe'), /no button with callback_data "cb:maybe"/);
      const press = ann.pressButton(menu, 'cb:yes');
      assert.deepEqual(await press.answer, { text: 'Noted' });
      const edited = await ann.waitForMessage((m) => m.text === 'You chose cb:yes');
      assert.equal(edited.message_id, menu.message_id);
      assert.equal(edited.reply_markup, undefined, 'an edit without reply_markup drops the keyboard');
      assert.equal(typeof edited.edit_date, 'number');
      await assert.rejects(api.answerCallbackQuery(press.id), apiError(400, /query is too old/));
    });
  });

  describe('getUpdates', function () {
    it('confirms updates with offset and honours allowed_updates', async function () {
      const ann = server.user({ id: 1001, first_name: 'Ann' });
      ann.send('one');
      ann.send('two');
      const batch = await api.getUpdates();
      assert.deepEqual(batch.map((u) => u.message?.text), ['one', 'two']);
      assert.equal((await api.getUpdates()).length, 2, 'unconfirmed updates come again');
      const last = batch[1]?.update_id ?? 0;
      assert.deepEqual(await api.getUpdates({ offset: last + 1 }), []);

      await api.getUpdates({ offset: last + 1, allowed_updates: ['callback_query'] });
      ann.send('ignored');
      assert.deepEqual(server.pendingUpdates(), []);
    });

    it('waits for updates, and a newer getUpdates terminates the pending one with 409', async function () {
      const first = api.getUpdates({ timeout: 30 }).then(
        () => 'answered',
        (err: unknown) => err,
      );
      await server.waitForRequest('getUpdates');
      assert.deepEqual(await api.getUpdates({ timeout: 0 }), []);
      apiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running')(
        await first,
      );

      const waiting = api.getUpdates({ timeout: 30 });
      await server.waitForRequest('getUpdates', 3);
      server.user({ id: 1001, first_name: 'Ann' }).send('wake up');
      const [update] = await waiting;
      assert.equal(update?.message?.text, 'wake up');
    });
  });

  describe('users and groups', function () {
    it('answers 403 for a user who blocked the bot and tells the bot via my_chat_member', async function () {
      const ann = server.user({ id: 1001, first_name: 'Ann' });
      await api.sendMessage(1001, 'before');
      ann.block();
      clock += 1000;
      await assert.rejects(api.sendMessage(1001, 'after'), apiError(403, 'Forbidden: bot was blocked by the user'));
      const [update] = await api.getUpdates();
      assert.equal(update?.my_chat_member?.new_chat_member.status, 'kicked');
      assert.deepEqual(ann.inbox().map((m) => m.text), ['before']);

      const shy = server.user({ id: 1002, first_name: 'Bob', started: false });
      await assert.rejects(api.sendMessage(shy.id, 'hi'), apiError(403, "Forbidden: bot can't initiate conversation with a user"));
    });

    it('adds the bot to a group, applies privacy mode and answers 403 once kicked', async function () {
      const ann = server.user({ id: 1001, first_name: 'Ann' });
      const group = server.group({ id: -100123, title: 'Reception', type: 'supergroup' });
      await assert.rejects(api.sendMessage(group.id, 'hi'), apiError(400, 'Bad Request: chat not found'));

      group.addBot(ann);
      group.send(ann, 'just chatting');
      group.send(ann, '/report@tgpbx_test_bot');
      const updates = await api.getUpdates();
      assert.deepEqual(updates[0]?.my_chat_member?.old_chat_member.status, 'left');
      assert.deepEqual(updates[0]?.my_chat_member?.new_chat_member.status, 'member');
      assert.deepEqual(updates[1]?.message?.new_chat_members?.map((u) => u.username), ['tgpbx_test_bot']);
      assert.deepEqual(updates.slice(2).map((u) => u.message?.text), ['/report@tgpbx_test_bot'], 'privacy mode hides plain chat');

      await api.sendMessage(group.id, 'Daily report');
      assert.deepEqual(group.inbox().map((m) => m.text), ['Daily report']);

      group.removeBot(ann);
      await assert.rejects(api.sendMessage(group.id, 'still here?'), apiError(403, 'Forbidden: bot was kicked from the supergroup chat'));
    });
  });

  describe('flood limits (fake clock)', function () {
    it('refuses a second message to one private chat within a second, without delivering it', async function () {
      const ann = server.user({ id: 1001, first_name: 'Ann' });
      await api.sendMessage(1001, 'one');
      clock += 999;
      await assert.rejects(api.sendMessage(1001, 'two'), (err: unknown) => {
        apiError(429, 'Too Many Requests: retry after 1')(err);
        assert.deepEqual((err as GrammyError).parameters, { retry_after: 1 });
        return true;
      });
      assert.deepEqual(ann.inbox().map((m) => m.text), ['one']);
      clock += 1;
      await api.sendMessage(1001, 'two');
      assert.deepEqual(ann.inbox().map((m) => m.text), ['one', 'two']);
      assert.equal(server.stats.rateLimited, 1);
      assert.deepEqual(server.rateLimitLog[0], {
        at: clock - 1, bot_id: 123456789, method: 'sendMessage', chat_id: 1001, retry_after: 1, scope: 'private',
      });
    });

    it('refuses the 31st message within a second across chats', async function () {
      const users: SimUser[] = [];
      for (let i = 0; i < 31; i += 1) users.push(server.user({ id: 2000 + i, first_name: `U${i}` }));
      for (const u of users.slice(0, 30)) await api.sendMessage(u.id, 'notice');
      await assert.rejects(api.sendMessage(2030, 'notice'), apiError(429, 'Too Many Requests: retry after 1'));
      assert.equal(users[30]?.inbox().length, 0);
      assert.equal(server.stats.sent, 30);
      assert.equal(server.rateLimitLog[0]?.scope, 'global');
      clock += 1000;
      await api.sendMessage(2030, 'notice');
      assert.equal(server.stats.sent, 31);
    });

    it('allows 20 messages per minute to a group', async function () {
      const ann = server.user({ id: 1001, first_name: 'Ann' });
      const group = server.group({ id: -500, title: 'Ops' });
      group.addBot(ann);
      for (let i = 0; i < 20; i += 1) {
        await api.sendMessage(group.id, `alert ${i}`);
        clock += 100;
      }
      await assert.rejects(api.sendMessage(group.id, 'alert 20'), apiError(429, 'Too Many Requests: retry after 58'));
    });
  });

  describe('files', function () {
    it('uploads a document as multipart and downloads it through getFile', async function () {
      server.user({ id: 1001, first_name: 'Ann' });
      const content = Buffer.from('call,duration\n1001,42\n');
      const msg = await api.sendDocument(1001, new InputFile(content, 'calls.csv'), { caption: '<i>Daily</i>', parse_mode: 'HTML' });
      assert.equal(msg.document?.file_name, 'calls.csv');
      assert.equal(msg.document?.mime_type, 'text/csv');
      assert.equal(msg.document?.file_size, content.length);
      assert.equal(msg.caption, 'Daily');
      assert.deepEqual(server.requestsOf('sendDocument')[0]?.params.caption, '<i>Daily</i>');

      const file = await api.getFile(msg.document?.file_id ?? '');
      assert.match(file.file_path ?? '', /^documents\/file_\d+\.csv$/);
      const download = await fetch(`${server.apiRoot}/file/bot${TOKEN}/${file.file_path}`);
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), content);

      await assert.rejects(api.getFile('nope'), apiError(400, 'Bad Request: invalid file_id'));
    });

    it('sends photos and enforces the upload and download size limits', async function () {
      server.user({ id: 1001, first_name: 'Ann' });
      const photo = await api.sendPhoto(1001, new InputFile(fakePng(400, 200), 'chart.png'));
      assert.deepEqual(photo.photo?.map((s) => [s.width, s.height]), [[90, 45], [320, 160], [400, 200]]);

      clock += 1000;
      await assert.rejects(
        api.sendPhoto(1001, new InputFile(Buffer.alloc(10 * 1024 * 1024 + 1), 'huge.jpg')),
        apiError(400, 'Bad Request: file of size 10485761 bytes is too big for a photo; the maximum size is 10485760 bytes'),
      );
      await assert.rejects(
        api.sendPhoto(1001, new InputFile(Buffer.from('not an image'), 'x.jpg')),
        apiError(400, 'Bad Request: IMAGE_PROCESS_FAILED'),
      );
      await assert.rejects(
        api.sendDocument(1001, new InputFile(Buffer.alloc(50 * 1024 * 1024 + 1), 'huge.wav')),
        apiError(413, 'Request Entity Too Large'),
      );
      const big = await api.sendDocument(1001, new InputFile(Buffer.alloc(20 * 1024 * 1024 + 1), 'big.wav'));
      await assert.rejects(api.getFile(big.document?.file_id ?? ''), apiError(400, 'Bad Request: file is too big'));
    });
  });

  describe('fault injection', function () {
    it('answers an injected error once, then works again', async function () {
      server.user({ id: 1001, first_name: 'Ann' });
      server.failNext('sendMessage', { status: 502, description: 'Bad Gateway' });
      await assert.rejects(api.sendMessage(1001, 'x'), apiError(502, 'Bad Gateway'));
      const ok = await api.sendMessage(1001, 'x');
      assert.equal(ok.text, 'x');

      server.failNext('sendMessage', { status: 429, description: 'Too Many Requests: retry after 7', retry_after: 7 });
      await assert.rejects(api.sendMessage(1001, 'y'), (err: unknown) => {
        apiError(429)(err);
        assert.equal((err as GrammyError).parameters.retry_after, 7);
        return true;
      });
      assert.equal(server.rateLimitLog.at(-1)?.scope, 'injected');
    });

    it('delays requests by the configured latency', async function () {
      server.setLatency(5);
      assert.equal((await api.getMe()).username, 'tgpbx_test_bot');
      server.setLatency(0);
    });

    it('drops the connection without an answer', async function () {
      server.user({ id: 1001, first_name: 'Ann' });
      server.dropNext('sendMessage');
      await assert.rejects(api.sendMessage(1001, 'x'), (err: unknown) => err instanceof HttpError);
      assert.equal(server.requestsOf('sendMessage')[0]?.status, undefined);
    });
  });

  describe('bot profile', function () {
    it('records commands and descriptions', async function () {
      await api.setMyCommands([{ command: 'start', description: 'Start' }, { command: 'report', description: 'Calls today' }]);
      assert.deepEqual(server.commandsOf(TOKEN).map((c) => c.command), ['start', 'report']);
      assert.deepEqual(await api.getMyCommands(), server.commandsOf('tgpbx_test_bot'));
      await assert.rejects(api.setMyCommands([{ command: 'Bad-Name', description: 'x' }]), apiError(400, 'Bad Request: BOT_COMMAND_INVALID'));
      await api.deleteMyCommands();
      assert.deepEqual(server.commandsOf(TOKEN), []);

      await api.setMyDescription('Telegram for your PBX');
      await api.setMyShortDescription('PBX bot');
      assert.deepEqual(server.profileOf(TOKEN), {
        description: 'Telegram for your PBX', short_description: 'PBX bot', webhook_url: '',
      });
    });
  });
});
