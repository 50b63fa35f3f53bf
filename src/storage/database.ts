import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { migrations } from './migrations/index.js';

export type Database = Knex;

/**
 * Opens tgpbx's database: the embedded SQLite file `<dataDir>/tgpbx.sqlite` by default
 * (WAL journal, foreign keys on, busy timeout), or PostgreSQL when a URL is given.
 * Runs pending migrations before returning (unless `migrate` is false).
 */
export async function openDatabase(opts: { dataDir: string; databaseUrl: string | null; migrate?: boolean }): Promise<Database> {
  const db = opts.databaseUrl ? openPostgres(opts.databaseUrl) : openSqlite(opts.dataDir);
  try {
    // The AGI scripts open the daemon's database without migrating (the daemon owns the schema).
    if (opts.migrate !== false) await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

function openSqlite(dataDir: string): Database {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  const filename = path.join(dataDir, 'tgpbx.sqlite');
  return knexFactory({
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      // One connection: SQLite serialises writers anyway, and one connection keeps
      // transactions from waiting on each other's locks.
      min: 1,
      max: 1,
      afterCreate(conn: { exec(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;', (err) => done(err, conn));
      },
    },
  });
}

function openPostgres(url: string): Database {
  // Timestamps are stored as bigint milliseconds; read them back as numbers, not strings.
  pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  return knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 10 } });
}

/** Applies every migration not yet applied, in order. Migrations are code, listed in migrations/index.ts. */
export async function migrate(db: Database): Promise<void> {
  await db.migrate.latest({
    tableName: 'tgpbx_migrations',
    migrationSource: {
      getMigrations: async () => migrations.map((m) => m.name),
      getMigrationName: (name: string) => name,
      getMigration: async (name: string) => {
        const found = migrations.find((m) => m.name === name);
        if (!found) throw new Error(`unknown migration ${name}`);
        return found;
      },
    },
  });
}

/**
 * `text` cut to the width of its varchar(max) column, in characters (code points) as
 * PostgreSQL counts them: PostgreSQL refuses a longer value (and the whole transaction with
 * it) where SQLite stores it whole. For text from outside (Asterisk, Telegram).
 */
export function fitColumn<T extends string | null | undefined>(text: T, max: number): T {
  if (typeof text !== 'string' || text.length <= max) return text;
  return [...text].slice(0, max).join('') as T;
}

/** True when the database answers a trivial query; used by /health and the status light. */
export async function databaseAnswers(db: Database): Promise<boolean> {
  try {
    await db.raw('select 1 as ok');
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `db` (or a transaction) talks to PostgreSQL. There transactions run in parallel,
 * so read-then-write steps need a lock that SQLite's single connection makes unnecessary.
 */
export function onPostgres(db: Knex): boolean {
  return db.client.config.client === 'pg';
}
