import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConfigError, loadConfig, type LogLevel } from '../config.js';
import { createLogger, type Logger } from '../log/logger.js';
import { SecretScrubber } from '../log/secret-scrubber.js';
import { openDatabase, type Database } from '../storage/database.js';
import { AgiChannel, type AgiLimits } from './agi-channel.js';
import { createAgiHandlers } from './agi-handlers/index.js';
import type { TelegramChannelRecorder } from './agi-handlers/tg-callerid.js';
import { runAgiSession, type AgiSessionReport } from './agi-session.js';
import { RouteGuard } from './route-guard.js';
import { TelegramChannelStore } from './telegram-channel-store.js';

/** The process around one AGI script run: its streams, environment and signals. */
export interface AgiScriptOptions {
  /** The hook to run (the script's name: `tg-callerid`, `route-guard`). */
  handlerName: string;
  /** Asterisk's environment of the script (TGPBX_* variables say where the database is). */
  env: NodeJS.ProcessEnv;
  /** The script's stdin (from Asterisk) and stdout (to Asterisk). */
  input: Readable;
  output: Writable;
  /** Where log lines go (stderr: stdout belongs to AGI). */
  logOutput: Writable;
  /** Registers the SIGHUP listener Asterisk's hang-up notice arrives by. */
  onHangupSignal?: (listener: () => void) => void;
  limits?: Partial<AgiLimits>;
  sessionTimeoutMs?: number;
}

/**
 * Runs one dialplan hook as a plain AGI script over stdin/stdout, for PBXs where FastAGI
 * is not wanted: the same handlers as the FastAGI server, the daemon's database opened
 * without migrating. Whatever goes wrong (bad configuration, no database, bad input, a
 * hang-up) the conversation ends, one line goes to stderr, and Asterisk goes on with the
 * dialplan. Resolves with the session report (null when the configuration is unusable).
 */
export async function runAgiScript(opts: AgiScriptOptions): Promise<AgiSessionReport | null> {
  let config;
  try {
    config = loadConfig(opts.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    opts.logOutput.write(`tgpbx AGI ${opts.handlerName}: ${err.message}\n`);
    return null;
  }
  const scrubber = new SecretScrubber();
  scrubber.add(config.databaseUrl ? new URL(config.databaseUrl).password : null);
  const logger = createLogger({ level: scriptLogLevel(config.logLevel), scrubber, sink: opts.logOutput }).child({ agi: opts.handlerName });
  const { recorder, db } = await openRecorder(config, logger);
  try {
    const channel = new AgiChannel(opts.input, opts.output, opts.limits);
    opts.onHangupSignal?.(() => channel.markHungUp());
    const handlers = createAgiHandlers({ telegramChannels: recorder, routeGuard: new RouteGuard({ logger }) });
    return await runAgiSession(channel, { handlers, logger, handlerName: opts.handlerName, sessionTimeoutMs: opts.sessionTimeoutMs });
  } finally {
    await db?.destroy().catch(() => undefined);
  }
}

/** Scripts run once per call: they log warnings and errors only, unless debugging was asked for. */
function scriptLogLevel(level: LogLevel): LogLevel {
  return level === 'debug' || level === 'trace' || level === 'silent' || level === 'error' || level === 'fatal' ? level : 'warn';
}

/**
 * The daemon's TelegramChannelStore, or (no database yet, or it cannot be opened) a
 * recorder that fails with the reason: the caller ID is still set, the failure logged once.
 */
async function openRecorder(config: ReturnType<typeof loadConfig>, logger: Logger): Promise<{ recorder: TelegramChannelRecorder; db: Database | null }> {
  const file = path.join(config.dataDir, 'tgpbx.sqlite');
  if (!config.databaseUrl && !fs.existsSync(file)) {
    return { recorder: unavailable(`tgpbx's database is not at ${file}: start the tgpbx daemon once, or set TGPBX_DATA_DIR for the AGI scripts`), db: null };
  }
  try {
    const db = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, migrate: false });
    return { recorder: new TelegramChannelStore(db), db };
  } catch (err) {
    logger.debug({ err: (err as Error).message }, 'could not open the database');
    return { recorder: unavailable(`could not open tgpbx's database: ${(err as Error).message}`), db: null };
  }
}

function unavailable(reason: string): TelegramChannelRecorder {
  return {
    remember: () => Promise.reject(new Error(reason)),
  };
}
