import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TelegramChannelStore } from '../../src/pbx/telegram-channel-store.js';
import type { Database } from '../../src/storage/database.js';
import { openTestDatabase } from '../support/database.js';
import { tempDataDir } from '../support/module.js';

const channel = (n: number, user = '123456789') => ({
  uniqueid: `1795331409.${n}`,
  channel: `PJSIP/tgpbx-line-1-0000000${n}`,
  linkedid: `1795331409.${n}`,
  telegramUserId: user,
  telegramUsername: 'alice_tg',
  phone: '+79990001122',
  lineId: 1,
});

describe('Telegram channel records (table telegram_channels)', () => {
  let dataDir: string;
  let db: Database;
  let now: number;
  let store: TelegramChannelStore;

  beforeEach(async () => {
    dataDir = tempDataDir();
    db = await openTestDatabase(dataDir);
    now = 1_795_331_409_000;
    store = new TelegramChannelStore(db, 3_600_000, () => now);
  });
  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('remembers a channel for the duration of the call and forgets it at Hangup', async () => {
    const record = await store.remember(channel(1));
    assert.equal(record.expiresAt, now + 3_600_000);
    assert.deepEqual(await store.byUniqueid('1795331409.1'), record);
    assert.equal(await store.forget('1795331409.1'), true);
    assert.equal(await store.forget('1795331409.1'), false);
    assert.equal(await store.byUniqueid('1795331409.1'), undefined);
  });

  it('never returns an expired record, and purges expired records', async () => {
    await store.remember(channel(1));
    now += 3_600_000;
    assert.equal(await store.byUniqueid('1795331409.1'), undefined);
    assert.deepEqual(await store.byTelegramUser('123456789'), []);
    assert.equal(await store.purgeExpired(), 1);
  });

  it('lists a user\'s live channels newest first, and refreshes a channel remembered twice', async () => {
    await store.remember(channel(1));
    now += 1_000;
    await store.remember(channel(2));
    await store.remember(channel(3, '42'));
    assert.deepEqual((await store.byTelegramUser('123456789')).map((c) => c.uniqueid), ['1795331409.2', '1795331409.1']);
    now += 10_000;
    await store.remember({ ...channel(1), lineId: 2 });
    const again = await store.byUniqueid('1795331409.1');
    assert.equal(again?.lineId, 2);
    assert.equal(again?.expiresAt, now + 3_600_000);
  });

  it('group-commits concurrent writes, the same channel twice in one batch included', async () => {
    const writes = Array.from({ length: 120 }, (_, i) => store.remember(channel(i % 100)));
    await Promise.all(writes);
    assert.equal(Number((await db('telegram_channels').count({ n: '*' }))[0]!.n), 100);
  });

  it('a failed write rejects every remember of its batch', async () => {
    await db.schema.dropTable('telegram_channels');
    const results = await Promise.allSettled([store.remember(channel(1)), store.remember(channel(2))]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  });
});
