import { CallTracker } from '../../src/pbx/calls.js';
import type { AmiEvent } from '../../src/pbx/ami.js';
import type { JournalSink } from '../../src/pbx/call-journal.js';
import type { Call } from '../../src/pbx/call-model.js';
import { endpointClassifier } from '../../src/pbx/channel-name.js';
import { createLogger } from '../../src/log/logger.js';
import { SecretScrubber } from '../../src/log/secret-scrubber.js';
import { Metrics } from '../../src/status/metrics.js';
import { loadAmiEvents } from './ami-fixtures.js';
import { LogCapture } from './module.js';
import { ManualClock } from './manual-clock.js';

/** A CallTracker on fake time, with what it emitted and logged. */
export function trackerOnFakeTime(opts: { ivrHangupIsMissed?: boolean; settleMs?: number; journal?: JournalSink; clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock();
  const metrics = new Metrics();
  const logs = new LogCapture();
  const tracker = new CallTracker({
    classify: endpointClassifier(() => ({ extensions: new Set(), trunks: new Set() })),
    policy: () => ({ ivrHangupIsMissed: opts.ivrHangupIsMissed ?? false }),
    logger: createLogger({ level: 'debug', scrubber: new SecretScrubber(), sink: logs }),
    metrics,
    clock,
    settleMs: opts.settleMs ?? 1500,
    journal: opts.journal,
  });
  const calls: Call[] = [];
  tracker.on('call.ended', (c: Call) => calls.push(c));
  return { tracker, clock, metrics, logs, calls };
}

/** Feeds a recorded stream (or events) to a fresh tracker and lets every call settle. */
export function replayCalls(source: string | AmiEvent[], opts: { ivrHangupIsMissed?: boolean } = {}): Call[] {
  const t = trackerOnFakeTime(opts);
  for (const e of typeof source === 'string' ? loadAmiEvents(source) : source) t.tracker.handle(e);
  t.clock.advance(60_000);
  return t.calls;
}

/** `extension:101:no_answer` style summary of a call's missed targets, sorted. */
export function missedSummary(call: Call): string[] {
  return call.missed.map((m) => `${m.kind}:${m.target}:${m.reason}`).sort();
}
