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
/** Databases this process handed out, by data directory; `recyclable`: a copy of the template. */
const created = new Map<string, { name: string; recyclable: boolean }>();
let serial = 0;
const nextName = () => `${PREFIX}${process.pid}_${++serial}`;

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
/** The template's columns, to tell a database a test changed the schema of (it is dropped, not reused). */
let templateSchema = '';
const SCHEMA_FINGERPRINT = `select md5(coalesce(string_agg(table_name || '.' || column_name || ':' || data_type, ',' order by table_name, column_name), '')) as schema
  from information_schema.columns where table_schema = current_schema()`;
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
      templateSchema = (await db.raw(SCHEMA_FINGERPRINT)).rows[0].schema;
    } finally {
      await db.destroy(); // a template may have no sessions while it is copied
    }
    return name;
  })();
  return template;
}

/** Databases back in the template's state (emptied after their test), ready to be handed out again. */
const free: string[] = [];

/**
 * The TGPBX_DATABASE_URL for this data directory: null on SQLite; on PostgreSQL its own
 * database, made on first use (migrated already, or `empty`), the same one for as long
 * as the directory is in use (a module restarted on it finds its data).
 */
export async function testDatabaseUrl(dataDir: string, opts: { empty?: boolean } = {}): Promise<string | null> {
  if (!onPostgres) return null;
  const key = path.resolve(dataDir);
  let entry = created.get(key);
  if (!entry) {
    let name = opts.empty ? undefined : free.pop();
    if (!name) {
      const from = opts.empty ? null : await migratedTemplate();
      const dbName = (name = nextName());
      await onServer((c) => c.query(`create database "${dbName}"${from ? ` template "${from}"` : ''}`));
    }
    entry = { name, recyclable: !opts.empty };
    created.set(key, entry);
  }
  return `${serverUrl}/${entry.name}`;
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

/**
 * Gives up the data directory's PostgreSQL database (no-op on SQLite or when none was
 * made): emptied for the next test (a copy of the template costs ~0.3 s, emptying ~10 ms),
 * or dropped when a session still uses it or it did not come from the template.
 */
export async function dropTestDatabase(dataDir: string): Promise<void> {
  const key = path.resolve(dataDir);
  const entry = created.get(key);
  if (!entry) return;
  created.delete(key);
  if (entry.recyclable && (await emptied(entry.name))) free.push(entry.name);
  else await onServer((c) => dropDatabase(c, entry.name));
}

/**
 * Deletes every row but the migrations' and restarts the sequences; false when another
 * session uses the database or its schema is no longer the template's.
 */
async function emptied(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: `${serverUrl}/${name}` });
  await client.connect();
  try {
    const others = await client.query('select 1 from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    if (others.rowCount) return false;
    if ((await client.query<{ schema: string }>(SCHEMA_FINGERPRINT)).rows[0]!.schema !== templateSchema) return false;
    // Every foreign key cascades (or sets null), so the order of the deletes does not matter.
    await client.query(`do $$ declare r record; begin
      for r in select tablename from pg_tables where schemaname = current_schema() and tablename not like 'tgpbx_migrations%' loop
        execute format('delete from %I', r.tablename);
      end loop;
      for r in select sequence_name from information_schema.sequences where sequence_schema = current_schema() and sequence_name not like 'tgpbx_migrations%' loop
        execute format('alter sequence %I restart', r.sequence_name);
      end loop;
    end $$`);
    return true;
  } finally {
    await client.end();
  }
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

/** Gives up the databases whose data directory is gone (the test removed it); `all`: drops every one, and the template. */
export async function dropTestDatabases(opts: { all?: boolean } = {}): Promise<void> {
  for (const dir of [...created.keys()]) if (opts.all || !fs.existsSync(dir)) await dropTestDatabase(dir);
  if (!opts.all) return;
  const template_ = await template?.catch(() => null);
  template = null;
  for (const name of [...free.splice(0), ...(template_ ? [template_] : [])]) await onServer((c) => dropDatabase(c, name));
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
