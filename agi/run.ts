/**
 * The process behind the AGI scripts in this folder: `agi/<handler>` (a small sh wrapper)
 * runs `node --import tsx agi/run.ts <handler>` from tgpbx's folder, whatever Asterisk's
 * working directory. stdin/stdout carry AGI; log lines go to stderr.
 */
import { runAgiScript } from '../src/pbx/agi-script.js';

const handlerName = process.argv[2] ?? '';
// Asterisk sends SIGHUP when the channel hangs up (unless AGISIGHUP=no): note it, do not die.
const onHangupSignal = (listener: () => void) => process.on('SIGHUP', listener);

runAgiScript({ handlerName, env: process.env, input: process.stdin, output: process.stdout, logOutput: process.stderr, onHangupSignal })
  .catch((err: unknown) => process.stderr.write(`tgpbx AGI ${handlerName}: ${(err as Error)?.message ?? String(err)}\n`))
  .finally(() => {
    // Asterisk goes on with the dialplan when the script's stdout closes: leave now.
    process.stdin.destroy();
    process.exit(0);
  });
