import assert from 'node:assert/strict';
import fs from 'node:fs';
import { openDatabase } from '../../src/storage/database.js';
import { onPostgres, openTestDatabase } from '../support/database.js';
import { migrations } from '../../src/storage/migrations/index.js';
import { tempDataDir } from '../support/module.js';

describe('storage (the embedded SQLite file; PostgreSQL on the pg pass)', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = tempDataDir()));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('opens with WAL, foreign keys and a busy timeout', async function () {
    if (onPostgres) this.skip(); // SQLite pragmas
    const db = await openDatabase({ dataDir, databaseUrl: null });
    try {
      const [mode] = await db.raw('PRAGMA journal_mode');
      const [fk] = await db.raw('PRAGMA foreign_keys');
      const [busy] = await db.raw('PRAGMA busy_timeout');
      assert.deepEqual([mode.journal_mode, fk.foreign_keys, busy.timeout], ['wal', 1, 5000]);
    } finally {
      await db.destroy();
    }
  });

  it('applies every migration once, in order, and again finds nothing to do', async () => {
    let db = await openTestDatabase(dataDir, { empty: true });
    const applied = await db('tgpbx_migrations').orderBy('id').pluck('name');
    assert.deepEqual(applied, migrations.map((m) => m.name));
    await db.destroy();
    db = await openTestDatabase(dataDir);
    assert.equal((await db('tgpbx_migrations').count({ n: '*' }))[0]!.n, migrations.length);
    for (const table of ['settings', 'admin_sessions', 'outbox', 'telegram_recipients']) assert.ok(await db.schema.hasTable(table), table);
    await db.destroy();
  });
});
