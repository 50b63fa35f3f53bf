import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate, openDatabase, type Database } from '../../src/storage/database.js';

/**
 * Which database the tests run the module on. `TGPBX_TEST_DB=pg` (with TGPBX_TEST_PG_URL
 * naming a server and a user that may create databases, e.g.
 * postgres://tgpbx_ci:tgpbx-ci@127.0.0.1:5432) runs them on PostgreSQL: every data
 * directory gets a database of its own, created on first use and keyed on the directory,
 * so a module restarted on the same data dir finds its data again. Files (sessions, the
 * dialplan include) still go to the data directory. Default: the SQLite file in the data dir.
 */
export const onPostgres = process.env.TGPBX_TEST_DB === 'pg';
const serverUrl = (process.env.TGPBX_TEST_PG_URL ?? '').replace(/\/+$/, '');
/** On PostgreSQL: the URL of a database that does not exist on the test server. */
export const missingDatabaseUrl = `${serverUrl}/tgpbx_no_such_database`;
if (onPostgres && !serverUrl) throw new Error('TGPBX_TEST_DB=pg needs TGPBX_TEST_PG_URL (postgres://user:password@host:port of a user that may create databases)');

const PREFIX = 'tgpbx_t_';
/** Databases this process created, by data directory. */
const created = new Map<string, string>();

function nameFor(dataDir: string): string {
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return `${PREFIX}${process.pid}_${hash}`;
}

async function onServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A database migrated once per run, which the tests' databases are copied from: a copy
 * costs about half of creating a database and migrating it.
 */
let template: Promise<string> | null = null;
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const name = `${PREFIX}${process.pid}_template`;
    await onServer(async (c) => {
      await dropDatabase(c, name);
      await c.query(`create database "${name}"`);
    });
    const db = await openDatabase({ dataDir: os.tmpdir(), databaseUrl: `${serverUrl}/${name}`, migrate: false });
    try {
      await migrate(db);
    } finally {
      await db.destroy(); // a template may have no sessions while it is copied
    }
    return name;
  })();
  return template;
}

/**
 * The TGPBX_DATABASE_URL for this data directory: null on SQLite; on PostgreSQL its own
 * database, created on first use (migrated already, or `empty`).
 */
export async function testDatabaseUrl(dataDir: string, opts: { empty?: boolean } = {}): Promise<string | null> {
  if (!onPostgres) return null;
  const key = path.resolve(dataDir);
  let name = created.get(key);
  if (!name) {
    name = nameFor(key);
    const dbName = name;
    const from = opts.empty ? null : await migratedTemplate();
    await onServer(async (c) => {
      const exists = await c.query('select 1 from pg_database where datname = $1', [dbName]);
      if (exists.rowCount === 0) await c.query(`create database "${dbName}"${from ? ` template "${from}"` : ''}`);
    });
    created.set(key, name);
  }
  return `${serverUrl}/${name}`;
}

/** Environment for a module (or a child process) on this data directory: TGPBX_DATABASE_URL on PostgreSQL, nothing on SQLite. */
export async function testDatabaseEnv(dataDir: string): Promise<Record<string, string>> {
  const url = await testDatabaseUrl(dataDir);
  return url ? { TGPBX_DATABASE_URL: url } : {};
}

/**
 * Opens (and migrates, unless told not to) the database the module on this data directory
 * uses. `empty`: on PostgreSQL, a database no migration ran on yet (as a new SQLite file).
 */
export async function openTestDatabase(dataDir: string, opts: { migrate?: boolean; empty?: boolean } = {}): Promise<Database> {
  return openDatabase({ dataDir, databaseUrl: await testDatabaseUrl(dataDir, { empty: opts.empty }), migrate: opts.migrate });
}

/** Drops the data directory's PostgreSQL database (no-op on SQLite or when none was made). */
export async function dropTestDatabase(dataDir: string): Promise<void> {
  const key = path.resolve(dataDir);
  const name = created.get(key);
  if (!name) return;
  created.delete(key);
  await onServer((c) => dropDatabase(c, name));
}

async function dropDatabase(c: pg.Client, name: string): Promise<void> {
  try {
    // Waits a few seconds for closing sessions and cancels autovacuum; WITH (FORCE) would
    // refuse to terminate an autovacuum worker (it belongs to no role) without superuser.
    await c.query(`drop database if exists "${name}"`);
  } catch (err) {
    // 55006: still in use, e.g. by a session of a child process the test killed.
    if ((err as { code?: string }).code !== '55006') throw err;
    await c.query(`drop database if exists "${name}" with (force)`);
  }
}

/** Drops the databases whose data directory is gone (the test removed it), or all of them and the template. */
export async function dropTestDatabases(opts: { all?: boolean } = {}): Promise<void> {
  for (const dir of [...created.keys()]) if (opts.all || !fs.existsSync(dir)) await dropTestDatabase(dir);
  if (opts.all && template) {
    const name = await template.catch(() => null);
    template = null;
    if (name) await onServer((c) => dropDatabase(c, name));
  }
}

/** Drops databases left by earlier runs that died before cleaning up (their process is gone). */
export async function dropStaleTestDatabases(): Promise<void> {
  if (!onPostgres) return;
  await onServer(async (c) => {
    const rows = await c.query<{ datname: string }>(`select datname from pg_database where datname like '${PREFIX}%'`);
    for (const { datname } of rows.rows) {
      const pid = Number(/^tgpbx_t_(\d+)_/.exec(datname)?.[1]);
      if (!pid || pid === process.pid || processAlive(pid)) continue;
      await dropDatabase(c, datname);
    }
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
