import type { AmiEvent } from '../../src/pbx/ami.js';

/**
 * Builds AMI call events with the fields Asterisk 20 sends (as in the recordings), for
 * the shapes a test needs that no recording holds. Times are seconds (AMI Timestamp).
 */
export class AmiCallScript {
  readonly events: AmiEvent[] = [];
  private channels = new Map<string, { channel: string; num: string; name: string; context: string; exten: string }>();

  constructor(readonly linkedid: string) {}

  private push(event: string, fields: Record<string, string>): this {
    this.events.push({ event, fields: { event, privilege: 'call,all', ...fields }, variables: {} });
    return this;
  }

  private chan(uniqueid: string, t: number) {
    const c = this.channels.get(uniqueid)!;
    return {
      timestamp: t.toFixed(6),
      channel: c.channel,
      channelstate: '4',
      calleridnum: c.num,
      calleridname: c.name,
      context: c.context,
      exten: c.exten,
      priority: '1',
      uniqueid,
      linkedid: this.linkedid,
    };
  }

  newchannel(t: number, uniqueid: string, channel: string, num: string, name: string, context: string, exten: string): this {
    this.channels.set(uniqueid, { channel, num, name, context, exten });
    return this.push('Newchannel', this.chan(uniqueid, t));
  }

  dialBegin(t: number, from: string, to: string, dialString: string): this {
    const d = this.chan(to, t);
    return this.push('DialBegin', { ...this.chan(from, t), destchannel: d.channel, destuniqueid: to, destlinkedid: this.linkedid, destcalleridnum: d.calleridnum, dialstring: dialString });
  }

  dialEnd(t: number, from: string, to: string, status: string): this {
    const d = this.chan(to, t);
    return this.push('DialEnd', { ...this.chan(from, t), destchannel: d.channel, destuniqueid: to, destlinkedid: this.linkedid, dialstatus: status });
  }

  hangup(t: number, uniqueid: string, cause: number, causeTxt = ''): this {
    return this.push('Hangup', { ...this.chan(uniqueid, t), cause: String(cause), 'cause-txt': causeTxt });
  }

  varSet(t: number, uniqueid: string, variable: string, value: string): this {
    return this.push('VarSet', { ...this.chan(uniqueid, t), variable, value });
  }

  newexten(t: number, uniqueid: string, application: string, data: string): this {
    return this.push('Newexten', { ...this.chan(uniqueid, t), application, appdata: data });
  }

  blindTransfer(t: number, transferer: string, transferee: string, extension: string): this {
    const a = this.chan(transferer, t);
    const b = this.chan(transferee, t);
    return this.push('BlindTransfer', {
      timestamp: t.toFixed(6),
      result: 'Success',
      transfererchannel: a.channel,
      transfereruniqueid: transferer,
      transfererlinkedid: this.linkedid,
      transfereechannel: b.channel,
      transfereeuniqueid: transferee,
      transfereelinkedid: this.linkedid,
      isexternal: 'No',
      context: 'from-internal',
      extension,
    });
  }

  pickup(t: number, picker: string, target: string): this {
    const p = this.chan(picker, t);
    const g = this.chan(target, t);
    return this.push('Pickup', { ...p, targetchannel: g.channel, targetuniqueid: target, targetlinkedid: this.linkedid });
  }
}
