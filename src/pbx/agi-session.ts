import type { Logger } from '../log/logger.js';
import type { AgiChannel } from './agi-channel.js';
import { AgiError, type AgiFailureKind } from './agi-errors.js';
import { agiRoute, type AgiEnvironment } from './agi-protocol.js';
import type { AgiHandlerRegistry } from './agi-handlers/agi-handler.js';

/** How one AGI conversation ended. `ok` and `hangup` are normal; every other outcome was logged once. */
export type AgiOutcome = 'ok' | AgiFailureKind | 'unknown-handler' | 'error';

/** The summary of one conversation, emitted by the FastAGI server and returned to the AGI scripts. */
export interface AgiSessionReport {
  /** The handler asked for ('' when the environment never arrived). */
  readonly handler: string;
  readonly outcome: AgiOutcome;
  readonly channel: string;
  readonly uniqueid: string;
  readonly durationMs: number;
  /** Why it failed, safe to log (no caller data); absent for `ok`. */
  readonly reason?: string;
}

/** What one conversation needs. */
export interface AgiSessionOptions {
  handlers: AgiHandlerRegistry;
  logger: Logger;
  /** The whole conversation, handler included, must end within this time (default 5 s). */
  sessionTimeoutMs?: number;
  /** Run this handler whatever the request names (an AGI script knows its handler from its own name). */
  handlerName?: string;
}

/** The default limit of one conversation. */
export const DEFAULT_AGI_SESSION_TIMEOUT_MS = 5_000;

/**
 * Runs one AGI conversation: reads the environment, picks the handler the request names,
 * runs it within the session timeout, and closes the conversation so that Asterisk goes
 * on with the dialplan. Never throws: a timeout, bad input, an early hang-up or a
 * handler error ends the conversation, is logged once (a hang-up only at debug level:
 * it is normal) and is returned in the report.
 */
export async function runAgiSession(channel: AgiChannel, opts: AgiSessionOptions): Promise<AgiSessionReport> {
  const started = performance.now();
  let env: AgiEnvironment | null = null;
  let handlerName = opts.handlerName ?? '';
  let outcome: AgiOutcome = 'ok';
  let reason: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    env = await channel.readEnvironment();
    const route = agiRoute(env);
    handlerName = opts.handlerName ?? route.handler;
    const handler = opts.handlers.get(handlerName);
    if (!handler) {
      outcome = 'unknown-handler';
      reason = handlerName ? `no AGI handler named ${JSON.stringify(handlerName.slice(0, 64))}` : 'the request names no AGI handler';
      await channel.verbose(`tgpbx: ${reason}; known: ${opts.handlers.list().map((h) => h.name).join(', ')}`, 1).catch(() => undefined);
    } else {
      const params = new URLSearchParams(route.params);
      for (const arg of env.args) {
        const eq = arg.indexOf('=');
        if (eq > 0) params.append(arg.slice(0, eq).trim(), arg.slice(eq + 1).trim());
      }
      const timeoutMs = opts.sessionTimeoutMs ?? DEFAULT_AGI_SESSION_TIMEOUT_MS;
      const work = handler.handle({ env, params, channel });
      work.catch(() => undefined); // after a timeout its rejection is expected and ignored
      await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new SessionTimeout(`${handler.name} did not finish within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    }
  } catch (err) {
    [outcome, reason] = classify(err);
  } finally {
    clearTimeout(timer);
    channel.close();
  }
  const report: AgiSessionReport = {
    handler: handlerName,
    outcome,
    channel: env?.channel ?? '',
    uniqueid: env?.uniqueid ?? '',
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    ...(reason !== undefined ? { reason } : {}),
  };
  logOnce(opts.logger, report);
  return report;
}

class SessionTimeout extends Error {}

function classify(err: unknown): [AgiOutcome, string] {
  if (err instanceof SessionTimeout) return ['timeout', err.message];
  if (err instanceof AgiError) return [err.kind, err.message];
  return ['error', describeError(err)];
}

/**
 * A handler error fit for the log: a database error keeps only the driver's message (knex
 * prefixes it with the SQL statement and its values, which hold caller data).
 */
function describeError(err: unknown): string {
  const e = err as { message?: string; code?: string };
  let message = String(e?.message ?? err);
  const sql = /^\s*(insert|select|update|delete|with)\b[\s\S]* - ([\s\S]+)$/i.exec(message);
  if (sql) message = sql[2]!;
  return message.split('\n')[0]!.slice(0, 300);
}

function logOnce(logger: Logger, report: AgiSessionReport): void {
  const fields = { handler: report.handler, outcome: report.outcome, channel: report.channel, durationMs: report.durationMs, reason: report.reason };
  if (report.outcome === 'ok') logger.debug(fields, 'AGI hook done');
  else if (report.outcome === 'hangup') logger.debug(fields, 'AGI hook ended: the channel hung up');
  else logger.warn(fields, 'AGI hook failed; the call goes on with the dialplan');
}
