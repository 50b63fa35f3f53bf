import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../status/metrics.js';
import type { AmiEvent } from './ami.js';
import { CallFold } from './call-fold.js';
import type { Call } from './call-model.js';
import type { JournalEntry, JournalSink } from './call-journal.js';
import { decideCall, type VerdictPolicy } from './call-verdict.js';
import type { EndpointClassifier } from './channel-name.js';
import { systemClock, type Clock } from './clock.js';

export interface CallTrackerOptions {
  classify: EndpointClassifier;
  policy: () => VerdictPolicy;
  logger: Logger;
  metrics: Metrics;
  /** Wait this long after the last channel hung up before deciding (late Cdr, duplicates). Default 1.5 s. */
  settleMs?: number;
  /** A call with no event for this long is closed as partial (lost Hangup). Default 4 h. */
  idleMs?: number;
  /** Finished Linkedids are remembered this long to ignore replayed events. Default 1 h. */
  rememberEndedMs?: number;
  clock?: Clock;
  /** Receives every event folded into a call (pbx/call-journal.ts), so calls in progress survive a crash. */
  journal?: JournalSink;
}

interface Tracked {
  fold: CallFold;
  receivedAt: number;
  settleTimer: unknown;
  /** Restored from the journal at start: tgpbx was down for part of it. */
  restored: boolean;
}

/**
 * Folds the AMI event stream into calls, one per Linkedid, and emits `call.ended`
 * (with the decided Call) exactly once per call: after every channel of the call hung up
 * and a short settle time passed. Events of a call that already ended (an AMI reconnect
 * replaying, a repeated Hangup) change nothing. A call whose Hangup was lost is closed as
 * partial after `idleMs`, or at once when `reconcile` learns its channels are gone.
 */
export class CallTracker extends EventEmitter {
  private readonly calls = new Map<string, Tracked>();
  private readonly ended = new Map<string, number>();
  /** Which calls each channel took part in: a channel can move between calls (call pickup). */
  private readonly channelCalls = new Map<string, Set<string>>();
  private readonly warned = new Set<string>();
  private readonly clock: Clock;
  private readonly settleMs: number;
  private readonly idleMs: number;
  private readonly rememberEndedMs: number;
  private sweepTimer: unknown = null;
  /** True while `restore` replays the journal. */
  private restoring = false;

  constructor(private readonly opts: CallTrackerOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.settleMs = opts.settleMs ?? 1_500;
    this.idleMs = opts.idleMs ?? 4 * 3600_000;
    this.rememberEndedMs = opts.rememberEndedMs ?? 3600_000;
  }

  /** Calls in progress. */
  get active(): number {
    return this.calls.size;
  }

  /** Starts the idle sweep. */
  start(): void {
    this.scheduleSweep();
  }

  /** Stops timers. Calls in progress stay in the journal (when there is one) and are restored at the next start. */
  stop(): void {
    if (this.sweepTimer) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    for (const t of this.calls.values()) if (t.settleTimer) this.clock.clearTimeout(t.settleTimer);
  }

  /** Feeds one AMI event. Events without a Linkedid (system events) are ignored. */
  handle(e: AmiEvent): void {
    const linkedid = callOf(e);
    if (!linkedid) return;
    if (this.ended.has(linkedid)) {
      this.opts.metrics.callEventsIgnored.inc({ reason: 'after_end' });
      return;
    }
    if (!UNIQUEID_KEYS.some((k) => e.fields[k])) {
      this.ignoreOnce('missing_field', e.event, `${e.event} without Uniqueid`);
      return;
    }
    this.fold(linkedid, e, eventTime(e, this.clock), this.clock.now(), this.opts.journal);
  }

  /**
   * Replays the journal of the calls that were in progress when tgpbx stopped (before AMI
   * connects): the same folds as before, because folding is pure and idempotent. Settle
   * timers run from the times the journal kept, on this tracker's clock; the idle limit
   * counts from each call's last event received.
   */
  restore(entries: Iterable<JournalEntry>): void {
    this.restoring = true;
    try {
      for (const { linkedid, event, at, receivedAt } of entries) {
        if (this.ended.has(linkedid)) continue;
        if (callOf(event) === linkedid) this.fold(linkedid, event, at, receivedAt, undefined);
        else {
          // A Hangup applied to another call that knew the channel (the routed call may be stored already).
          const tracked = this.calls.get(linkedid);
          if (tracked) this.applyElsewhere(linkedid, tracked, event, at, receivedAt, undefined);
        }
      }
    } finally {
      this.restoring = false;
    }
    if (this.calls.size) this.opts.logger.info({ calls: this.calls.size }, 'calls in progress restored from the journal');
    this.closeIdle();
  }

