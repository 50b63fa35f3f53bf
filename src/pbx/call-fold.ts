import type { AmiEvent } from './ami.js';
import { parseChannelName, type EndpointClassifier } from './channel-name.js';
import type { CallLeg, CallTransfer, LegOutcome, QueueVisit } from './call-model.js';

/** What the fold remembers of one channel of the call. */
export interface ChannelState {
  uniqueid: string;
  channel: string;
  endpoint: string;
  kind: 'extension' | 'trunk' | 'local';
  createdAt: number;
  hungUpAt: number | null;
  cause: number | null;
  callerNumber: string;
  callerName: string;
  /** The extension the channel was created for (the DID for an inbound trunk channel). */
  firstExten: string;
  /** The queue the channel currently waits in. */
  queue: string | null;
  /** Set (to the transferer's channel) on the channels of an attended transfer's consultation call. */
  consultFor: string | null;
}

/** A Dial() the dialplan started on a channel, from its Newexten; targets that never got a DialBegin are still owed an outcome. */
interface PendingDial {
  at: number;
  targets: { endpoint: string; dialString: string }[];
  via: string;
}

/** The targets of a Dial() application's first argument: `PJSIP/101&PJSIP/102`, `PJSIP/+7999@trunk`. Local channels are hops, not targets. */
export function dialTargets(appData: string): { endpoint: string; dialString: string }[] {
  const first = appData.split(',')[0] ?? '';
  return first
    .split('&')
    .map((part) => part.trim())
    .filter((part) => part.includes('/') && !/^local\//i.test(part))
    .map((part) => {
      const resource = part.slice(part.indexOf('/') + 1);
      const at = resource.lastIndexOf('@');
      return { endpoint: at >= 0 ? resource.slice(at + 1) : resource, dialString: resource };
    });
}

const DIAL_STATUS: Record<string, LegOutcome> = {
  ANSWER: 'answered',
  NOANSWER: 'no_answer',
  BUSY: 'busy',
  CHANUNAVAIL: 'unavailable',
  CONGESTION: 'unavailable',
  CANCEL: 'cancelled',
  DONTCALL: 'declined',
  TORTURE: 'declined',
};

/** Q.850 causes of a leg that hung up while still ringing. */
function outcomeOfCause(cause: number | null): LegOutcome {
  switch (cause) {
    case 17:
      return 'busy';
    case 21:
      return 'declined';
    case 1:
    case 3:
    case 20:
    case 27:
    case 34:
    case 38:
      return 'unavailable';
    case 19:
      return 'no_answer';
    case 26:
      return 'answered_elsewhere';
    default:
      return 'cancelled';
  }
}

/** The VarSet variables the rules read; other VarSets only carry caller ID. */
const READ_VARIABLES = new Set(['QUEUESTATUS', 'VMSTATUS', 'ATTENDEDTRANSFER', 'DIALSTATUS']);

const unknown = (v: string | undefined) => (v === undefined || v === '<unknown>' ? '' : v);

/**
 * The state of one call (one Linkedid) while its events arrive: channels, ringing legs,
 * queue visits, transfers. Applying an event twice changes nothing (duplicates after an
 * AMI reconnect are harmless). Pure: no I/O, no timers; time comes from the events.
 */
export class CallFold {
  readonly channels = new Map<string, ChannelState>();
  readonly legs = new Map<string, CallLeg>();
  readonly queues: QueueVisit[] = [];
  readonly transfers: CallTransfer[] = [];
  originated = false;
  voicemailLeft = false;
  /** True when the first event seen was not the creation of the call's first channel. */
  partial: boolean;
  lastEventAt: number;
  private episode = 0;
  private episodeAnswered = false;
  private readonly pendingDials = new Map<string, PendingDial>();
  /** Set while folding an event that created or changed a channel. */
  private touched = false;

  constructor(
    readonly linkedid: string,
    private readonly classify: EndpointClassifier,
    first: AmiEvent,
    at: number,
  ) {
    this.partial = !(first.event === 'Newchannel' && first.fields.uniqueid === linkedid);
    this.lastEventAt = at;
  }

  /** True once every channel seen has hung up (the call may settle). */
  get allHungUp(): boolean {
    if (this.channels.size === 0) return false;
    for (const c of this.channels.values()) if (c.hungUpAt === null) return false;
    return true;
  }

  /** The channel that started the call: the one whose Uniqueid is the Linkedid, else the oldest seen. */
  get origin(): ChannelState | undefined {
    return this.channels.get(this.linkedid) ?? this.channels.values().next().value;
  }

  /**
   * Folds one event of this call into the state. Returns false when the event changed
   * nothing but `lastEventAt` (a VarSet or Newexten the rules do not read, on a channel
   * already known with the same caller ID): the journal need not keep it.
   */
  apply(e: AmiEvent, at: number): boolean {
    this.lastEventAt = at;
    this.touched = false;
    const f = e.fields;
    const channel = f.uniqueid ? this.touchChannel(f.uniqueid, f.channel, f, at) : undefined;
    return this.fold(e, f, channel, at) || this.touched;
  }

  private fold(e: AmiEvent, f: Readonly<Record<string, string>>, channel: ChannelState | undefined, at: number): boolean {
    switch (e.event) {
      case 'DialBegin':
        this.dialBegin(e, at);
        return true;
      case 'DialEnd':
        this.dialEnd(e, at);
        return true;
      case 'Hangup':
        if (channel && channel.hungUpAt === null) {
          channel.hungUpAt = at;
          channel.cause = f.cause !== undefined && f.cause !== '' ? Number(f.cause) : null;
          this.legHungUp(channel, at);
        }
        return true;
      case 'Newstate':
        if (channel && f.channelstate === '6') this.legAnswered(channel.uniqueid, at, null);
        return true;
      case 'BridgeEnter':
        if (channel) this.legAnswered(channel.uniqueid, at, null);
        return true;
      case 'QueueCallerJoin':
        if (channel) channel.queue = f.queue ?? null;
        if (!this.queues.some((q) => q.queue === f.queue && q.joinedAt === at)) {
          this.queues.push({ queue: f.queue ?? '', joinedAt: at, leftAt: null, outcome: 'waiting', answeredBy: null });
        }
        return true;
      case 'QueueCallerAbandon':
        this.queueEnded(f.queue, 'abandoned', at);
        return true;
      case 'QueueCallerLeave': {
        const visit = this.openVisit(f.queue);
        if (visit && visit.leftAt === null) visit.leftAt = at;
        if (channel) channel.queue = null;
        return true;
      }
      case 'AgentConnect': {
        const visit = this.lastVisit(f.queue);
        if (visit) {
          visit.outcome = 'answered';
          visit.answeredBy = f.destchannel ? parseChannelName(f.destchannel).endpoint : (f.membername ?? null);
        }
        return true;
      }
      case 'Newexten':
        if (channel && (f.application ?? '').toLowerCase() === 'dial') {
          this.pendingDials.set(channel.uniqueid, { at, targets: dialTargets(f.appdata ?? ''), via: f.exten ?? '' });
          return true;
        }
        return false;
      case 'VarSet':
        if (f.variable === 'QUEUESTATUS' && f.value === 'TIMEOUT') this.queueEnded(undefined, 'timeout', at);
        if (f.variable === 'VMSTATUS' && f.value === 'SUCCESS') this.voicemailLeft = true;
        if (f.variable === 'ATTENDEDTRANSFER' && channel && f.value) channel.consultFor = f.value;
        if (f.variable === 'DIALSTATUS' && channel && f.value) this.dialFinished(channel, f.value, at);
        return f.variable !== undefined && READ_VARIABLES.has(f.variable);
      case 'BlindTransfer':
        this.transferred('blind', f.transfererchannel, f.extension ?? null, f.result ?? '', at);
        return true;
      case 'AttendedTransfer':
        this.transferred('attended', f.origtransfererchannel, f.secondtransfererexten ?? f.transfertargetchannel ?? null, f.result ?? '', at);
        return true;
      case 'Pickup':
        if (f.targetuniqueid && f.channel) this.legAnswered(f.targetuniqueid, at, parseChannelName(f.channel).endpoint);
        return true;
      default:
        return false;
    }
  }

  private touchChannel(uniqueid: string, name: string | undefined, f: Readonly<Record<string, string>>, at: number): ChannelState | undefined {
    let c = this.channels.get(uniqueid);
    if (!c) {
      if (!name) return undefined;
      const parsed = parseChannelName(name);
      c = {
        uniqueid,
        channel: name,
        endpoint: parsed.endpoint,
        kind: parsed.isLocal ? 'local' : this.classify(parsed.endpoint),
        createdAt: at,
        hungUpAt: null,
        cause: null,
        callerNumber: '',
        callerName: '',
        firstExten: f.exten ?? '',
        queue: null,
        consultFor: null,
      };
      this.channels.set(uniqueid, c);
      this.touched = true;
    }
    const number = unknown(f.calleridnum);
    if (number && number !== c.callerNumber) {
      c.callerNumber = number;
      this.touched = true;
    }
    const name2 = unknown(f.calleridname);
    if (name2 && name2 !== c.callerName) {
      c.callerName = name2;
      this.touched = true;
    }
    return c;
  }

  private dialBegin(e: AmiEvent, at: number): void {
    const f = e.fields;
    if (!f.channel) this.originated = true;
    const dest = f.destuniqueid;
    if (!dest || !f.destchannel || this.legs.has(dest)) return;
    this.touchChannel(dest, f.destchannel, { calleridnum: f.destcalleridnum ?? '', calleridname: f.destcalleridname ?? '', exten: f.destexten ?? '' }, at);
    const parsed = parseChannelName(f.destchannel);
    if (parsed.isLocal) return; // a hop through a Local channel: its ;2 half dials the real target
    if (this.episodeAnswered) {
      this.episode++;
      this.episodeAnswered = false;
    }
    const source = f.uniqueid ? this.channels.get(f.uniqueid) : undefined;
    const pending = f.uniqueid ? this.pendingDials.get(f.uniqueid) : undefined;
    if (pending) pending.targets = pending.targets.filter((t) => t.endpoint !== parsed.endpoint);
    this.legs.set(dest, {
      uniqueid: dest,
      channel: f.destchannel,
      endpoint: parsed.endpoint,
      kind: this.classify(parsed.endpoint),
      name: unknown(f.destcalleridname),
      dialString: f.dialstring ?? '',
      queue: source?.queue ?? null,
      via: f.channel ? (f.exten ?? null) : null,
      episode: this.episode,
      consult: Boolean(source?.consultFor),
      startedAt: at,
      answeredAt: null,
      endedAt: null,
      outcome: 'ringing',
      pickedUpBy: null,
      hangupCause: null,
    });
  }

  /**
   * Dial() ended on `channel`. A target that never got a channel (an unregistered phone:
   * Asterisk creates no channel, so no DialBegin) is known only from the Dial's arguments
   * and DIALSTATUS=CHANUNAVAIL: record it as an unavailable leg.
   */
  private dialFinished(channel: ChannelState, status: string, at: number): void {
    const pending = this.pendingDials.get(channel.uniqueid);
    this.pendingDials.delete(channel.uniqueid);
    if (!pending || (status !== 'CHANUNAVAIL' && status !== 'CONGESTION')) return;
    for (const target of pending.targets) {
      if (this.episodeAnswered) {
        this.episode++;
        this.episodeAnswered = false;
      }
      const uniqueid = `${channel.uniqueid}:unavailable:${target.endpoint}`;
      if (this.legs.has(uniqueid)) continue;
      this.legs.set(uniqueid, {
        uniqueid,
        channel: '',
        endpoint: target.endpoint,
        kind: this.classify(target.endpoint),
        name: '',
        dialString: target.dialString,
        queue: channel.queue,
        via: pending.via || null,
        episode: this.episode,
        consult: Boolean(channel.consultFor),
        startedAt: pending.at,
        answeredAt: null,
        endedAt: at,
        outcome: 'unavailable',
        pickedUpBy: null,
        hangupCause: null,
      });
    }
  }

  private dialEnd(e: AmiEvent, at: number): void {
    const leg = e.fields.destuniqueid ? this.legs.get(e.fields.destuniqueid) : undefined;
    if (!leg || leg.outcome !== 'ringing') return; // unknown, or a repeated DialEnd (queues send CANCEL twice)
    const outcome = DIAL_STATUS[(e.fields.dialstatus ?? '').toUpperCase()] ?? 'no_answer';
    if (outcome === 'answered') return this.legAnswered(leg.uniqueid, at, null);
    leg.outcome = outcome;
    leg.endedAt = at;
  }

  private legAnswered(uniqueid: string, at: number, pickedUpBy: string | null): void {
    const leg = this.legs.get(uniqueid);
    if (!leg) return;
    if (leg.outcome === 'ringing' || (pickedUpBy && leg.outcome !== 'answered')) {
      leg.outcome = 'answered';
      leg.answeredAt ??= at;
      leg.endedAt = null;
      if (pickedUpBy) leg.pickedUpBy = pickedUpBy;
      if (leg.episode === this.episode) this.episodeAnswered = true;
    }
  }

  private legHungUp(channel: ChannelState, at: number): void {
    const leg = this.legs.get(channel.uniqueid);
    if (!leg) return;
    if (leg.outcome === 'ringing') {
      leg.outcome = outcomeOfCause(channel.cause);
      leg.endedAt = at;
    }
    leg.hangupCause = channel.cause;
  }

  private queueEnded(queue: string | undefined, outcome: 'abandoned' | 'timeout', at: number): void {
    const visit = queue ? this.openVisit(queue) ?? this.lastVisit(queue) : this.queues[this.queues.length - 1];
    if (!visit || visit.outcome === 'answered') return;
    // Asterisk sends QueueCallerAbandon for a timeout too: QUEUESTATUS=TIMEOUT, when it comes, wins.
    if (visit.outcome === 'waiting' || outcome === 'timeout') visit.outcome = outcome;
    visit.leftAt ??= at;
  }

  private openVisit(queue: string | undefined): QueueVisit | undefined {
    return [...this.queues].reverse().find((q) => q.queue === queue && q.leftAt === null);
  }

  private lastVisit(queue: string | undefined): QueueVisit | undefined {
    return [...this.queues].reverse().find((q) => q.queue === queue);
  }

  private transferred(kind: 'blind' | 'attended', byChannel: string | undefined, to: string | null, result: string, at: number): void {
    const by = byChannel ? parseChannelName(byChannel).endpoint : null;
    if (this.transfers.some((t) => t.kind === kind && t.at === at && t.by === by)) return;
    this.transfers.push({ kind, at, by, to, result });
    // Whatever rings next is a new episode: the transfer target can miss the call.
    if (this.episodeAnswered) {
      this.episode++;
      this.episodeAnswered = false;
    }
  }
}
