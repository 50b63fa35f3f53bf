import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { dropTestDatabase, testDatabaseEnv } from './database.js';

/** Collects every log line the module writes, to assert on (and to grep for secrets). */
export class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
}

/** A fresh, empty data directory for one test. */
export function tempDataDir(prefix = 'tgpbx-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestModule {
  app: App;
  logs: LogCapture;
  dataDir: string;
  /** Stops the module and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Starts the real module (createApp + start, as main.ts does) on port 0 with a temp data
 * directory and the given environment, its log captured. Pass `dataDir` to reuse one.
 * With TGPBX_TEST_DB=pg the module runs on a PostgreSQL database of the data directory's
 * own (test/support/database.ts), unless `env` names a TGPBX_DATABASE_URL.
 */
export async function startModule(env: Record<string, string> = {}, opts: AppOptions & { dataDir?: string; start?: boolean } = {}): Promise<TestModule> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const logs = new LogCapture();
  // Bot API root defaults to a closed local port: tests never reach out to api.telegram.org.
  // HTTP and FastAGI listen on free ports.
  const database = 'TGPBX_DATABASE_URL' in env ? {} : await testDatabaseEnv(dataDir);
  const config = loadConfig({ TGPBX_DATA_DIR: dataDir, TGPBX_HTTP_PORT: '0', TGPBX_FASTAGI_PORT: '0', TGPBX_LOG_LEVEL: 'debug', TGPBX_BOT_API_ROOT: 'http://127.0.0.1:9', ...database, ...env });
  const app = await createApp(config, { logSink: logs, ...opts });
  if (opts.start !== false) await app.start();
  return {
    app,
    logs,
    dataDir,
    async close() {
      await app.stop();
      if (!opts.dataDir) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        await dropTestDatabase(dataDir);
      }
    },
  };
}

/** Resolves when `emitter` emits `event` with arguments accepted by `accept` (default: any). */
export function nextEvent<T extends unknown[]>(
  emitter: { on(e: string, l: (...a: T) => void): unknown; off(e: string, l: (...a: T) => void): unknown },
  event: string,
  accept: (...args: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const listener = (...args: T) => {
      if (!accept(...args)) return;
      emitter.off(event, listener);
      resolve(args);
    };
    emitter.on(event, listener);
  });
}

/** Resolves when the status board shows `light` for component `id` (at once if it already does). */
export function waitForLight(status: import('../../src/status/status-board.js').StatusBoard, id: string, light: string): Promise<void> {
  if (status.get(id)?.light === light) return Promise.resolve();
  return nextEvent(status, 'change', (s: { id: string; light: string }) => s.id === id && s.light === light).then(() => undefined);
}

/**
 * Polls a condition on state another component changes (a table the module fills), every
 * 10 ms, failing with `what` after `timeoutMs`; resolves with the first truthy value.
 * For things that announce themselves, wait for their event instead.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once the module has stored at least `n` calls. */
export function callsStored(app: App, n: number): Promise<true> {
  return until(`${n} stored calls`, async () => Number((await app.db('calls').count({ n: '*' }))[0]!.n) >= n);
}

/** Resolves once the call of this Linkedid is stored (with whatever its hooks enqueued). */
export function callStored(app: App, linkedid: string): Promise<true> {
  return until(`call ${linkedid} stored`, async () => Boolean(await app.db('calls').where({ linkedid }).first()));
}

/** Resolves once the outbox has nothing left to send. */
export function outboxDrained(app: App): Promise<true> {
  return until('an empty outbox', async () => (await app.outbox.counts()).pending === 0);
}

/**
 * Calls the module's /api/v1 in process (fastify inject) as the admin with `token`: the
 * status and the JSON body. A string body goes as it is (CSV uploads), with `contentType`.
 */
export function adminApi(app: App, token: string) {
  return async (method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', url: string, body?: unknown, contentType = 'application/json') => {
    const res = await app.web.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : undefined };
  };
}
