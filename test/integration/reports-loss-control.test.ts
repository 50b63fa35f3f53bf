import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Message } from 'grammy/types';
import { AsteriskAgiPeer } from '../support/agi-client.js';
import { BotApiServer, type SimGroup, type SimUser } from '../support/bot-api-server.js';
import { ManualClock } from '../support/manual-clock.js';
import { adminApi, outboxDrained, startModule, tempDataDir, until, waitForLight, type TestModule } from '../support/module.js';
import { outboundCall, storeCalls } from '../support/rated-calls.js';
import { WebClient } from '../support/web-client.js';
import { AdminAuth } from '../../src/web/admin-auth.js';

const TOKEN = '123456789:TESTreportsLossControlAbcdefghijklm';
const ADMIN_TOKEN = 'test-admin-token-reports-0123456789';
const T0 = Date.UTC(2026, 10, 22, 7, 0); // Sunday 10:00 in Moscow
const COST = '44,UK,0.10,60/60,';
const SELL = '44,UK,0.04,60/60,';

describe('loss control: a crossed limit blocks the peer at the route guard, alerts the chat, and unblocks', function () {
  let telegram: BotApiServer;
  let mod: TestModule;
  let clock: ManualClock;
  let dataDir: string;
  let ops: SimGroup;
  let olga: SimUser;
  let chatRowId: number;

  const api = (...args: Parameters<ReturnType<typeof adminApi>>) => adminApi(mod.app, ADMIN_TOKEN)(...args);

  async function start(): Promise<void> {
    mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_ADMIN_TOKEN: ADMIN_TOKEN }, { clock, dataDir, start: false });
    await mod.app.settings.update({ 'telegram.rate.global_per_second': 1000, 'telegram.rate.group_per_minute': 1000, 'general.timezone': 'Europe/Moscow', 'telegram.bot_token': TOKEN });
    await mod.app.start();
    await waitForLight(mod.app.status, 'bot:default', 'green');
  }

  /** The route-guard hook as the dialplan calls it before dialing out over `peer`. */
  async function routeGuard(peer: string) {
    const server = mod.app.dialplanHooks.fastAgi;
    const agi = await AsteriskAgiPeer.fastAgi(server.address!.port, `route-guard?direction=out&peer=${peer}`, { extension: '447700900123' });
    await agi.finished;
    return { route: agi.variables.get('TGPBX_ROUTE'), reason: agi.variables.get('TGPBX_BLOCK_REASON'), executed: agi.executed };
  }

  /** The callback data of a message's first button. */
  const buttonData = (m: Message) => (m.reply_markup!.inline_keyboard[0]![0] as { callback_data: string }).callback_data;
  const alerts = () => ops.inbox().filter((m) => m.text?.startsWith('⛔'));
  const unblockNotes = () => ops.inbox().filter((m) => m.text?.startsWith('✅'));

  beforeEach(async () => {
    clock = new ManualClock(T0);
    dataDir = tempDataDir();
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000, groupPerMinute: 1000 } });
    telegram.addBot({ token: TOKEN, username: 'tgpbx_reports_bot' });
    olga = telegram.user({ id: 2001, first_name: 'Olga' });
    ops = telegram.group({ id: -1002000, title: 'NOC' });
    await start();
    // The admin adds the bot to the NOC group: it waits for approval, then is approved with the peer.
    ops.addBot(olga);
    const pending = await until('the NOC chat waiting for approval', async () => (await api('GET', '/api/v1/reports/chats')).json.chats.find((c: { chat_id: string; status: string }) => c.chat_id === '-1002000' && c.status === 'pending'));
    assert.equal(pending.title, 'NOC');
    chatRowId = pending.id;
    assert.equal((await api('PATCH', `/api/v1/reports/chats/${chatRowId}`, { approve: true, peers: ['carrier-uk'] })).json.chat.status, 'approved');
    await api('PUT', '/api/v1/reports/decks/carrier-uk/cost', COST, 'text/csv');
    await api('PUT', '/api/v1/reports/decks/carrier-uk/sell', SELL, 'text/csv');
    const limit = await api('POST', '/api/v1/reports/limits', { peer: 'carrier-uk', period: 'day', max_loss: '1.00', alert_chat: chatRowId });
    assert.equal(limit.status, 201);
  });
  afterEach(async () => {
    await mod.close();
    await telegram.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Ten-minute UK calls lose 0.60 each: the second one crosses the 1.00 daily limit. */
  async function loseMoney(calls: number): Promise<void> {
    const list = [];
    for (let i = 0; i < calls; i++) list.push(outboundCall({ trunk: 'carrier-uk', dialed: `4477009001${10 + i}`, startedAt: clock.now() - 900_000 + i * 1000, talkSeconds: 600 }));
    await storeCalls(mod.app, list);
  }

  it('below the limit calls pass; crossing it refuses new calls with cause 21, alerts the chat with the figures; Unblock lets them through and says so', async () => {
    await loseMoney(1);
    assert.equal((await routeGuard('carrier-uk')).route, 'allowed', 'a loss of 0.60 is within 1.00');
    await loseMoney(1);

    const refused = await routeGuard('carrier-uk');
    assert.equal(refused.route, 'blocked');
    assert.deepEqual(refused.executed, [{ app: 'Hangup', args: '21' }]);
    assert.match(refused.reason!, /carrier-uk blocked by its day loss limit until 23 Nov 2026, 00:00/);
    assert.equal((await routeGuard('carrier-other')).route, 'allowed', 'other peers are not affected');

    const alert = await ops.waitForMessage((m) => Boolean(m.text?.startsWith('⛔')));
    for (const line of ['⛔ Peer carrier-uk blocked by loss control', 'Limit: loss per day at most 1.00', 'This day: loss 1.20, revenue 0.80, cost 2.00, margin -150%', 'until 23 Nov 2026, 00:00 (Europe/Moscow)']) {
      assert.ok(alert.text!.includes(line), `${line} in\n${alert.text}`);
    }
    assert.deepEqual(alert.reply_markup?.inline_keyboard[0]![0], { text: '🔓 Unblock', callback_data: buttonData(alert) });
    assert.match(buttonData(alert), /^rp:ub:\d+$/);

    // A third call that was already under way when the block came is rated, but does not alert twice.
    await loseMoney(1);
    await outboxDrained(mod.app);
    assert.equal(alerts().length, 1);

    const pressed = ops.pressButton(olga, alert, buttonData(alert));
    assert.equal((await pressed.answer).text, 'Unblocked.');
    const note = await ops.waitForMessage((m) => Boolean(m.text?.startsWith('✅')));
    assert.match(note.text!, /^✅ Peer carrier-uk unblocked by Olga \(2001\) in Telegram/);
    assert.equal((await routeGuard('carrier-uk')).route, 'allowed');
    await until('the Unblock button gone from the alert', () => !ops.inbox().find((m: Message) => m.message_id === alert.message_id)?.reply_markup?.inline_keyboard.flat().length);

    // Unblocked for the rest of the day: more losses today do not block again.
    await loseMoney(1);
    assert.equal((await routeGuard('carrier-uk')).route, 'allowed');
    await outboxDrained(mod.app);
    assert.equal(alerts().length, 1);
    assert.equal(unblockNotes().length, 1);
  });

  it('two calls stored at the same moment that cross the limit together block the peer (each sees the other)', async () => {
    const calls = [0, 1].map((i) => outboundCall({ trunk: 'carrier-uk', dialed: `44770090020${i}`, startedAt: clock.now() - 900_000 + i * 1000, talkSeconds: 600 }));
    await Promise.all(calls.map((c) => mod.app.calls.history.record(c)));
    assert.equal((await routeGuard('carrier-uk')).route, 'blocked');
    await ops.waitForMessage((m) => Boolean(m.text?.startsWith('⛔')));
  });

  it('the block survives a restart and ends with its period (a day in the PBX time zone), with a second alert', async () => {
    await loseMoney(2);
    assert.equal((await routeGuard('carrier-uk')).route, 'blocked');
    await ops.waitForMessage((m) => Boolean(m.text?.startsWith('⛔')));

    await mod.app.stop();
    await start();
    assert.equal((await routeGuard('carrier-uk')).route, 'blocked', 'blocks are stored, not only in memory');

    clock.advance(Date.UTC(2026, 10, 22, 21, 0) - clock.now() - 60_000); // 23:59 in Moscow
    assert.equal((await routeGuard('carrier-uk')).route, 'blocked');
    clock.advance(60_000); // midnight: a new day
    const note = await ops.waitForMessage((m) => Boolean(m.text?.startsWith('✅')));
    assert.match(note.text!, /unblocked at the end of the period \(23 Nov 2026, 00:00\)/);
    assert.equal((await routeGuard('carrier-uk')).route, 'allowed');
    const blocks = (await api('GET', '/api/v1/reports/blocks')).json.blocks;
    assert.equal(blocks[0].ended_by, 'period');
  });

  it('the admin unblocks on REST; a user of a chat that may not see the peer cannot', async () => {
    const other = telegram.group({ id: -1003000, title: 'Sales' });
    other.addBot(olga);
    const sales = await until('Sales pending', async () => (await api('GET', '/api/v1/reports/chats')).json.chats.find((c: { chat_id: string }) => c.chat_id === '-1003000'));
    await api('PATCH', `/api/v1/reports/chats/${sales.id}`, { approve: true, peers: ['carrier-de'] });
    await loseMoney(2);
    const alert = await ops.waitForMessage((m) => Boolean(m.text?.startsWith('⛔')));
    const blockId = Number(/rp:ub:(\d+)/.exec(buttonData(alert))![1]);
    // The alert's button forwarded into another chat is of no use there: emulate the press from the Sales chat's own copy.
    const copy = await mod.app.bots.get('default')!.api()!.sendMessage(-1003000, 'copy', { reply_markup: { inline_keyboard: [[{ text: 'Unblock', callback_data: `rp:ub:${blockId}` }]] } });
    const refused = await other.pressButton(olga, copy as Message, `rp:ub:${blockId}`).answer;
    assert.equal(refused.text, 'This chat may no longer see this peer.');
    assert.equal((await routeGuard('carrier-uk')).route, 'blocked');

    const res = await api('POST', `/api/v1/reports/blocks/${blockId}/unblock`);
    assert.deepEqual([res.status, res.json.unblocked], [200, true]);
    assert.equal((await api('POST', `/api/v1/reports/blocks/${blockId}/unblock`)).json.already_ended, true);
    assert.equal((await routeGuard('carrier-uk')).route, 'allowed');
    assert.match((await ops.waitForMessage((m) => Boolean(m.text?.startsWith('✅')))).text!, /unblocked by the admin \(REST API\)/);
  });
  it('in Russian (general.language ru): the alert, its button, the answer and the unblock message', async () => {
    await mod.app.settings.update({ 'general.language': 'ru' });
    await loseMoney(2);
    const alert = await ops.waitForMessage((m) => Boolean(m.text?.startsWith('⛔')));
    assert.equal(
      alert.text,
      [
        '⛔ Транк carrier-uk заблокирован контролем убытков',
        'Лимит: убыток за день не больше 1.00',
        'За текущий день: убыток 1.20, выручка 0.80, затраты 2.00, маржа -150%',
        'Начало периода: 22 нояб. 2026 г., 00:00',
        'Новые звонки через carrier-uk отклоняются до 23 нояб. 2026 г., 00:00 (Europe/Moscow) или до разблокировки.',
      ].join('\n'),
    );
    assert.equal(alert.reply_markup!.inline_keyboard[0]![0]!.text, '🔓 Разблокировать');
    assert.equal((await ops.pressButton(olga, alert, buttonData(alert)).answer).text, 'Разблокировано.');
    const note = await ops.waitForMessage((m) => Boolean(m.text?.startsWith('✅')));
    assert.equal(note.text, '✅ Транк carrier-uk разблокирован пользователем Olga (2001) в Telegram (22 нояб. 2026 г., 10:00). Звонки снова проходят.');
    const blocks = (await api('GET', '/api/v1/reports/blocks')).json.blocks;
    assert.equal(blocks[0].ended_by, 'Olga (2001) in Telegram', 'the page and REST keep their English note');
  });
  it('re-rating checks the limits again: a deck fix that turns today into a loss blocks and alerts; a period it touches not, nothing', async () => {
    await loseMoney(1); // 0.60 of 1.00
    assert.equal((await routeGuard('carrier-uk')).route, 'allowed');
    // The carrier's real price was 0.20, not 0.10: the call lost 1.60.
    assert.equal((await api('POST', '/api/v1/reports/decks/carrier-uk/cost/rates', { prefix: '44', name: 'UK', rate: '0.20' })).status, 201);
    const yesterday = await api('POST', '/api/v1/reports/rerate', { interval: 'yesterday' });
    assert.deepEqual(yesterday.json.loss_control, { blocked: [], still_blocked_below_limit: [] }, 'yesterday is not the day limit\'s current period');
    assert.equal((await routeGuard('carrier-uk')).route, 'allowed');

    const today = await api('POST', '/api/v1/reports/rerate', { interval: 'today', peer: 'carrier-uk' });
    assert.equal(today.json.rated, 1);
    assert.deepEqual(today.json.loss_control.blocked.map((b: { peer: string; period: string; profit: { value: string } }) => [b.peer, b.period, b.profit.value]), [['carrier-uk', 'day', '-1.600000']]);
    assert.equal((await routeGuard('carrier-uk')).route, 'blocked');
    const alert = await ops.waitForMessage((m) => Boolean(m.text?.startsWith('⛔')));
    assert.match(alert.text!, /This day: loss 1\.60, revenue 0\.40, cost 2\.00/);

    // Re-rating again does not block or alert twice.
    assert.deepEqual((await api('POST', '/api/v1/reports/rerate', { interval: 'today' })).json.loss_control.blocked, []);
    await outboxDrained(mod.app);
    assert.equal(alerts().length, 1);
  });

  it('re-rating that ends a loss does not lift the block: REST and the Loss control page say it is no longer over the limit', async () => {
    await loseMoney(2);
    assert.equal((await routeGuard('carrier-uk')).route, 'blocked');
    await ops.waitForMessage((m) => Boolean(m.text?.startsWith('⛔')));
    // The sell rate was mistyped: 0.10, not 0.04. The day is not a loss at all.
    assert.equal((await api('POST', '/api/v1/reports/decks/carrier-uk/sell/rates', { prefix: '44', name: 'UK', rate: '0.10' })).status, 201);
    const rerated = await api('POST', '/api/v1/reports/rerate', { interval: 'today' });
    assert.deepEqual(rerated.json.loss_control.blocked, []);
    assert.deepEqual(rerated.json.loss_control.still_blocked_below_limit.map((b: { peer: string }) => b.peer), ['carrier-uk']);
    assert.equal((await routeGuard('carrier-uk')).route, 'blocked', 'not lifted automatically');
    const limit = (await api('GET', '/api/v1/reports/limits')).json.limits[0];
    assert.equal(limit.blocked.still_over_limit, false);
    assert.match(mod.logs.text, /no longer over their limit; they stay blocked/);

    const password = 'reports-test-password';
    await new AdminAuth(mod.app.db, mod.app.settings).setPassword(password);
    const web = new WebClient(mod.app.url);
    await web.logIn(password);
    const page = await web.get('/reports/limits');
    assert.match(page.text, /class="rp-below-limit">This period's figures are no longer over the limit/);
    const _csrf = await web.csrfFrom('/reports/decks');
    const posted = await web.postForm('/reports/decks/rerate', { _csrf, from: '2026-11-22', to: '2026-11-22', peer: 'carrier-uk' });
    assert.equal(posted.location, '/reports/decks?saved&rerated=2&below=carrier-uk:day#rerate');
    const decks = await web.get(posted.location!.replace(/#.*/, ''));
    assert.match(decks.text, /2 calls re-rated\./);
    assert.match(decks.text, /<strong>carrier-uk<\/strong> stays blocked by its day limit, although its figures are no longer over it/);
  });
});
