import { ConfigError, loadConfig } from './config.js';
import { createApp } from './app.js';

/** How long a shutdown may take before the process leaves anyway (undelivered messages stay queued). */
const STOP_DEADLINE_MS = 9_000;

/**
 * `npm start`: reads the environment, starts tgpbx, and stops it cleanly on SIGTERM/SIGINT.
 * Exit codes: 0 after a clean stop, 78 (EX_CONFIG) for a bad configuration, 1 for a failed start.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(78);
    }
    throw err;
  }
  const app = await createApp(config);
  // A background task that failed where nobody awaited it is a bug, but one failed task must
  // not take down every notification and call of the PBX with it: logged, tgpbx goes on.
  process.on('unhandledRejection', (reason) => {
    app.logger.error({ reason: reason instanceof Error ? reason.message : String(reason) }, 'a background task failed (a bug: please report it); tgpbx goes on');
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutdown requested');
    const deadline = setTimeout(() => {
      app.logger.warn('shutdown took too long; leaving now (queued messages stay in the outbox)');
      process.exit(0);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    app.stop().then(
      () => process.exit(0),
      (err: Error) => {
        app.logger.error({ err: err.message }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await app.start();
  } catch (err) {
    app.logger.fatal({ err: (err as Error).message }, 'tgpbx could not start');
    await app.stop().catch(() => undefined);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tgpbx failed: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
