import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.js';
import { SecretScrubber } from './secret-scrubber.js';

export type { Logger } from 'pino';

/** Where log lines go; anything with a write(string) method (stdout, a test buffer). */
export interface LogSink {
  write(line: string): unknown;
}

/**
 * Creates the module's logger: JSON lines (pino), with every line passed through the
 * secret scrubber before it is written, so no token or password reaches a log file even
 * when it hides inside an error message from a library.
 */
export function createLogger(opts: { level: LogLevel; scrubber: SecretScrubber; sink?: LogSink }): Logger {
  const sink = opts.sink ?? process.stdout;
  const scrubbing = { write: (line: string) => sink.write(opts.scrubber.scrub(line)) };
  return pino(
    {
      level: opts.level,
      base: { module: 'tgpbx' },
      redact: {
        paths: ['token', 'secret', 'password', 'apiHash', '*.token', '*.secret', '*.password', '*.apiHash', 'headers.authorization', 'headers.cookie'],
        censor: '<secret>',
      },
    },
    scrubbing,
  );
}
