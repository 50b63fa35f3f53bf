import assert from 'node:assert/strict';
import { Api } from 'grammy';
import type { Message } from 'grammy/types';
import { BotApiServer, type SimGroup, type SimUser } from '../support/bot-api-server.js';
import { ManualClock } from '../support/manual-clock.js';
import fs from 'node:fs';
import { startModule, until, waitForLight, type TestModule } from '../support/module.js';
import { outboundCall, storeCalls } from '../support/rated-calls.js';

const TOKEN = '123456789:TESTreportsProfitBotAbcdefghijklmno';
const T0 = Date.UTC(2026, 10, 22, 7, 0); // Sunday 10:00 in Moscow

/** Twelve destinations: 12 rows, so the table has two pages of 10. */
const CODES = ['441', '442', '443', '444', '445', '446', '447', '448', '449', '331', '332', '333'];

describe('/profit in Telegram, through the Bot API emulator', function () {
  let telegram: BotApiServer;
  let mod: TestModule;
  let noc: SimGroup; // registered, may see carrier-a
  let strangers: SimGroup; // the bot is in it, but nobody approved it
  let olga: SimUser;
  let eve: SimUser;

  beforeEach(async () => {
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000, groupPerMinute: 1000 } });
    telegram.addBot({ token: TOKEN, username: 'tgpbx_reports_bot' });
    olga = telegram.user({ id: 2001, first_name: 'Olga' });
    eve = telegram.user({ id: 2666, first_name: 'Eve', username: 'eve' });
    noc = telegram.group({ id: -1002000, title: 'NOC' });
    strangers = telegram.group({ id: -1009999, title: 'Strangers' });
    noc.addBot(olga);
    mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { clock: new ManualClock(T0 + 3_600_000), start: false });
    await mod.app.settings.update({ 'telegram.rate.global_per_second': 1000, 'telegram.rate.group_per_minute': 1000, 'general.timezone': 'Europe/Moscow', 'telegram.bot_token': TOKEN });
    await mod.app.start();
    await waitForLight(mod.app.status, 'bot:default', 'green');
    const { reports } = mod.app;
    await reports.chats.register({ chatId: String(noc.id), botId: 'default', title: 'NOC', peers: ['carrier-a', 'carrier-b'] });
    await reports.decks.replace('carrier-a', 'cost', CODES.map((code, i) => ({ prefix: code, name: `Dest ${code}`, rateMicro: 10_000 + i * 1000, firstIncrement: 60, nextIncrement: 60, connectionFeeMicro: 0, effectiveFrom: 0 })));
    await reports.decks.replace('carrier-a', 'sell', CODES.map((code) => ({ prefix: code, name: `Dest ${code}`, rateMicro: 20_000, firstIncrement: 60, nextIncrement: 60, connectionFeeMicro: 0, effectiveFrom: 0 })));
    await storeCalls(mod.app, CODES.map((code, i) => outboundCall({ trunk: 'carrier-a', dialed: `${code}5550000${i}`, startedAt: T0 + i * 60_000, talkSeconds: 60 * (i + 1) })));
  });
  afterEach(async () => {
    await mod.close();
    await telegram.stop();
  });

  /** The bot's newest message in a chat that satisfies `accept` (now or when it comes). */
  const shows = (chat: SimGroup, accept: (text: string) => boolean): Promise<Message> => chat.waitForMessage((m) => Boolean(m.text && accept(m.text)));
  const data = (m: Message, text: string): string => {
    const button = m.reply_markup?.inline_keyboard.flat().find((b) => b.text === text) as { callback_data?: string } | undefined;
    if (!button?.callback_data) throw new Error(`no button "${text}" under:\n${m.text}`);
    return button.callback_data;
  };
  const current = (chat: SimGroup, id: number) => chat.inbox().find((m) => m.message_id === id)!;

  it('in a registered chat: peer, then interval, then the table by code sorted by profit, paged and as CSV, all in one edited message', async () => {
    noc.send(olga, '/profit');
    const menu = await shows(noc, (t) => t.startsWith('📊 Profit report\nChoose a peer'));
    assert.deepEqual(menu.reply_markup!.inline_keyboard.flat().map((b) => b.text), ['carrier-a', 'carrier-b', 'Cancel']);

    await noc.pressButton(olga, menu, data(menu, 'carrier-a')).answer;
    await until('the interval menu', () => current(noc, menu.message_id).text!.includes('Choose the interval'));
    const intervals = current(noc, menu.message_id);
    assert.deepEqual(intervals.reply_markup!.inline_keyboard.flat().map((b) => b.text), ['Last hour', 'Today', 'Yesterday', 'This week', 'This month', 'Custom range…', 'Cancel']);

    await noc.pressButton(olga, intervals, data(intervals, 'Today')).answer;
    await until('the table', () => current(noc, menu.message_id).text!.startsWith('📊 Profit: carrier-a, Today'));
    const table = current(noc, menu.message_id);
    const text = table.text!;
    assert.match(text, /22 Nov 2026, 00:00 – 22 Nov 2026, 11:00 \(Europe\/Moscow\)/);
    // Profit per code grows with the minutes and shrinks with the cost: 448 (8 min at 0.020-0.017) and the like lead.
    const codes = [...text.matchAll(/^\d+\. (\d+) Dest/gm)].map((m) => m[1]);
    assert.equal(codes.length, 10, 'ten rows on the first page');
    const report = await mod.app.reports.profit({ peer: 'carrier-a', from: Date.UTC(2026, 10, 21, 21), to: T0 + 3_600_000 });
    assert.deepEqual(codes, report.rows.slice(0, 10).map((r) => r.code));
    assert.ok(report.rows[0]!.profitMicro >= report.rows[1]!.profitMicro);
    assert.match(text, /Total: 12 codes\n {3}12 calls · 78\.0 min · revenue 1\.56 · cost /);
    assert.match(text, /Page 1 of 2/);
    assert.equal(noc.inbox().length, 1, 'one message, edited at each step');

    await noc.pressButton(olga, table, data(table, '▶')).answer;
    await until('page 2', () => current(noc, menu.message_id).text!.includes('Page 2 of 2'));
    assert.deepEqual([...current(noc, menu.message_id).text!.matchAll(/^(\d+)\. /gm)].map((m) => m[1]), ['11', '12']);

    await noc.pressButton(olga, current(noc, menu.message_id), data(current(noc, menu.message_id), '⬇ Send as CSV')).answer;
    const doc = await noc.waitForMessage((m) => Boolean(m.document));
    assert.match(doc.document!.file_name!, /^profit-carrier-a-\d+\.csv$/);
    const api = new Api(TOKEN, { apiRoot: telegram.apiRoot });
    const file = await api.getFile(doc.document!.file_id);
    const csv = await (await fetch(`${telegram.apiRoot}/file/bot${TOKEN}/${file.file_path}`)).text();
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'code,destination,calls,minutes,revenue,cost,profit,margin_percent');
    assert.equal(lines.length, 14, 'header, 12 codes, total');
    assert.match(lines[13]!, /^total,,12,78\.0,1\.5600,/);
  });

  it('a custom range is read from a reply to the menu; a wrong one is explained in the same message', async () => {
    noc.send(olga, '/profit');
    const menu = await shows(noc, (t) => t.startsWith('📊 Profit report\nChoose a peer'));
    await noc.pressButton(olga, menu, data(menu, 'carrier-a')).answer;
    await until('the interval menu', () => current(noc, menu.message_id).text!.includes('Choose the interval'));
    await noc.pressButton(olga, current(noc, menu.message_id), data(current(noc, menu.message_id), 'Custom range…')).answer;
    await until('the range question', () => current(noc, menu.message_id).text!.includes('Reply to this message with the range'));
    noc.send(olga, 'last tuesday', { replyTo: current(noc, menu.message_id) });
    await until('the range explained', () => current(noc, menu.message_id).text!.includes('"last tuesday" is not a range'));
    noc.send(olga, '2026-11-22 10:00 2026-11-22 11:00', { replyTo: current(noc, menu.message_id) });
    await until('the table', () => current(noc, menu.message_id).text!.startsWith('📊 Profit: carrier-a, 22 Nov 2026, 10:00 – 22 Nov 2026, 11:00'));
    assert.match(current(noc, menu.message_id).text!, /Total: 12 codes/);
  });

  it('in a chat nobody registered: silent by default, "not available" when the setting says so; both attempts logged; the bot\'s arrival waits for approval', async () => {
    strangers.addBot(eve);
    await until('the chat waiting for approval', async () => (await mod.app.reports.chats.list()).find((c) => c.chatId === String(strangers.id))?.status === 'pending');
    strangers.send(eve, '/profit');
    await until('the refusal logged', async () => (await mod.app.reports.chats.refusals()).length === 1);
    // A pending chat is not an allowed one, and nothing was said.
    await mod.app.settings.update({ 'reports.unregistered_chats': 'not_allowed' });
    strangers.send(eve, '/profit');
    const said = await strangers.waitForMessage();
    assert.equal(said.text, 'Reports are not available in this chat. Ask your PBX administrator to register it.');
    assert.equal(strangers.inbox().length, 1, 'the first attempt got no answer');
    const refusals = await mod.app.reports.chats.refusals();
    assert.equal(refusals.length, 2);
    assert.deepEqual([refusals[0]!.chatId, refusals[0]!.what, refusals[0]!.user], [String(strangers.id), '/profit', 'Eve @eve (2666)']);
    assert.match(mod.logs.text, /report request from a chat that is not registered: refused/);

    // Buttons of a registered chat's report pressed by someone else's copy are refused too.
    const copy = await mod.app.bots.get('default')!.api()!.sendMessage(strangers.id, 'copy', { reply_markup: { inline_keyboard: [[{ text: 'CSV', callback_data: 'rp:csv:1' }]] } });
    assert.equal((await strangers.pressButton(eve, copy as Message, 'rp:csv:1').answer).text, 'Reports are not available in this chat. Ask your PBX administrator to register it.');
  });

  it('the chat sees only its peers: a peer taken away later makes its table buttons refuse', async () => {
    noc.send(olga, '/profit');
    const menu = await shows(noc, (t) => t.startsWith('📊 Profit report\nChoose a peer'));
    await noc.pressButton(olga, menu, data(menu, 'carrier-a')).answer;
    await until('the interval menu', () => current(noc, menu.message_id).text!.includes('Choose the interval'));
    await noc.pressButton(olga, current(noc, menu.message_id), data(current(noc, menu.message_id), 'Today')).answer;
    await until('the table', () => current(noc, menu.message_id).text!.startsWith('📊 Profit: carrier-a'));
    const chat = (await mod.app.reports.chats.list()).find((c) => c.chatId === String(noc.id))!;
    await mod.app.reports.chats.setPeers(chat.id, ['carrier-b']);
    const answer = await noc.pressButton(olga, current(noc, menu.message_id), data(current(noc, menu.message_id), '▶')).answer;
    assert.equal(answer.text, 'This chat may no longer see this peer.');
  });
  it('in Russian (general.language ru): menus, buttons, the table with Russian plurals and dates, a wrong range and "not available"', async () => {
    await mod.app.settings.update({ 'general.language': 'ru', 'reports.unregistered_chats': 'not_allowed' });
    noc.send(olga, '/profit');
    const menu = await shows(noc, (t) => t.startsWith('📊 Отчёт о прибыли\nВыберите транк:'));
    assert.deepEqual(menu.reply_markup!.inline_keyboard.flat().map((b) => b.text), ['carrier-a', 'carrier-b', 'Отмена']);
    await noc.pressButton(olga, menu, data(menu, 'carrier-a')).answer;
    await until('the interval menu', () => current(noc, menu.message_id).text!.includes('Выберите период'));
    const intervals = current(noc, menu.message_id);
    assert.equal(intervals.text, '📊 Отчёт о прибыли: carrier-a\nВыберите период:');
    assert.deepEqual(intervals.reply_markup!.inline_keyboard.flat().map((b) => b.text), ['Последний час', 'Сегодня', 'Вчера', 'Эта неделя', 'Этот месяц', 'Свои даты…', 'Отмена']);

    await noc.pressButton(olga, intervals, data(intervals, 'Свои даты…')).answer;
    await until('the range question', () => current(noc, menu.message_id).text!.includes('Ответьте на это сообщение двумя датами'));
    noc.send(olga, 'вчера', { replyTo: current(noc, menu.message_id) });
    await until('the range explained', () => current(noc, menu.message_id).text!.includes('«вчера» — не диапазон дат'));
    noc.send(olga, '2026-11-22 2026-11-22', { replyTo: current(noc, menu.message_id) });
    await until('the table', () => current(noc, menu.message_id).text!.startsWith('📊 Прибыль: carrier-a, 22 нояб. 2026 г., 00:00 – 23 нояб. 2026 г., 00:00'));
    const table = current(noc, menu.message_id);
    const text = table.text!;
    assert.match(text, /^1\. \d+ Dest \d+\n {3}\d+ звон(ок|ка|ков) · \d+\.0 мин · выручка \d+\.\d\d · затраты \d+\.\d\d · прибыль -?\d+\.\d\d · маржа -?[\d.]+%$/m);
    assert.match(text, /\n {3}1 звонок · 1\.0 мин · /, 'one call: звонок');
    assert.match(text, /Итого: 12 кодов\n {3}12 звонков · 78\.0 мин · выручка 1\.56 · затраты /);
    assert.match(text, /Страница 1 из 2$/);
    assert.deepEqual(table.reply_markup!.inline_keyboard.flat().map((b) => b.text), ['1/2', '▶', '⬇ Прислать CSV']);
    await noc.pressButton(olga, table, data(table, '▶')).answer;
    await until('page 2', () => current(noc, menu.message_id).text!.includes('Страница 2 из 2'));

    strangers.addBot(eve);
    strangers.send(eve, '/profit');
    assert.equal((await strangers.waitForMessage()).text, 'Отчёты в этом чате недоступны. Попросите администратора АТС зарегистрировать чат.');
  });
  it('a conversation half-way through (peer chosen) survives a restart: after it, the interval button finishes the same message', async () => {
    noc.send(olga, '/profit');
    const menu = await shows(noc, (t) => t.startsWith('📊 Profit report\nChoose a peer'));
    await noc.pressButton(olga, menu, data(menu, 'carrier-a')).answer;
    await until('the interval menu', () => current(noc, menu.message_id).text!.includes('Profit report: carrier-a\nChoose the interval'));
    await until('the conversation state stored', async () => (await mod.app.db('rp_conversations').where({ key: `default:${noc.id}` }).first()) !== undefined);

    // tgpbx restarts on the same data directory (an update, a crash), an hour later.
    const dataDir = mod.dataDir;
    await mod.app.stop();
    const again = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { clock: new ManualClock(T0 + 2 * 3_600_000), dataDir });
    mod = { ...again, close: async () => (await again.close(), fs.rmSync(dataDir, { recursive: true, force: true })) };
    await waitForLight(mod.app.status, 'bot:default', 'green');

    await storeCalls(mod.app, [outboundCall({ trunk: 'carrier-a', dialed: '4415550000', startedAt: T0 + 3_600_000, talkSeconds: 120 })]);
    const intervals = current(noc, menu.message_id);
    const answer = await noc.pressButton(olga, intervals, data(intervals, 'Today')).answer;
    assert.equal(answer.text, undefined, 'not "this menu has expired"');
    await until('the table', () => current(noc, menu.message_id).text!.startsWith('📊 Profit: carrier-a, Today'));
    // "Now" is the restarted module's (12:00), and the call stored after the restart counts: 13 calls, 80 minutes.
    assert.match(current(noc, menu.message_id).text!, /^22 Nov 2026, 00:00 – 22 Nov 2026, 12:00 \(Europe\/Moscow\)$/m);
    assert.match(current(noc, menu.message_id).text!, /Total: 12 codes\n {3}13 calls · 80\.0 min · /);
    assert.equal(noc.inbox().length, 1, 'still the one message');
  });
  it('a conversation stored by other /profit steps (an older tgpbx) is not replayed: its buttons say the menu expired', async () => {
    noc.send(olga, '/profit');
    const menu = await shows(noc, (t) => t.startsWith('📊 Profit report\nChoose a peer'));
    await noc.pressButton(olga, menu, data(menu, 'carrier-a')).answer;
    await until('the interval menu', () => current(noc, menu.message_id).text!.includes('Choose the interval'));
    const row = await until('the conversation state stored', () => mod.app.db('rp_conversations').where({ key: `default:${noc.id}` }).first());
    const state = JSON.parse(row.state);
    state.version[1] = 1; // as the previous steps stored it
    await mod.app.db('rp_conversations').where({ key: row.key }).update({ state: JSON.stringify(state) });
    const answer = await noc.pressButton(olga, current(noc, menu.message_id), data(current(noc, menu.message_id), 'Today')).answer;
    assert.equal(answer.text, 'This menu has expired: send /profit again.');
    assert.match(current(noc, menu.message_id).text!, /Choose the interval/, 'the message is left as it was');
  });
});
