import type { CallFold } from './call-fold.js';
import type { Call, CallDisposition, CallDirection, CallLeg, MissedReason, MissedTarget } from './call-model.js';

/** Policy choices the admin can make about what counts as missed. */
export interface VerdictPolicy {
  /** Count an inbound call that hung up in the IVR, before any extension rang, as missed for its number. */
  ivrHangupIsMissed: boolean;
}

const MISSED_BY_OUTCOME: Partial<Record<CallLeg['outcome'], MissedReason>> = {
  no_answer: 'no_answer',
  busy: 'busy',
  unavailable: 'unavailable',
  cancelled: 'caller_hung_up',
  declined: 'declined',
  ringing: 'caller_hung_up',
};

/**
 * The missed-call rules, in one place. Turns the folded state of a finished call into
 * a Call: direction, who answered, and for whom the call is missed and why.
 *
 * - An answered episode (the ringing before an answer, or after a transfer) is missed for
 *   nobody: members who did not pick up were `answered_elsewhere`.
 * - An unanswered episode is missed for every extension that rang in it (once per
 *   extension), with the reason of its last ringing (no answer, busy, unavailable, caller
 *   hung up), and for every queue the caller left unanswered (timeout or abandoned).
 * - Outbound and originated calls are never missed.
 * - Inbound calls that ended before anything rang ended in the IVR (missed for the dialed
 *   number only when the policy says so).
 */
export function decideCall(fold: CallFold, endedAt: number, policy: VerdictPolicy): Call {
  const origin = fold.origin;
  const legs = [...fold.legs.values()].sort((a, b) => a.startedAt - b.startedAt);
  resolveCancelledLegs(legs);

  const originIsTrunk = origin?.kind === 'trunk';
  const trunkLeg = legs.find((l) => l.kind === 'trunk');
  const direction: CallDirection = originIsTrunk && !fold.originated ? 'inbound' : trunkLeg ? 'outbound' : 'internal';
  const answeredLegs = legs.filter((l) => l.outcome === 'answered');
  const firstAnswer = answeredLegs.reduce<number | null>((t, l) => (t === null || (l.answeredAt ?? t) < t ? l.answeredAt : t), null);
  const lastAnswered = answeredLegs.filter((l) => l.kind === 'extension').sort((a, b) => (b.answeredAt ?? 0) - (a.answeredAt ?? 0))[0];
  const startedAt = origin?.createdAt ?? legs[0]?.startedAt ?? endedAt;

  const missed: MissedTarget[] = fold.originated || direction === 'outbound' ? [] : missedTargets(fold, legs, endedAt);
  const endedInIvr = direction === 'inbound' && legs.length === 0 && fold.queues.length === 0 && !fold.originated;
  const dialed = dialedNumber(direction, origin?.firstExten ?? '', trunkLeg);
  if (endedInIvr && policy.ivrHangupIsMissed) missed.push({ kind: 'number', target: dialed, reason: 'caller_hung_up', ringSeconds: 0 });

  const firstRing = legs[0]?.startedAt ?? null;
  const ringEnd = firstAnswer ?? Math.max(...legs.map((l) => l.endedAt ?? endedAt), firstRing ?? 0);
  return {
    linkedid: fold.linkedid,
    direction,
    originated: fold.originated,
    startedAt,
    answeredAt: firstAnswer,
    endedAt,
    caller: {
      number: origin?.callerNumber ?? '',
      name: origin?.callerName ?? '',
      channel: origin?.channel ?? '',
      endpoint: origin?.endpoint ?? '',
    },
    dialed,
    trunk: direction === 'inbound' ? (origin?.endpoint ?? null) : (trunkLeg?.endpoint ?? null),
    legs,
    queues: fold.queues,
    transfers: fold.transfers,
    answeredBy: lastAnswered ? (lastAnswered.pickedUpBy ?? lastAnswered.endpoint) : null,
    ringSeconds: firstRing === null ? 0 : seconds(ringEnd - firstRing),
    talkSeconds: firstAnswer === null ? 0 : seconds(endedAt - firstAnswer),
    voicemailLeft: fold.voicemailLeft,
    disposition: disposition(direction, fold.originated, legs, missed, endedInIvr),
    missed,
    partial: fold.partial,
  };
}

/** A leg cancelled in an episode someone answered was answered elsewhere, not missed. */
function resolveCancelledLegs(legs: CallLeg[]): void {
  const answeredEpisodes = new Set(legs.filter((l) => l.outcome === 'answered').map((l) => l.episode));
  for (const leg of legs) {
    if ((leg.outcome === 'cancelled' || leg.outcome === 'ringing') && answeredEpisodes.has(leg.episode)) leg.outcome = 'answered_elsewhere';
  }
}

function missedTargets(fold: CallFold, legs: CallLeg[], endedAt: number): MissedTarget[] {
  const answeredEpisodes = new Set(legs.filter((l) => l.outcome === 'answered').map((l) => l.episode));
  const byExtension = new Map<string, MissedTarget>();
  for (const leg of legs) {
    if (leg.kind !== 'extension' || leg.consult || answeredEpisodes.has(leg.episode)) continue;
    // A queue member who was ringing when the caller gave up: the caller abandoned the queue.
    const reason = leg.queue && leg.outcome === 'cancelled' ? 'abandoned' : MISSED_BY_OUTCOME[leg.outcome];
    if (!reason) continue;
    const rang = seconds((leg.endedAt ?? endedAt) - leg.startedAt);
    const seen = byExtension.get(leg.endpoint);
    // One verdict per extension: queue rounds add up, the last ringing gives the reason.
    byExtension.set(leg.endpoint, { kind: 'extension', target: leg.endpoint, reason, ringSeconds: (seen?.ringSeconds ?? 0) + rang });
  }
  const missed = [...byExtension.values()];
  for (const visit of fold.queues) {
    if (visit.outcome === 'answered') continue;
    const reason: MissedReason = visit.outcome === 'timeout' ? 'no_answer' : 'abandoned';
    missed.push({ kind: 'queue', target: visit.queue, reason, ringSeconds: seconds((visit.leftAt ?? endedAt) - visit.joinedAt) });
  }
  return missed;
}

function dialedNumber(direction: CallDirection, firstExten: string, trunkLeg: CallLeg | undefined): string {
  if (direction === 'outbound' && trunkLeg) {
    // DialString is e.g. `+79990001122@trunk` or `trunk/+79990001122`: keep the number.
    const m = /^(?:[^/]*\/)?([^@]+)/.exec(trunkLeg.dialString);
    if (m && /^\+?[\d*#]+$/.test(m[1]!)) return m[1]!;
  }
  return firstExten;
}

function disposition(direction: CallDirection, originated: boolean, legs: CallLeg[], missed: MissedTarget[], endedInIvr: boolean): CallDisposition {
  if (direction === 'outbound' || originated) {
    const remote = legs.filter((l) => l.kind === 'trunk');
    const relevant = remote.length ? remote : legs;
    if (relevant.some((l) => l.outcome === 'answered')) return 'answered';
    return relevant.some((l) => l.outcome === 'busy' || l.outcome === 'unavailable') ? 'failed' : 'not_answered';
  }
  if (endedInIvr) return 'ended_in_ivr';
  if (missed.length) return 'missed';
  return 'answered';
}

function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 1000));
}
