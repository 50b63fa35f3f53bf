/**
 * What tgpbx knows about a finished call: the shapes CallTracker emits with `call.ended`
 * and CallHistory stores. Times are milliseconds since the epoch, taken from the AMI
 * events' Timestamp field (Asterisk's clock) when present.
 */

/** inbound: from a trunk; outbound: to a trunk; internal: between extensions. */
export type CallDirection = 'inbound' | 'outbound' | 'internal';

/** How one ringing target ended. */
export type LegOutcome =
  | 'ringing' // not ended yet
  | 'answered'
  | 'no_answer'
  | 'busy'
  | 'unavailable'
  | 'cancelled' // the caller hung up while it rang
  | 'answered_elsewhere' // a colleague (or the queue) took the call
  | 'declined';

/** Why a target missed the call. */
export type MissedReason = 'no_answer' | 'busy' | 'unavailable' | 'caller_hung_up' | 'abandoned' | 'declined';

/** One target that rang: an extension's channel dialed by Dial, a queue or an originate. */
export interface CallLeg {
  uniqueid: string;
  channel: string;
  /** The endpoint (extension or trunk name) behind the channel, e.g. `101`. */
  endpoint: string;
  kind: 'extension' | 'trunk';
  /** The name the phone's caller ID carries (e.g. `Ext 101`), if any. */
  name: string;
  /** What the dialplan dialed (`DialString`). */
  dialString: string;
  /** The queue that rang this member, if any. */
  queue: string | null;
  /** The dialed number of the caller's channel when it dialed (a ring group's or queue's number). */
  via: string | null;
  /** 0 for the first ringing of the call, 1 after the call was answered and transferred, ... */
  episode: number;
  /** The consultation call of an attended transfer (the transferer asking the target first): never "missed" for the caller. */
  consult: boolean;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  outcome: LegOutcome;
  /** Who actually answered in its place (call pickup): that extension. */
  pickedUpBy: string | null;
  hangupCause: number | null;
}

/** A queue the caller waited in. */
export interface QueueVisit {
  queue: string;
  joinedAt: number;
  leftAt: number | null;
  /** answered: an agent took it; timeout: the queue gave up; abandoned: the caller hung up. */
  outcome: 'waiting' | 'answered' | 'timeout' | 'abandoned';
  answeredBy: string | null;
}

/** A transfer seen in the call. */
export interface CallTransfer {
  kind: 'blind' | 'attended';
  at: number;
  /** The extension that transferred. */
  by: string | null;
  /** The extension or number the call was sent to. */
  to: string | null;
  result: string;
}

/** A target for which the call counts as missed. */
export interface MissedTarget {
  kind: 'extension' | 'queue' | 'number';
  target: string;
  reason: MissedReason;
  /** How long it rang (extension) or the caller waited (queue), in seconds. */
  ringSeconds: number;
}

/** The final word on a call. */
export type CallDisposition =
  | 'answered'
  | 'missed'
  | 'ended_in_ivr' // inbound, hung up before any extension rang
  | 'not_answered' // outbound: the remote party did not answer
  | 'failed'; // outbound: busy/unavailable/congestion

/** A finished call, one per Linkedid. */
export interface Call {
  linkedid: string;
  direction: CallDirection;
  /** Started by AMI Originate (call-back, campaigns): never "missed". */
  originated: boolean;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number;
  caller: { number: string; name: string; channel: string; endpoint: string };
  /** The number dialed (DID for inbound calls, the remote number for outbound). */
  dialed: string;
  /** The trunk endpoint the call came in or went out on, if any. */
  trunk: string | null;
  legs: CallLeg[];
  queues: QueueVisit[];
  transfers: CallTransfer[];
  /** The extension that answered (the last one, after transfers). */
  answeredBy: string | null;
  ringSeconds: number;
  talkSeconds: number;
  voicemailLeft: boolean;
  disposition: CallDisposition;
  missed: MissedTarget[];
  /** tgpbx saw only part of the call (started mid-call, or the AMI link was lost). */
  partial: boolean;
}
