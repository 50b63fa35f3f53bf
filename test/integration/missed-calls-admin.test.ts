import assert from 'node:assert/strict';
import type { Message } from 'grammy/types';
import { AdminAuth } from '../../src/web/admin-auth.js';
import { BotApiServer, type SimUser } from '../support/bot-api-server.js';
import { startModule, waitForLight, type TestModule, until } from '../support/module.js';
import { WebClient, type WebResponse } from '../support/web-client.js';

// Test tokens must never look like real ones.
const BOT_TOKEN = '123456789:TESTmissedAbcdefghijklmnopqrstuvwxyz';
const API_TOKEN = 'api-token-missed-0123456789';
const PASSWORD = 'missed-calls admin password';
const auth = { authorization: `Bearer ${API_TOKEN}` };

describe('Missed calls admin: page forms and REST API', () => {
  let telegram: BotApiServer;
  let mod: TestModule;
  let api: WebClient;
  let web: WebClient;
  let salesId: number;
  let supportId: number;

  const json = async (p: Promise<WebResponse>) => {
    const r = await p;
    return { status: r.status, body: r.text ? JSON.parse(r.text) : null };
  };
  const send = (method: string, url: string, body?: unknown) =>
    json(api.request(method, url, body === undefined ? undefined : JSON.stringify(body), { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }));

  /** Posts a page form with a fresh CSRF token. */
  const submit = async (path: string, form: Record<string, string>) => web.postForm(path, { _csrf: await web.csrfFrom('/missed-calls'), ...form });

  /** The first message to a user whose text starts with `prefix`, now or when it arrives. */
  const heard = (user: SimUser, prefix: string): Promise<Message> => user.waitForMessage((m) => Boolean(m.text?.startsWith(prefix)));

  /** A subscriber as GET /api/v1/missed-calls/subscribers lists him. */
  async function listed(id: number) {
    const list = await send('GET', '/api/v1/missed-calls/subscribers');
    return list.body.subscribers.find((s: { id: number }) => s.id === id);
  }

  /** The outbox texts written for a chat (what the module decided to tell him). */
  async function outboxTexts(chatId: number): Promise<string[]> {
    const rows: { payload: string }[] = await mod.app.db('outbox').where({ chat_id: String(chatId) }).orderBy('id').select('payload');
    return rows.map((r) => JSON.parse(r.payload).text as string);
  }

  async function addByApi(name: string, chatId: number, scope: { kind: string; id: string | number }): Promise<number> {
    const added = await send('POST', '/api/v1/missed-calls/subscribers', { name, chat_id: chatId, scope });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    return added.body.id;
  }

  before(async () => {
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: BOT_TOKEN, username: 'tgpbx_missed_bot' });
    mod = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_ADMIN_TOKEN: API_TOKEN }, { start: false, outboxRetry: { initialMs: 10, maxMs: 40 } });
    await mod.app.settings.update({ 'telegram.rate.global_per_second': 1000, 'telegram.rate.private_chat_per_second': 1000, 'general.timezone': 'Europe/Moscow' });
    await mod.app.settings.update({ 'telegram.bot_token': BOT_TOKEN });
    const directory = mod.app.calls.directory;
    await directory.saveEndpoint('101', 'extension', 'Reception');
    await directory.saveEndpoint('102', 'extension', '');
    await directory.saveEndpoint('trunk-1', 'trunk', 'Provider');
    salesId = await directory.saveGroup({ name: 'Sales', members: ['101', '102'] });
    supportId = await directory.saveGroup({ name: 'Support', members: ['102'] });
    await mod.app.start();
    await waitForLight(mod.app.status, 'bot:default', 'green');
    await new AdminAuth(mod.app.db, mod.app.settings).setPassword(PASSWORD);
    api = new WebClient(mod.app.url);
    web = new WebClient(mod.app.url);
    assert.equal((await web.logIn(PASSWORD)).status, 302);
  });
  after(async () => {
    await mod?.close();
    await telegram?.stop();
  });

  describe('over the REST API', () => {
    it('adds a subscriber by hand, renames him, switches him off and on (he hears both), and removes him', async () => {
      const ann = telegram.user({ id: 2001, first_name: 'Ann' });
      const added = await send('POST', '/api/v1/missed-calls/subscribers', { name: 'Ann', chat_id: 2001, scope: { kind: 'extension', id: '101' } });
      assert.equal(added.status, 201);
      const id = added.body.id;
      assert.deepEqual(
        { chat: added.body.subscriber.chat_id, scope: added.body.subscriber.scope, status: added.body.subscriber.status, shown: added.body.subscriber.display_status },
        { chat: '2001', scope: { kind: 'extension', id: '101', label: '101 (Reception)', exists: true }, status: 'on', shown: 'on' },
      );

      const renamed = await send('PATCH', `/api/v1/missed-calls/subscribers/${id}`, { name: 'Ann at the front desk' });
      assert.equal(renamed.status, 200);
      assert.equal((await listed(id)).name, 'Ann at the front desk');

      const off = await send('PATCH', `/api/v1/missed-calls/subscribers/${id}`, { enabled: false });
      assert.equal(off.status, 200);
      assert.equal(off.body.subscriber.status, 'disabled');
      assert.equal(off.body.subscriber.display_status_text, 'disabled by admin');
      assert.equal((await heard(ann, 'The administrator has switched off')).text, 'The administrator has switched off your missed-call notices for extension 101 (Reception).');

      const on = await send('PATCH', `/api/v1/missed-calls/subscribers/${id}`, { enabled: true });
      assert.equal(on.body.subscriber.display_status, 'on');
      assert.equal((await heard(ann, 'The administrator has switched on')).text, 'The administrator has switched on your missed-call notices for extension 101 (Reception).');

      assert.equal((await send('DELETE', `/api/v1/missed-calls/subscribers/${id}`)).status, 204);
      assert.equal(await listed(id), undefined);
      assert.equal((await send('DELETE', `/api/v1/missed-calls/subscribers/${id}`)).status, 404);
    });

    it('accepts a group chat (negative id) and explains a bad chat id, name or scope with 400', async () => {
      const group = await send('POST', '/api/v1/missed-calls/subscribers', { name: 'Sales chat', chat_id: '-1001234567890', scope: { kind: 'group', id: salesId } });
      assert.equal(group.status, 201);
      assert.equal(group.body.subscriber.chat_id, '-1001234567890');
      assert.equal(group.body.subscriber.scope.label, 'Sales');

      const letters = await send('POST', '/api/v1/missed-calls/subscribers', { name: 'Bad', chat_id: '12ab', scope: { kind: 'group', id: salesId } });
      assert.equal(letters.status, 400);
      assert.match(letters.body.error, /chat_id: This is not a chat id/);
      for (const chatId of [1.5, 0, '', '99999999999999999']) {
        assert.equal((await send('POST', '/api/v1/missed-calls/subscribers', { name: 'Bad', chat_id: chatId, scope: { kind: 'group', id: salesId } })).status, 400, String(chatId));
      }
      const noName = await send('POST', '/api/v1/missed-calls/subscribers', { name: '  ', chat_id: 2100, scope: { kind: 'group', id: salesId } });
      assert.match(noName.body.error, /name: Give the subscriber a name/);
      const noGroup = await send('POST', '/api/v1/missed-calls/subscribers', { name: 'X', chat_id: 2100, scope: { kind: 'group', id: 999 } });
      assert.deepEqual(noGroup, { status: 400, body: { error: 'There is no such group.' } });
      const trunk = await send('POST', '/api/v1/missed-calls/subscribers', { name: 'X', chat_id: 2100, scope: { kind: 'extension', id: 'trunk-1' } });
      assert.deepEqual(trunk, { status: 400, body: { error: 'There is no extension trunk-1.' } });
      const kind = await send('POST', '/api/v1/missed-calls/subscribers', { name: 'X', chat_id: 2100, scope: { kind: 'queue', id: '5' } });
      assert.match(kind.body.error, /scope\.kind: scope kind must be group or extension/);
      const patch = await send('PATCH', `/api/v1/missed-calls/subscribers/${group.body.id}`, { enabled: 'no' });
      assert.equal(patch.status, 400);
      assert.equal((await send('PATCH', `/api/v1/missed-calls/subscribers/${group.body.id}`, {})).status, 400);
    });

    it('answers 404 for ids that name nothing', async () => {
      assert.equal((await send('PATCH', '/api/v1/missed-calls/subscribers/999999', { name: 'Nobody' })).status, 404);
      assert.equal((await send('PATCH', '/api/v1/missed-calls/subscribers/abc', { name: 'Nobody' })).status, 404);
      assert.equal((await send('DELETE', '/api/v1/missed-calls/subscribers/999999')).status, 404);
      assert.deepEqual(await send('POST', '/api/v1/missed-calls/keys/revoke', { kind: 'group', id: 999 }), { status: 404, body: { error: 'No such group.' } });
      assert.deepEqual(await send('POST', '/api/v1/missed-calls/keys/revoke', { kind: 'extension', id: 'trunk-1' }), { status: 404, body: { error: 'No such extension.' } });
      assert.equal((await send('PUT', '/api/v1/missed-calls/groups/999/flag', { notify: false })).status, 404);
      assert.equal((await send('PUT', `/api/v1/missed-calls/groups/${salesId}/flag`, { notify: 'off' })).status, 400);
    });

    it('lists every scope with its full key, /activate text and t.me link; a revoked key stops working, the new one works', async () => {
      const keys = await send('GET', '/api/v1/missed-calls/keys');
      assert.equal(keys.status, 200);
      assert.deepEqual(
        keys.body.keys.map((k: { kind: string; label: string }) => `${k.kind} ${k.label}`),
        ['group Sales', 'group Support', 'extension 101 (Reception)', 'extension 102'],
      );
      const sales = keys.body.keys.find((k: { kind: string; id: string }) => k.kind === 'group' && k.id === String(salesId));
      const { store } = mod.app.missedCalls;
      assert.equal(sales.key, await store.keyFor({ kind: 'group', id: String(salesId) }));
      assert.equal(sales.activate, `/activate ${sales.key}`);
      assert.equal(sales.link, `https://t.me/tgpbx_missed_bot?start=${sales.key}`);
      assert.equal(sales.notify, true);
      assert.deepEqual(await store.scopeOfKey(sales.key), { kind: 'group', id: String(salesId) });

      const revoked = await send('POST', '/api/v1/missed-calls/keys/revoke', { kind: 'group', id: salesId });
      assert.equal(revoked.status, 200);
      assert.notEqual(revoked.body.key, sales.key);
      assert.equal(await store.scopeOfKey(sales.key), undefined, 'the old key no longer opens the group');
      assert.deepEqual(await store.scopeOfKey(revoked.body.key), { kind: 'group', id: String(salesId) });
      const again = await send('GET', '/api/v1/missed-calls/keys');
      assert.equal(again.body.keys.find((k: { kind: string; id: string }) => k.kind === 'group' && k.id === String(salesId)).key, revoked.body.key);

      // In Telegram: the old key is refused, the t.me link's /start payload subscribes.
      const fay = telegram.user({ id: 2010, first_name: 'Fay' });
      fay.send(`/activate ${sales.key}`);
      assert.match((await heard(fay, 'This key')).text!, /This key is not valid/);
      fay.send(`/start ${revoked.body.key}`);
      assert.equal((await heard(fay, 'Done')).text, 'Done: you will get a notice for every missed call of group "Sales".');
      for (const key of [sales.key, revoked.body.key]) assert.equal(mod.logs.text.includes(key), false, 'activation keys are never logged');
    });

    it('the group flag off tells every active subscriber of the group, and only them', async () => {
      const cat = telegram.user({ id: 2021, first_name: 'Cat' });
      const dan = telegram.user({ id: 2022, first_name: 'Dan' });
      telegram.user({ id: 2023, first_name: 'Eve' });
      const support = { kind: 'group', id: supportId };
      await addByApi('Cat', 2021, support);
      await addByApi('Dan', 2022, support);
      const eve = await addByApi('Eve', 2023, support);
      await send('PATCH', `/api/v1/missed-calls/subscribers/${eve}`, { enabled: false });
      await addByApi('Dan', 2022, { kind: 'extension', id: '102' });

      const off = await send('PUT', `/api/v1/missed-calls/groups/${supportId}/flag`, { notify: false });
      assert.deepEqual(off.body, { id: supportId, notify: false, changed: true });
      for (const user of [cat, dan]) assert.equal((await heard(user, 'Missed-call notices for group')).text, 'Missed-call notices for group "Support" are off.');
      assert.deepEqual(await outboxTexts(2023), ['The administrator has switched off your missed-call notices for group "Support".'], 'Eve, switched off, is not told');
      const unchanged = await send('PUT', `/api/v1/missed-calls/groups/${supportId}/flag`, { notify: false });
      assert.equal(unchanged.body.changed, false);
      assert.equal((await outboxTexts(2021)).length, 1, 'no second message when nothing changed');
      const keys = await send('GET', '/api/v1/missed-calls/keys');
      assert.equal(keys.body.keys.find((k: { kind: string; id: string }) => k.kind === 'group' && k.id === String(supportId)).notify, false);

      // The page's checkbox form switches it on again.
      const on = await submit(`/missed-calls/groups/${supportId}/flag`, { notify: '1' });
      assert.equal(on.status, 302);
      assert.equal(on.location, '/missed-calls?saved#groups');
      assert.equal((await heard(cat, 'Missed-call notices for group "Support" are on')).text, 'Missed-call notices for group "Support" are on.');
      assert.equal((await mod.app.missedCalls.store.groupFlags()).get(supportId), true);
    });

    it('shows "bot blocked by user" once Telegram refused a message to him, and the stored status too', async () => {
      const gus = telegram.user({ id: 2031, first_name: 'Gus' });
      const id = await addByApi('Gus', 2031, { kind: 'extension', id: '102' });
      gus.block();
      await send('PATCH', `/api/v1/missed-calls/subscribers/${id}`, { enabled: false });
      const blocked = await until('the refusal to show', async () => {
        const s = await listed(id);
        return s.display_status === 'bot_blocked' ? s : undefined;
      });
      assert.equal(blocked.status, 'disabled');
      assert.equal(blocked.display_status_text, 'bot blocked by user');
      assert.equal(blocked.refusal.state, 'blocked');
      const row = await mod.app.db('telegram_recipients').where({ bot_id: 'default', chat_id: '2031' }).first();
      assert.equal(blocked.display_status_since, Number(row.updated_at));

      const page = await web.get('/missed-calls');
      const gusRow = new RegExp(`<tr data-subscriber="${id}" data-status="bot_blocked">[\\s\\S]*?bot blocked by user[\\s\\S]*?\\(disabled by admin\\)[\\s\\S]*?</tr>`);
      assert.match(page.text, gusRow);

      // He unblocks; the next message goes through and the mark is gone.
      gus.unblock();
      await send('PATCH', `/api/v1/missed-calls/subscribers/${id}`, { enabled: true });
      await heard(gus, 'The administrator has switched on');
      await until('the mark to clear', async () => ((await listed(id)).display_status === 'on' ? true : undefined));
    });

    it('refuses every route without the bearer token', async () => {
      const routes: [string, string][] = [
        ['GET', '/api/v1/missed-calls/subscribers'],
        ['POST', '/api/v1/missed-calls/subscribers'],
        ['PATCH', '/api/v1/missed-calls/subscribers/1'],
        ['DELETE', '/api/v1/missed-calls/subscribers/1'],
        ['GET', '/api/v1/missed-calls/keys'],
        ['POST', '/api/v1/missed-calls/keys/revoke'],
        ['PUT', `/api/v1/missed-calls/groups/${salesId}/flag`],
      ];
      const anonymous = new WebClient(mod.app.url);
      const before = await mod.app.db('mc_subscribers').count({ n: '*' });
      for (const [method, url] of routes) {
        const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify({ name: 'X', chat_id: 1, scope: { kind: 'group', id: salesId }, kind: 'group', id: salesId, notify: false });
        const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
        assert.equal((await anonymous.request(method, url, body, headers)).status, 401, `${method} ${url}`);
        assert.equal((await anonymous.request(method, url, body, { ...headers, authorization: 'Bearer wrong-token-0123456789' })).status, 401, `${method} ${url} (wrong token)`);
        // The admin's page session is no bearer token either.
        assert.equal((await web.request(method, url, body, headers)).status, 401, `${method} ${url} (page session)`);
      }
      assert.deepEqual(await mod.app.db('mc_subscribers').count({ n: '*' }), before);
      assert.equal((await mod.app.missedCalls.store.groupFlags()).get(salesId), true);
    });
  });

  describe('over the page forms', () => {
    it('shows groups with flag, members and masked key; the full key only where it is handed out', async () => {
      const page = await web.get('/missed-calls');
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('cache-control'), 'no-store', 'the page carries keys');
      const key = await mod.app.missedCalls.store.keyFor({ kind: 'group', id: String(salesId) });
      const row = new RegExp(`<tr data-group="Sales">[\\s\\S]*?</tr>`).exec(page.text)![0];
      assert.match(row, /101, 102/);
      assert.match(row, /<input type="checkbox" name="notify" value="1" checked> Notify about missed calls in Telegram/);
      assert.match(row, new RegExp(`<code class="masked-key"[^>]*>••••${key.slice(-4)}</code>`));
      assert.match(row, new RegExp(`<input type="hidden" id="key-group-${salesId}" value="${key}">`));
      assert.match(row, new RegExp(`<code id="key-group-${salesId}-activate">/activate ${key}</code>`));
      // Nowhere else: strip the hand-out places and the key is gone from the page.
      const rest = page.text
        .replace(`value="${key}"`, '')
        .replace(`/activate ${key}`, '')
        .replaceAll(`https://t.me/tgpbx_missed_bot?start=${key}`, '');
      assert.equal(rest.includes(key), false);
      assert.match(page.text, /<tr data-extension="101">[\s\S]*?101 \(Reception\)/);
      assert.doesNotMatch(page.text, /data-extension="trunk-1"/);
      assert.doesNotMatch(page.text, /TESTmissed/, 'the bot token is never on the page');
      assert.match(page.text, /The bot is <strong>@tgpbx_missed_bot<\/strong>/);
      assert.match(page.text, /<a href="\/missed-calls" aria-current="page">Missed calls<\/a>/);
    });

    it('adds a subscriber, renames him, switches him off and on (he hears both), and removes him', async () => {
      const ben = telegram.user({ id: 2041, first_name: 'Ben' });
      const added = await submit('/missed-calls/subscribers', { name: 'Ben', chat_id: '2041', scope: `group:${salesId}` });
      assert.equal(added.status, 302);
      assert.equal(added.location, '/missed-calls?saved#subscribers');
      const [sub] = (await mod.app.missedCalls.store.subscriptionsOf('2041'));
      assert.deepEqual({ name: sub!.name, scope: sub!.scope, status: sub!.status }, { name: 'Ben', scope: { kind: 'group', id: String(salesId) }, status: 'on' });
      const shown = await web.get('/missed-calls?saved');
      assert.match(shown.text, /<p class="notice" role="status">Saved.<\/p>/);
      assert.match(shown.text, new RegExp(`<tr data-subscriber="${sub!.id}" data-status="on">[\\s\\S]*?<code>2041</code>[\\s\\S]*?group <strong>Sales</strong>[\\s\\S]*?notifications on`));

      assert.equal((await submit(`/missed-calls/subscribers/${sub!.id}/name`, { name: 'Ben (night shift)' })).status, 302);
      assert.equal((await mod.app.missedCalls.store.get(sub!.id))!.name, 'Ben (night shift)');

      assert.equal((await submit(`/missed-calls/subscribers/${sub!.id}/enabled`, { enabled: '0' })).status, 302);
      assert.equal((await heard(ben, 'The administrator has switched off')).text, 'The administrator has switched off your missed-call notices for group "Sales".');
      const off = await mod.app.missedCalls.store.get(sub!.id);
      const when = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Moscow', dateStyle: 'medium', timeStyle: 'short' }).format(new Date(off!.statusChangedAt));
      const page = await web.get('/missed-calls');
      assert.match(page.text, new RegExp(`<tr data-subscriber="${sub!.id}" data-status="disabled">[\\s\\S]*?disabled by admin</span>\\s*<small class="since"><time[^>]*>${when}</time>[\\s\\S]*?Switch on`));

      assert.equal((await submit(`/missed-calls/subscribers/${sub!.id}/enabled`, { enabled: '1' })).status, 302);
      assert.equal((await heard(ben, 'The administrator has switched on')).text, 'The administrator has switched on your missed-call notices for group "Sales".');

      assert.equal((await submit(`/missed-calls/subscribers/${sub!.id}/remove`, {})).status, 302);
      assert.equal(await mod.app.missedCalls.store.get(sub!.id), undefined);
      assert.doesNotMatch((await web.get('/missed-calls')).text, new RegExp(`data-subscriber="${sub!.id}"`));
    });

    it('revokes a key from its form: the old key no longer works, the new one does', async () => {
      const { store } = mod.app.missedCalls;
      const old = await store.keyFor({ kind: 'extension', id: '102' });
      const res = await submit('/missed-calls/keys/revoke', { kind: 'extension', id: '102' });
      assert.equal(res.status, 302);
      assert.equal(res.location, '/missed-calls?saved#extensions');
      assert.equal(await store.scopeOfKey(old), undefined);
      const fresh = await store.keyFor({ kind: 'extension', id: '102' });
      assert.notEqual(fresh, old);
      assert.deepEqual(await store.scopeOfKey(fresh), { kind: 'extension', id: '102' });
      assert.match((await web.get('/missed-calls')).text, new RegExp(`<tr data-extension="102">[\\s\\S]*?••••${fresh.slice(-4)}`));
    });

    it('a bad chat id gets 400 with the message next to the form, the typed values kept', async () => {
      const res = await submit('/missed-calls/subscribers', { name: 'Zed', chat_id: 'zed123', scope: `extension:101` });
      assert.equal(res.status, 400);
      assert.match(res.text, /<div class="field invalid">\s*<label for="add-chat">Chat id<\/label>[\s\S]*?<span class="problem" id="add-chat-problem">This is not a chat id: a chat id is a whole number, negative for a group.</);
      assert.match(res.text, /<input type="text" id="add-name" name="name" value="Zed"/);
      assert.match(res.text, /<a href="\/missed-calls" aria-current="page">Missed calls<\/a>/, 'the sidebar still marks the page');
      assert.match(res.text, /<option value="extension:101" selected>101 \(Reception\)<\/option>/);
      assert.equal((await mod.app.missedCalls.store.subscriptionsOf('zed123')).length, 0);

      const noName = await submit('/missed-calls/subscribers', { name: '', chat_id: '2050', scope: `extension:101` });
      assert.equal(noName.status, 400);
      assert.match(noName.text, /id="add-name-problem">Give the subscriber a name.</);
      const noScope = await submit('/missed-calls/subscribers', { name: 'Zed', chat_id: '2050', scope: 'group:999' });
      assert.equal(noScope.status, 400);
      assert.match(noScope.text, /id="add-scope-problem">There is no such group.</);
      const badSwitch = await submit('/missed-calls/subscribers/1/enabled', { enabled: 'maybe' });
      assert.equal(badSwitch.status, 400);
    });

    it('answers 404 with the page for ids that name nothing', async () => {
      for (const [path, form] of [
        ['/missed-calls/subscribers/999999/enabled', { enabled: '0' }],
        ['/missed-calls/subscribers/999999/name', { name: 'Nobody' }],
        ['/missed-calls/subscribers/999999/remove', {}],
        ['/missed-calls/subscribers/x/remove', {}],
      ] as const) {
        const res = await submit(path, form);
        assert.equal(res.status, 404, path);
        assert.match(res.text, /<p class="error" role="alert">No such subscriber.<\/p>/, path);
      }
      const group = await submit('/missed-calls/groups/999/flag', { notify: '1' });
      assert.equal(group.status, 404);
      assert.match(group.text, /No such group./);
      assert.equal((await submit('/missed-calls/keys/revoke', { kind: 'group', id: '999' })).status, 404);
    });

    it('refuses a form without its CSRF token, and pages without login', async () => {
      const forged = await web.postForm('/missed-calls/subscribers', { name: 'Mallory', chat_id: '2060', scope: `group:${salesId}` });
      assert.equal(forged.status, 403);
      assert.equal((await mod.app.missedCalls.store.subscriptionsOf('2060')).length, 0);
      const stranger = new WebClient(mod.app.url);
      assert.equal((await stranger.get('/missed-calls')).location, '/login?next=%2Fmissed-calls');
    });
  });
});
