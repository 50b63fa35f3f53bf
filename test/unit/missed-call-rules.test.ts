import assert from 'node:assert/strict';
import { AmiCallScript } from '../support/ami-event-builder.js';
import { loadAmiEvents } from '../support/ami-fixtures.js';
import { missedSummary, replayCalls, trackerOnFakeTime } from '../support/call-replay.js';

const T = 1795400000;
const L = `${T}.1`;

/** An inbound Telegram call from +79990001122 on the trunk to the DID `exten`. */
function inbound(exten: string): AmiCallScript {
  return new AmiCallScript(L).newchannel(T, L, 'PJSIP/trunk-00000001', '+79990001122', '@alice', 'from-trunk', exten);
}

describe('missed-call rules', () => {
  it('a call no one answered is missed for each extension that rang', () => {
    const s = inbound('200')
      .newchannel(T, `${T}.2`, 'PJSIP/101-00000002', '101', 'Ext 101', 'from-internal', 's')
      .newchannel(T, `${T}.3`, 'PJSIP/102-00000003', '102', 'Ext 102', 'from-internal', 's')
      .dialBegin(T, L, `${T}.2`, '101')
      .dialBegin(T, L, `${T}.3`, '102')
      .dialEnd(T + 10, L, `${T}.2`, 'NOANSWER')
      .dialEnd(T + 10, L, `${T}.3`, 'NOANSWER')
      .hangup(T + 10, `${T}.2`, 0)
      .hangup(T + 10, `${T}.3`, 0)
      .hangup(T + 10, L, 16);
    const [call] = replayCalls(s.events);
    assert.deepEqual(missedSummary(call!), ['extension:101:no_answer', 'extension:102:no_answer']);
  });

  it('a ring group call answered by 102 is not missed for 101', () => {
    const s = inbound('200')
      .newchannel(T, `${T}.2`, 'PJSIP/101-00000002', '101', 'Ext 101', 'from-internal', 's')
      .newchannel(T, `${T}.3`, 'PJSIP/102-00000003', '102', 'Ext 102', 'from-internal', 's')
      .dialBegin(T, L, `${T}.2`, '101')
      .dialBegin(T, L, `${T}.3`, '102')
      .dialEnd(T + 3, L, `${T}.3`, 'ANSWER')
      .dialEnd(T + 3, L, `${T}.2`, 'CANCEL')
      .hangup(T + 3, `${T}.2`, 26, 'Answered elsewhere')
      .hangup(T + 9, `${T}.3`, 16)
      .hangup(T + 9, L, 16);
    const [call] = replayCalls(s.events);
    assert.equal(call!.disposition, 'answered');
    assert.equal(call!.answeredBy, '102');
    assert.deepEqual(call!.missed, []);
    assert.equal(call!.legs.find((l) => l.endpoint === '101')!.outcome, 'answered_elsewhere');
  });

  it('a call picked up by a colleague (*8) is answered by him and missed for nobody', () => {
    const s = inbound('100')
      .newchannel(T, `${T}.2`, 'PJSIP/101-00000002', '101', 'Ext 101', 'from-internal', 's')
      .dialBegin(T, L, `${T}.2`, '101')
      .newchannel(T + 4, `${T}.3`, 'PJSIP/102-00000003', '102', 'Ext 102', 'from-internal', '*8')
      .pickup(T + 5, `${T}.3`, `${T}.2`)
      .dialEnd(T + 5, L, `${T}.2`, 'ANSWER')
      .hangup(T + 12, `${T}.2`, 16)
      .hangup(T + 12, `${T}.3`, 16)
      .hangup(T + 12, L, 16);
    const [call] = replayCalls(s.events);
    assert.equal(call!.disposition, 'answered');
    assert.equal(call!.answeredBy, '102');
    assert.deepEqual(call!.missed, []);
  });

  it('a caller who hangs up during ringing is missed, reason caller hung up', () => {
    const [call] = replayCalls('cancelled-call.ami');
    assert.deepEqual(missedSummary(call!), ['extension:101:caller_hung_up']);
    assert.equal(call!.missed[0]!.ringSeconds, 5);
  });

  it('a caller who hangs up in the IVR before any extension rang "ended in IVR", not missed by default', () => {
    const s = inbound('500').newexten(T + 1, L, 'Background', 'welcome').hangup(T + 6, L, 16);
    const [call] = replayCalls(s.events);
    assert.equal(call!.disposition, 'ended_in_ivr');
    assert.deepEqual(call!.missed, []);
  });

  it('an IVR hang-up counts as missed for the number dialed when the admin says so', () => {
    const s = inbound('500').newexten(T + 1, L, 'Background', 'welcome').hangup(T + 6, L, 16);
    const [call] = replayCalls(s.events, { ivrHangupIsMissed: true });
    assert.equal(call!.disposition, 'ended_in_ivr');
    assert.deepEqual(missedSummary(call!), ['number:500:caller_hung_up']);
  });

  it('voicemail left: missed, with the voicemail flag', () => {
    const s = inbound('100')
      .newchannel(T, `${T}.2`, 'PJSIP/101-00000002', '101', 'Ext 101', 'from-internal', 's')
      .dialBegin(T, L, `${T}.2`, '101')
      .dialEnd(T + 10, L, `${T}.2`, 'NOANSWER')
      .hangup(T + 10, `${T}.2`, 0)
      .newexten(T + 10, L, 'VoiceMail', '101@default,u')
      .varSet(T + 25, L, 'VMSTATUS', 'SUCCESS')
      .hangup(T + 25, L, 16);
    const [call] = replayCalls(s.events);
    assert.deepEqual(missedSummary(call!), ['extension:101:no_answer']);
    assert.equal(call!.voicemailLeft, true);
  });

  it('a blind transfer that ends unanswered is missed for the target, naming the original caller', () => {
    const s = inbound('100')
      .newchannel(T, `${T}.2`, 'PJSIP/101-00000002', '101', 'Ext 101', 'from-internal', 's')
      .dialBegin(T, L, `${T}.2`, '101')
      .dialEnd(T + 2, L, `${T}.2`, 'ANSWER')
      .blindTransfer(T + 20, `${T}.2`, L, '102')
      .hangup(T + 20, `${T}.2`, 16)
      .newchannel(T + 20, `${T}.3`, 'PJSIP/102-00000003', '102', 'Ext 102', 'from-internal', 's')
      .dialBegin(T + 20, L, `${T}.3`, '102')
      .dialEnd(T + 35, L, `${T}.3`, 'NOANSWER')
      .hangup(T + 35, `${T}.3`, 0)
      .hangup(T + 35, L, 16);
    const [call] = replayCalls(s.events);
    assert.deepEqual(missedSummary(call!), ['extension:102:no_answer']);
    assert.equal(call!.caller.number, '+79990001122');
    assert.deepEqual(call!.transfers.map((t) => [t.kind, t.by, t.to]), [['blind', '101', '102']]);
    assert.equal(call!.missed[0]!.ringSeconds, 15);
  });

  it('busy and unavailable targets are missed with that reason', () => {
    const s = inbound('200')
      .newchannel(T, `${T}.2`, 'PJSIP/101-00000002', '101', 'Ext 101', 'from-internal', 's')
      .newchannel(T, `${T}.3`, 'PJSIP/103-00000003', '103', 'Ext 103', 'from-internal', 's')
      .dialBegin(T, L, `${T}.2`, '101')
      .dialBegin(T, L, `${T}.3`, '103')
      .dialEnd(T, L, `${T}.3`, 'CHANUNAVAIL')
      .hangup(T, `${T}.3`, 20, 'Subscriber absent')
      .dialEnd(T + 1, L, `${T}.2`, 'BUSY')
      .hangup(T + 1, `${T}.2`, 17, 'User busy')
      .hangup(T + 1, L, 17);
    const [call] = replayCalls(s.events);
    assert.deepEqual(missedSummary(call!), ['extension:101:busy', 'extension:103:unavailable']);
  });

  it('a queue caller who abandons is missed for the queue, with the wait time', () => {
    const s = inbound('300');
    s.events.push({
      event: 'QueueCallerJoin',
      fields: { event: 'QueueCallerJoin', timestamp: String(T + 1), channel: 'PJSIP/trunk-00000001', uniqueid: L, linkedid: L, queue: 'support', position: '1', count: '1' },
      variables: {},
    });
    s.events.push({
      event: 'QueueCallerAbandon',
      fields: { event: 'QueueCallerAbandon', timestamp: String(T + 7), channel: 'PJSIP/trunk-00000001', uniqueid: L, linkedid: L, queue: 'support', position: '1', originalposition: '1', holdtime: '6' },
      variables: {},
    });
    s.hangup(T + 7, L, 16);
    const [call] = replayCalls(s.events);
    assert.deepEqual(missedSummary(call!), ['queue:support:abandoned']);
    assert.equal(call!.missed[0]!.ringSeconds, 6);
  });

  it('outbound calls are never missed: an unanswered one is "not answered" by the customer', () => {
    const [call] = replayCalls('outbound-noanswer.ami');
    assert.deepEqual(call!.missed, []);
    assert.equal(call!.disposition, 'not_answered');
  });

  it('duplicates of events (repeated Hangup, DialEnd, a replay after the end) change nothing', () => {
    const events = loadAmiEvents('missed-call.ami');
    const dialEnd = events.find((e) => e.event === 'DialEnd')!;
    const hangups = events.filter((e) => e.event === 'Hangup');
    const t = trackerOnFakeTime();
    for (const e of events) {
      t.tracker.handle(e);
      if (e === dialEnd) t.tracker.handle(e);
    }
    for (const h of hangups) t.tracker.handle(h);
    t.clock.advance(2000);
    for (const e of events) t.tracker.handle(e); // a whole replay after the call ended
    t.clock.advance(60_000);
    assert.equal(t.calls.length, 1);
    assert.deepEqual(missedSummary(t.calls[0]!), ['extension:101:no_answer']);
    assert.equal(t.tracker.active, 0);
  });
});

