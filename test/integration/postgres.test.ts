import assert from 'node:assert/strict';
import path from 'node:path';
import knexFactory from 'knex';
import { AmiServer } from '../support/ami-server.js';
import { AMI_FIXTURES } from '../support/ami-fixtures.js';
import { BotApiServer } from '../support/bot-api-server.js';
import { loadAmiEvents } from '../support/ami-fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { startModule, waitForLight, callsStored, callStored, outboxDrained } from '../support/module.js';

/**
 * The module on PostgreSQL instead of the embedded SQLite file. Runs when
 * TGPBX_TEST_PG_URL names a server and a user that may create databases (.ci/run sets
 * one up); each run gets a database of its own, dropped afterwards.
 */
const serverUrl = process.env.TGPBX_TEST_PG_URL;
const TOKEN = '123456789:TESTpostgresAbcdefghijklmnopqrstuvwx';

(serverUrl ? describe : describe.skip)('on PostgreSQL (TGPBX_TEST_PG_URL)', function () {
  this.timeout(60_000);
  const dbName = `tgpbx_test_${process.pid}_${Date.now()}`;
  const admin = () => knexFactory({ client: 'pg', connection: `${serverUrl}/postgres`, pool: { min: 0, max: 1 } });

  before(async () => {
    const k = admin();
    await k.raw(`create database ${dbName}`);
    await k.destroy();
  });
  after(async () => {
    const k = admin();
    await k.raw(`drop database if exists ${dbName}`);
    await k.destroy();
  });

  it('migrates, folds and stores calls, and sends missed-call notices through the outbox', async () => {
    const ami = await AmiServer.start();
    const telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: TOKEN, username: 'tgpbx_pg_bot' });
    const ann = telegram.user({ id: 1001, first_name: 'Ann' });
    const mod = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot, TGPBX_DATABASE_URL: `${serverUrl}/${dbName}` }, { start: false, callSettleMs: 0 });
    try {
      await mod.app.settings.update({ 'telegram.bot_token': TOKEN, 'telegram.rate.private_chat_per_second': 1000 });
      await mod.app.start();
      assert.match(mod.app.status.get('database')!.detail, /PostgreSQL/);
      await waitForLight(mod.app.status, 'ami', 'green');
      await waitForLight(mod.app.status, 'bot:default', 'green');
      const sales = await mod.app.calls.directory.saveGroup({ name: 'Sales', members: ['101', '102'] });
      const key = await mod.app.missedCalls.store.keyFor({ kind: 'group', id: String(sales) });
      ann.send(`/activate ${key}`);
      await ann.waitForMessage((m) => m.text?.startsWith('Done') ?? false);
      await ami.replay(path.join(AMI_FIXTURES, 'burst.ami'), { timing: 'fast' });
      await ami.replay(path.join(AMI_FIXTURES, 'burst.ami'), { timing: 'fast' }); // a replay changes nothing
      await callsStored(mod.app, 20);
      await outboxDrained(mod.app);
      assert.equal((await mod.app.calls.history.list({ disposition: 'missed' })).length, 11);
      assert.equal((await mod.app.calls.history.list({ groupId: sales })).length, 20);
      assert.equal(ann.inbox().filter((m) => m.text?.startsWith('📞')).length, 11);
      assert.equal(await mod.app.missedCalls.notifier.setGroupFlag(sales, false), true);
      await ann.waitForMessage((m) => m.text === 'Missed-call notices for group "Sales" are off.');
    } finally {
      await mod.close();
      await telegram.stop();
      await ami.stop();
    }
  });

  it('journals a call in progress and restores it at the next start (bigint columns, multi-row insert, cleanup)', async () => {
    const env = { TGPBX_DATABASE_URL: `${serverUrl}/${dbName}` };
    const clock = new ManualClock();
    const events = loadAmiEvents('missed-call.ami');
    const cut = events.findIndex((e) => e.event === 'DialEnd');
    const first = await startModule(env, { clock, callSettleMs: 1500 });
    try {
      for (const e of events.slice(0, cut)) first.app.calls.tracker.handle(e);
      await first.app.calls.journal.flushed();
      assert.ok((await first.app.calls.journal.count()) > 0);
    } finally {
      await first.close();
    }
    const second = await startModule(env, { clock, callSettleMs: 1500 });
    try {
      assert.equal(second.app.calls.tracker.active, 1, 'restored from the journal');
      for (const e of events.slice(cut)) second.app.calls.tracker.handle(e);
      clock.advance(1500);
      await callStored(second.app, '1795331344.0');
      const call = await second.app.db('calls').where({ linkedid: '1795331344.0' }).first();
      assert.deepEqual([call.disposition, Boolean(call.partial), call.ring_seconds], ['missed', false, 10]);
      assert.equal(await second.app.calls.journal.count(), 0);
    } finally {
      await second.close();
    }
  });
});
