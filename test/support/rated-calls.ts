import type { App } from '../../src/app.js';
import type { Call } from '../../src/pbx/call-model.js';

let seq = 0;

/**
 * An answered outbound call over a trunk, as the call engine hands it to the history when
 * it ends; `store` records it through the real CallHistory (its hooks, rating and loss
 * control, run in the storing transaction).
 */
export function outboundCall(spec: { trunk: string; dialed: string; startedAt: number; talkSeconds: number; direction?: Call['direction'] }): Call {
  seq++;
  const answeredAt = spec.talkSeconds > 0 ? spec.startedAt + 5_000 : null;
  return {
    linkedid: `rp-${process.pid}-${seq}.${spec.startedAt}`,
    direction: spec.direction ?? 'outbound',
    originated: false,
    startedAt: spec.startedAt,
    answeredAt,
    endedAt: (answeredAt ?? spec.startedAt) + spec.talkSeconds * 1000,
    caller: { number: '101', name: 'Reception', channel: `PJSIP/101-${seq}`, endpoint: '101' },
    dialed: spec.dialed,
    trunk: spec.trunk,
    legs: [],
    queues: [],
    transfers: [],
    answeredBy: spec.talkSeconds > 0 ? spec.dialed : null,
    ringSeconds: 5,
    talkSeconds: spec.talkSeconds,
    voicemailLeft: false,
    disposition: spec.talkSeconds > 0 ? 'answered' : 'not_answered',
    missed: [],
    partial: false,
  };
}

/** Stores calls through the module's call history, one after another; returns their ids. */
export async function storeCalls(app: App, calls: Call[]): Promise<number[]> {
  const ids: number[] = [];
  for (const call of calls) ids.push((await app.calls.history.record(call))!);
  return ids;
}