describe('call tracker timing and bad input', () => {
  it('emits call.ended only after the settle time following the last Hangup', () => {
    const t = trackerOnFakeTime({ settleMs: 1500 });
    for (const e of loadAmiEvents('answered-call.ami')) t.tracker.handle(e);
    assert.equal(t.calls.length, 0);
    t.clock.advance(1499);
    assert.equal(t.calls.length, 0);
    t.clock.advance(1);
    assert.equal(t.calls.length, 1);
  });

  it('a call seen from the middle (unknown Linkedid) is still reported, marked partial', () => {
    const events = loadAmiEvents('missed-call.ami');
    const fromDialEnd = events.slice(events.findIndex((e) => e.event === 'DialEnd'));
    const [call] = replayCalls(fromDialEnd);
    assert.equal(call!.partial, true);
    assert.equal(call!.linkedid, '1795331344.0');
  });

  it('an event without Uniqueid is counted and logged once, never a crash', async () => {
    const t = trackerOnFakeTime();
    const bad = { event: 'Hangup', fields: { event: 'Hangup', linkedid: L, cause: '16' }, variables: {} };
    t.tracker.handle(bad);
    t.tracker.handle(bad);
    const metric = await t.metrics.registry.getSingleMetricAsString('tgpbx_call_events_ignored_total');
    assert.match(metric, /reason="missing_field"} 2/);
    assert.equal(t.logs.lines.filter((l) => l.includes('without Uniqueid')).length, 1);
  });

  it('unknown events and events of no call are ignored', () => {
    const t = trackerOnFakeTime();
    t.tracker.handle({ event: 'FullyBooted', fields: { event: 'FullyBooted', status: 'Fully Booted' }, variables: {} });
    t.tracker.handle({ event: 'SomethingNew', fields: { event: 'SomethingNew', linkedid: L, uniqueid: L, channel: 'PJSIP/x-1' }, variables: {} });
    assert.equal(t.tracker.active, 1);
  });

  it('a call whose Hangup never comes is closed as partial after the idle limit', () => {
    const t = trackerOnFakeTime();
    const events = loadAmiEvents('missed-call.ami');
    for (const e of events.slice(0, events.findIndex((e) => e.event === 'DialEnd'))) t.tracker.handle(e);
    t.tracker.start();
    t.clock.advance(4 * 3600_000 + 600_000);
    assert.equal(t.calls.length, 1);
    assert.equal(t.calls[0]!.partial, true);
    t.tracker.stop();
  });
});