  private fold(linkedid: string, e: AmiEvent, at: number, receivedAt: number, journal: JournalSink | undefined): void {
    let tracked = this.calls.get(linkedid);
    const created = !tracked;
    if (!tracked) {
      tracked = { fold: new CallFold(linkedid, this.opts.classify, e, at), receivedAt, settleTimer: null, restored: this.restoring };
      this.calls.set(linkedid, tracked);
      this.opts.metrics.callsActive.set(this.calls.size);
      if (tracked.fold.partial) this.opts.logger.debug({ linkedid, event: e.event }, 'call seen from the middle (started before tgpbx connected)');
    }
    tracked.receivedAt = receivedAt;
    const known = tracked.fold.channels.size;
    const changed = tracked.fold.apply(e, at);
    // An event after the last Hangup still moves the call's end: journal it too.
    if (journal && (created || changed || tracked.fold.allHungUp)) journal.append({ linkedid, event: e, at, receivedAt });
    if (tracked.fold.channels.size > known) this.noteChannels(linkedid, tracked, known);
    this.settleIfDone(linkedid, tracked, receivedAt);
    if (e.event === 'Hangup' && e.fields.uniqueid) this.hangupElsewhere(e, at, receivedAt, linkedid, journal);
  }

  /** Remembers the channels a call just learned of. */
  private noteChannels(linkedid: string, tracked: Tracked, from: number): void {
    let i = 0;
    for (const uniqueid of tracked.fold.channels.keys()) {
      if (i++ < from) continue;
      let calls = this.channelCalls.get(uniqueid);
      if (!calls) this.channelCalls.set(uniqueid, (calls = new Set()));
      calls.add(linkedid);
    }
  }

  /**
   * A channel that moved to another call (a phone that picked up a call with *8 joins the
   * caller's call) hangs up under its new Linkedid: its first call must learn it too, or
   * it would wait for that Hangup forever.
   */
  private hangupElsewhere(e: AmiEvent, at: number, receivedAt: number, linkedid: string, journal: JournalSink | undefined): void {
    for (const other of this.channelCalls.get(e.fields.uniqueid!) ?? []) {
      if (other === linkedid) continue;
      const tracked = this.calls.get(other);
      if (tracked) this.applyElsewhere(other, tracked, e, at, receivedAt, journal);
    }
  }

  private applyElsewhere(linkedid: string, tracked: Tracked, e: AmiEvent, at: number, receivedAt: number, journal: JournalSink | undefined): void {
    tracked.fold.apply(e, at);
    // Journaled under this call too: the call the event belongs to may be stored (and its rows gone) first.
    journal?.append({ linkedid, event: e, at, receivedAt });
    this.settleIfDone(linkedid, tracked, receivedAt);
  }

  /**
   * After an AMI reconnect: every channel not among `liveUniqueids` is gone (its Hangup
   * was lost with the link). Calls left with no live channel end now, marked partial.
   * A call restored from the journal may have ended long ago, while tgpbx was down: its
   * lost channels end at the last event seen of the call, so its ring or talk time is what
   * tgpbx saw, never the downtime.
   */
  reconcile(liveUniqueids: ReadonlySet<string>): void {
    const now = this.clock.now();
    for (const [linkedid, tracked] of this.calls) {
      let lost = false;
      for (const c of tracked.fold.channels.values()) {
        if (c.hungUpAt === null && !liveUniqueids.has(c.uniqueid)) {
          c.hungUpAt = tracked.restored ? tracked.fold.lastEventAt : now;
          lost = true;
        }
      }
      if (lost) tracked.fold.partial = true;
      this.settleIfDone(linkedid, tracked, now);
    }
  }

  /** `since`: when the event that may have ended the call was received (earlier than now when restored from the journal). */
  private settleIfDone(linkedid: string, tracked: Tracked, since: number): void {
    if (tracked.fold.allHungUp) {
      tracked.settleTimer ??= this.clock.setTimeout(() => this.finish(linkedid), Math.max(0, since + this.settleMs - this.clock.now()));
    } else if (tracked.settleTimer) {
      this.clock.clearTimeout(tracked.settleTimer);
      tracked.settleTimer = null;
    }
  }

