import assert from 'node:assert/strict';
import { AmiServer } from '../support/ami-server.js';
import { BotApiServer } from '../support/bot-api-server.js';
import { startModule, waitForLight, type TestModule, until } from '../support/module.js';
import { WebClient } from '../support/web-client.js';

const BOT_TOKEN = '555666777:TESTsecretTokenAbcdefghijklmnopqrstuv';
const REFUSED_TOKEN = '555666778:TESTrefusedTokenAbcdefghijklmnopqrstu';
const ADMIN_PASSWORD = 'Admin-Password-Never-Shown';
const ADMIN_TOKEN = 'Admin-Api-Token-Never-Shown-42';
const AMI_SECRET = 'Ami-Secret-Never-Shown';

describe('secrets stay secret', () => {
  let ami: AmiServer;
  let telegram: BotApiServer;
  let mod: TestModule;

  before(async () => {
    ami = await AmiServer.start({ username: 'tgpbx', secret: AMI_SECRET });
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: BOT_TOKEN, username: 'tgpbx_secret_bot' });
    telegram.user({ id: 1001, first_name: 'Ann' }).block();
  });
  after(async () => {
    await mod?.close();
    await ami.stop();
    await telegram.stop();
  });

  it('no bot token, password, AMI secret or API token appears in logs, pages or API answers', async () => {
    mod = await startModule(
      { TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_ADMIN_TOKEN: ADMIN_TOKEN, TGPBX_LOG_LEVEL: 'trace' },
      { outboxRetry: { initialMs: 5, maxMs: 10 } },
    );
    const { app } = mod;
    const web = new WebClient(app.url);
    const bodies: string[] = [];
    const keep = async (p: Promise<{ text: string }>) => bodies.push((await p).text);

    await keep(web.setUp(ADMIN_PASSWORD));
    await keep(web.get('/login'));
    const wrong = new WebClient(app.url);
    await keep(wrong.logIn(ADMIN_PASSWORD + '-wrong'));

    // a refused token first (error paths log), then the good one, then failing sends
    let _csrf = await web.csrfFrom('/settings');
    await keep(web.postForm('/settings', { _csrf, 'telegram.bot_token': REFUSED_TOKEN }));
    await waitForLight(app.status, 'bot:default', 'red');
    _csrf = await web.csrfFrom('/settings');
    await keep(web.postForm('/settings', { _csrf, 'telegram.bot_token': BOT_TOKEN }));
    await waitForLight(app.status, 'bot:default', 'green');
    await waitForLight(app.status, 'ami', 'green');
    telegram.failNext('sendMessage', { status: 500, description: 'Internal Server Error' });
    telegram.dropNext('sendMessage');
    await app.outbox.enqueue(app.db, { key: 's:1', chatId: 1001, method: 'sendMessage', params: { text: 'to a user who blocked us' } });
    await until('the message refused', async () => (await app.outbox.find('s:1'))?.status === 'failed');

    for (const page of ['/status', '/settings', '/settings?saved', '/health', '/metrics']) await keep(web.get(page));
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const api of ['/api/v1/status', '/api/v1/settings']) await keep(web.get(api, auth));
    await keep(web.get('/api/v1/status', { authorization: 'Bearer Wrong-Token-Wrong-Token' }));

    const logs = mod.logs.text;
    assert.ok(logs.split('\n').length > 5, 'the module logged something to search');
    const stored = JSON.stringify(await app.db('outbox').select('last_error'));
    // the network error quoted the request URL; what was logged (and stored in the row) is masked
    assert.match(logs, /network error: .*<bot-token ••••stuv>/);
    const everything = logs + bodies.join('\n') + stored;
    for (const secret of [BOT_TOKEN, REFUSED_TOKEN, BOT_TOKEN.split(':')[1]!, ADMIN_PASSWORD, ADMIN_TOKEN, AMI_SECRET]) {
      assert.ok(!everything.includes(secret), `a secret leaked: ${secret.slice(0, 12)}…`);
    }
    assert.match(bodies.join('\n'), /••••stuv/, 'the settings page shows the stored token masked');
  });
});
