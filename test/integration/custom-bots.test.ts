import assert from 'node:assert/strict';
import type { Message } from 'grammy/types';
import { BotApiServer, type SimUser } from '../support/bot-api-server.js';
import { startModule, waitForLight, type TestModule, outboxDrained } from '../support/module.js';

const DEFAULT_TOKEN = '111111111:TESTdefaultBotAbcdefghijklmnopqrstuv';
const TOKEN_A = '222222222:TESTcustomBotAlphaAbcdefghijklmnopq';
const TOKEN_B = '333333333:TESTcustomBotBravoAbcdefghijklmnopq';
const UNKNOWN_TOKEN = '444444444:TESTnobodyKnowsThisBotAbcdefghijkl';
const ADMIN_TOKEN = 'test-admin-token-0123456789';

describe('custom bots of missed-call notices, through the Bot API emulator', function () {
  let telegram: BotApiServer;
  let mod: TestModule;
  let ann: SimUser;
  let annId: number;

  async function api(method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN): Promise<{ status: number; json: any }> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(mod.app.url + '/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  /** Switches Ann off and on again by hand: two service messages; resolves with the last one as Ann got it. */
  async function serviceMessage(from: string): Promise<Message> {
    const before = ann.inbox().length;
    await mod.app.missedCalls.notifier.setSubscriberByAdmin(annId, false);
    await mod.app.missedCalls.notifier.setSubscriberByAdmin(annId, true);
    await ann.waitForMessage(() => ann.inbox().length >= before + 2);
    const last = ann.inbox().at(-1)!;
    assert.equal(last.from?.username, from);
    return last;
  }

  async function drained(): Promise<void> {
    await outboxDrained(mod.app);
  }

  beforeEach(async () => {
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: DEFAULT_TOKEN, username: 'pbx_default_bot' });
    telegram.addBot({ token: TOKEN_A, username: 'alpha_bot' });
    telegram.addBot({ token: TOKEN_B, username: 'bravo_bot' });
    ann = telegram.user({ id: 1001, first_name: 'Ann' });
    mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_ADMIN_TOKEN: ADMIN_TOKEN }, { start: false, outboxRetry: { initialMs: 10, maxMs: 50 } });
    await mod.app.settings.update({ 'telegram.rate.global_per_second': 1000, 'telegram.rate.private_chat_per_second': 1000 });
    await mod.app.settings.update({ 'telegram.bot_token': DEFAULT_TOKEN });
    await mod.app.start();
    await mod.app.calls.directory.saveEndpoint('101', 'extension', 'Reception');
    annId = await mod.app.missedCalls.admin.addSubscriber({ name: 'Ann', chatId: '1001', scope: { kind: 'extension', id: '101' } });
    await waitForLight(mod.app.status, 'bot:default', 'green');
  });
  afterEach(async () => {
    await mod.close();
    await telegram.stop();
  });

  it('refuses a bot whose token Telegram refuses, with the reason, and a token of the wrong shape', async () => {
    const refused = await api('POST', '/missed-calls/bots', { name: 'Nobody', token: UNKNOWN_TOKEN });
    assert.equal(refused.status, 400);
    assert.match(refused.json.error, /Telegram refused the token/);
    assert.ok(!refused.json.error.includes(UNKNOWN_TOKEN));
    const shape = await api('POST', '/missed-calls/bots', { name: 'Bad', token: '123:short' });
    assert.equal(shape.status, 400);
    assert.match(shape.json.error, /does not look like a bot token/);
    assert.deepEqual((await api('GET', '/missed-calls/bots')).json.bots, []);
    assert.ok(!mod.logs.text.includes(UNKNOWN_TOKEN));
  });

  it('answers the REST API only with the bearer token', async () => {
    assert.equal((await api('GET', '/missed-calls/bots', undefined, null)).status, 401);
    assert.equal((await api('POST', '/missed-calls/bots', { name: 'A', token: TOKEN_A }, 'wrong-token-0123456789')).status, 401);
    assert.equal((await api('POST', '/missed-calls/bots/1/activate', undefined, null)).status, 401);
    assert.equal((await api('DELETE', '/missed-calls/bots/1', undefined, null)).status, 401);
    const listed = await api('GET', '/missed-calls/bots');
    assert.equal(listed.status, 200);
    assert.equal(listed.json.serving, 'default');
    assert.equal(listed.json.default.username, 'pbx_default_bot');
    assert.equal(listed.json.default.token_masked, '••••stuv');
    assert.equal((await api('POST', '/missed-calls/bots/99/activate')).status, 404);
    assert.equal((await api('DELETE', '/missed-calls/bots/99')).status, 404);
  });

  it('sends the notices through the active bot; activating a second switches the first off; both bots answer the commands', async () => {
    const a = await api('POST', '/missed-calls/bots', { name: 'Alpha', token: TOKEN_A });
    assert.equal(a.status, 201);
    assert.equal(a.json.username, 'alpha_bot');
    assert.equal(a.json.token_masked, '••••nopq');
    assert.equal(a.json.active, false);
    assert.ok(!JSON.stringify(a.json).includes(TOKEN_A));
    const b = await api('POST', '/missed-calls/bots', { name: 'Bravo', token: TOKEN_B });
    assert.equal(b.status, 201);

    // Off: the default bot still sends.
    assert.equal((await serviceMessage('pbx_default_bot')).from?.username, 'pbx_default_bot');

    assert.equal((await api('POST', `/missed-calls/bots/${a.json.id}/activate`)).status, 200);
    await waitForLight(mod.app.status, `bot:custom:${a.json.id}`, 'green');
    assert.equal((await api('GET', '/missed-calls/bots')).json.serving, `custom:${a.json.id}`);
    await serviceMessage('alpha_bot');
    // Users talk to the active bot; the default bot keeps answering too (subscribers who joined
    // through it, and the buttons of the notices it sent, keep working).
    ann.send('/help', { bot: TOKEN_A });
    await ann.waitForMessage((m) => m.from?.username === 'alpha_bot' && m.reply_to_message === undefined && /activate/i.test(m.text ?? ''));
    assert.deepEqual(telegram.commandsOf(TOKEN_A).map((c) => c.command), telegram.commandsOf(DEFAULT_TOKEN).map((c) => c.command));

    assert.equal((await api('POST', `/missed-calls/bots/${b.json.id}/activate`)).status, 200);
    const listed = (await api('GET', '/missed-calls/bots')).json;
    assert.deepEqual(listed.bots.map((x: { name: string; active: boolean }) => [x.name, x.active]), [['Alpha', false], ['Bravo', true]]);
    await waitForLight(mod.app.status, `bot:custom:${b.json.id}`, 'green');
    assert.equal(mod.app.bots.get(`custom:${a.json.id}`), undefined);
    assert.equal(mod.app.status.get(`bot:custom:${a.json.id}`), undefined);
    await serviceMessage('bravo_bot');

    assert.equal((await api('POST', `/missed-calls/bots/${b.json.id}/deactivate`)).status, 200);
    assert.equal((await api('GET', '/missed-calls/bots')).json.serving, 'default');
    await serviceMessage('pbx_default_bot');
    assert.equal((await api('DELETE', `/missed-calls/bots/${a.json.id}`)).status, 204);
    assert.deepEqual((await api('GET', '/missed-calls/bots')).json.bots.map((x: { name: string }) => x.name), ['Bravo']);
    assert.ok(!mod.logs.text.includes(TOKEN_A) && !mod.logs.text.includes(TOKEN_B));
  });

  it('two activations at the same moment leave exactly one bot active (PostgreSQL runs them in parallel)', async () => {
    const a = (await api('POST', '/missed-calls/bots', { name: 'Alpha', token: TOKEN_A })).json.id as number;
    const b = (await api('POST', '/missed-calls/bots', { name: 'Bravo', token: TOKEN_B })).json.id as number;
    for (let round = 0; round < 10; round++) {
      await mod.app.customBots.deactivate(a);
      await mod.app.customBots.deactivate(b);
      await Promise.all([mod.app.customBots.activate(a), mod.app.customBots.activate(b)]);
      const active = await mod.app.db('telegram_bots').where({ active: true }).select('id');
      assert.equal(active.length, 1, `round ${round}: ${active.length} bots active`);
    }
  });

  it('hands a notice refused with 401 to the default bot, and sends the next ones through it: nothing lost', async () => {
    const a = (await api('POST', '/missed-calls/bots', { name: 'Alpha', token: TOKEN_A })).json;
    await api('POST', `/missed-calls/bots/${a.id}/activate`);
    await waitForLight(mod.app.status, `bot:custom:${a.id}`, 'green');
    const sentBefore = telegram.requestsOf('sendMessage').length;
    // Alpha's next sends are refused as a revoked token is.
    telegram.failNext('sendMessage', { status: 401, description: 'Unauthorized' }, 1);
    const before = ann.inbox().length;
    await mod.app.missedCalls.notifier.setSubscriberByAdmin(annId, false);
    await waitForLight(mod.app.status, `bot:custom:${a.id}`, 'red');
    const refusedSend = telegram.requestsOf('sendMessage')[sentBefore]!;
    assert.equal(refusedSend.description, 'Unauthorized');
    assert.equal(refusedSend.bot_id, 222222222);
    await ann.waitForMessage(() => ann.inbox().length > before);
    const handed = ann.inbox()[before]!;
    assert.equal(handed.from?.username, 'pbx_default_bot');
    assert.match(handed.text ?? '', /off/i);
    assert.match(mod.app.status.get(`bot:custom:${a.id}`)!.detail, /Telegram refused the token \(Unauthorized\).*Bots page.*default bot/);
    const listed = (await api('GET', '/missed-calls/bots')).json;
    assert.equal(listed.serving, 'default');
    assert.equal(listed.bots[0].light, 'red');
    // The next notice goes straight through the default bot.
    await mod.app.missedCalls.notifier.setSubscriberByAdmin(annId, true);
    await drained();
    const counts = await mod.app.outbox.counts();
    assert.equal(counts.failed, 0);
    const rows = await mod.app.db('outbox').select('bot_id', 'status');
    assert.ok(rows.every((r: { status: string }) => r.status === 'sent'));
    assert.equal(ann.inbox({ bot: TOKEN_A }).length, 0);
  });

  it('shows a revoked bot red, with the reason, and the notices go through the default bot', async () => {
    const a = (await api('POST', '/missed-calls/bots', { name: 'Alpha', token: TOKEN_A })).json;
    await api('POST', `/missed-calls/bots/${a.id}/activate`);
    await waitForLight(mod.app.status, `bot:custom:${a.id}`, 'green');
    telegram.revokeBot(TOKEN_A);
    await waitForLight(mod.app.status, `bot:custom:${a.id}`, 'red');
    assert.match(mod.app.status.get(`bot:custom:${a.id}`)!.detail, /refused the token.*default bot/);
    const m = await serviceMessage('pbx_default_bot');
    assert.equal(m.from?.username, 'pbx_default_bot');
    await drained();
    assert.equal((await mod.app.outbox.counts()).failed, 0);
  });
});
