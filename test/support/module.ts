import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

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
 */
export async function startModule(env: Record<string, string> = {}, opts: AppOptions & { dataDir?: string; start?: boolean } = {}): Promise<TestModule> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const logs = new LogCapture();
  // Bot API root defaults to a closed local port: tests never reach out to api.telegram.org.
  // HTTP and FastAGI listen on free ports.
  const config = loadConfig({ TGPBX_DATA_DIR: dataDir, TGPBX_HTTP_PORT: '0', TGPBX_FASTAGI_PORT: '0', TGPBX_LOG_LEVEL: 'debug', TGPBX_BOT_API_ROOT: 'http://127.0.0.1:9', ...env });
  const app = await createApp(config, { logSink: logs, ...opts });
  if (opts.start !== false) await app.start();
  return {
    app,
    logs,
    dataDir,
    async close() {
      await app.stop();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
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