  private finish(linkedid: string): void {
    const tracked = this.calls.get(linkedid);
    if (!tracked) return;
    this.calls.delete(linkedid);
    this.opts.metrics.callsActive.set(this.calls.size);
    this.remember(linkedid);
    const fold = tracked.fold;
    for (const uniqueid of fold.channels.keys()) {
      const calls = this.channelCalls.get(uniqueid);
      calls?.delete(linkedid);
      if (calls?.size === 0) this.channelCalls.delete(uniqueid);
    }
    const endedAt = Math.max(fold.lastEventAt, ...[...fold.channels.values()].map((c) => c.hungUpAt ?? 0));
    let call: Call;
    try {
      call = decideCall(fold, endedAt, this.opts.policy());
    } catch (err) {
      this.opts.logger.error({ linkedid, err: (err as Error).message }, 'could not decide a call');
      return;
    }
    this.opts.metrics.calls.inc({ direction: call.direction });
    this.emit('call.ended', call);
  }

  private remember(linkedid: string): void {
    const now = this.clock.now();
    // A copy: the id is a slice of the socket chunk it came in, and would keep that chunk alive for an hour.
    this.ended.set(Buffer.from(linkedid, 'utf8').toString('utf8'), now);
    if (this.ended.size > MAX_REMEMBERED) this.ended.delete(this.ended.keys().next().value!);
    if (this.ended.size > 1000) {
      for (const [id, at] of this.ended) {
        if (now - at < this.rememberEndedMs) break; // insertion order = age order
        this.ended.delete(id);
      }
    }
  }

  private scheduleSweep(): void {
    const every = Math.min(this.idleMs / 4, 600_000);
    this.sweepTimer = this.clock.setTimeout(() => {
      this.closeIdle();
      this.scheduleSweep();
    }, every);
  }

  /** Closes, as partial, the calls with no event for `idleMs` (a lost Hangup): they are stored, and leave the journal. */
  private closeIdle(): void {
    const now = this.clock.now();
    for (const [linkedid, tracked] of this.calls) {
      if (now - tracked.receivedAt < this.idleMs) continue;
      this.opts.logger.warn({ linkedid }, 'call had no event for too long; closing it as partial');
      tracked.fold.partial = true;
      for (const c of tracked.fold.channels.values()) c.hungUpAt ??= now;
      if (tracked.settleTimer) this.clock.clearTimeout(tracked.settleTimer);
      this.finish(linkedid);
    }
  }

  private ignoreOnce(reason: string, key: string, message: string): void {
    this.opts.metrics.callEventsIgnored.inc({ reason });
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.logger.warn({ reason }, `call tracker ignored an event: ${message} (logged once)`);
  }
}

/** At most this many finished calls are remembered for ignoring replays (about 2 MB). */
const MAX_REMEMBERED = 50_000;

/**
 * Which call an event belongs to. Most events carry Linkedid; DialBegin/DialEnd of an AMI
 * Originate carry no Channel and only DestLinkedid; transfer events name their sides
 * (Transferer*, Transferee*, OrigTransferer*...).
 */
const LINKEDID_KEYS = ['linkedid', 'destlinkedid', 'transfererlinkedid', 'transfereelinkedid', 'origtransfererlinkedid', 'secondtransfererlinkedid', 'targetlinkedid'];
const UNIQUEID_KEYS = ['uniqueid', 'destuniqueid', 'transfereruniqueid', 'transfereeuniqueid', 'origtransfereruniqueid', 'secondtransfereruniqueid', 'targetuniqueid'];

/** The call an event is folded into. A Pickup is reported on the picking phone's own call; it belongs to the call picked up. */
export function callOf(e: AmiEvent): string | undefined {
  return e.event === 'Pickup' ? (e.fields.targetlinkedid ?? linkedidOf(e)) : linkedidOf(e);
}

function linkedidOf(e: AmiEvent): string | undefined {
  for (const k of LINKEDID_KEYS) if (e.fields[k]) return e.fields[k];
  return undefined;
}

/** The event's own time (AMI `Timestamp`, seconds with micros) or, without one, now. */
function eventTime(e: AmiEvent, clock: Clock): number {
  const ts = e.fields.timestamp;
  if (ts) {
    const n = Number(ts);
    if (Number.isFinite(n)) return Math.round(n * 1000);
  }
  return clock.now();
}
