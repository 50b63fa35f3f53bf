import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AMI_FIXTURES, AMI_SYNTHETIC } from '../support/ami-fixtures.js';
import { missedSummary, replayCalls } from '../support/call-replay.js';

/** Recordings of a real Asterisk 20 and the verdict each .md file gives. */
const RECORDED: { file: string; direction: string; disposition: string; answeredBy: string | null; missed: string[]; originated?: boolean }[] = [
  { file: 'missed-call.ami', direction: 'inbound', disposition: 'missed', answeredBy: null, missed: ['extension:101:no_answer'] },
  { file: 'missed-call-chan_sip.ami', direction: 'inbound', disposition: 'missed', answeredBy: null, missed: ['extension:101:no_answer'] },
  { file: 'answered-call.ami', direction: 'inbound', disposition: 'answered', answeredBy: '101', missed: [] },
  { file: 'answered-call-chan_sip.ami', direction: 'inbound', disposition: 'answered', answeredBy: '101', missed: [] },
  { file: 'cancelled-call.ami', direction: 'inbound', disposition: 'missed', answeredBy: null, missed: ['extension:101:caller_hung_up'] },
  { file: 'ringgroup-missed.ami', direction: 'inbound', disposition: 'missed', answeredBy: null, missed: ['extension:101:no_answer', 'extension:102:no_answer'] },
  { file: 'queue-missed.ami', direction: 'inbound', disposition: 'missed', answeredBy: null, missed: ['extension:101:no_answer', 'extension:102:no_answer', 'queue:support:no_answer'] },
  { file: 'queue-answered.ami', direction: 'inbound', disposition: 'answered', answeredBy: '101', missed: [] },
  { file: 'busy.ami', direction: 'inbound', disposition: 'missed', answeredBy: null, missed: ['extension:101:busy'] },
  { file: 'internal-missed.ami', direction: 'internal', disposition: 'missed', answeredBy: null, missed: ['extension:102:no_answer'] },
  { file: 'outbound-noanswer.ami', direction: 'outbound', disposition: 'not_answered', answeredBy: null, missed: [] },
  { file: 'fastagi-call.ami', direction: 'inbound', disposition: 'missed', answeredBy: null, missed: ['extension:101:no_answer'] },
  { file: 'originate-call.ami', direction: 'internal', disposition: 'answered', answeredBy: '101', missed: [], originated: true },
  { file: 'callback-originate.ami', direction: 'outbound', disposition: 'answered', answeredBy: '101', missed: [], originated: true },
  { file: 'playdtmf.ami', direction: 'inbound', disposition: 'answered', answeredBy: '101', missed: [] },
];

describe('call tracker on the recordings of a real Asterisk 20', () => {
  for (const expected of RECORDED) {
    it(`${expected.file}: ${expected.disposition}${expected.missed.length ? ' for ' + expected.missed.join(', ') : ''}`, () => {
      const calls = replayCalls(expected.file);
      assert.equal(calls.length, 1, 'exactly one call.ended');
      const call = calls[0]!;
      assert.equal(call.direction, expected.direction);
      assert.equal(call.disposition, expected.disposition);
      assert.equal(call.answeredBy, expected.answeredBy);
      assert.equal(call.originated, expected.originated ?? false);
      assert.deepEqual(missedSummary(call), expected.missed);
      assert.equal(call.partial, false);
    });
  }

  it('names the Telegram caller and the number dialed on an inbound call', () => {
    const [call] = replayCalls('missed-call.ami');
    assert.deepEqual(call!.caller, { number: '+79990001122', name: '@alice', channel: 'PJSIP/trunk-00000000', endpoint: 'trunk' });
    assert.equal(call!.dialed, '100');
    assert.equal(call!.trunk, 'trunk');
    assert.equal(call!.ringSeconds, 10);
    assert.equal(call!.missed[0]!.ringSeconds, 10);
  });

  it('measures ring and talk time of an answered call', () => {
    const [call] = replayCalls('answered-call.ami');
    assert.deepEqual([call!.ringSeconds, call!.talkSeconds], [2, 4]);
  });

  it('an outbound call is named by the number dialed, not the one the phone typed', () => {
    const [call] = replayCalls('outbound-noanswer.ami');
    assert.equal(call!.dialed, '+79990001122');
    assert.equal(call!.trunk, 'trunk');
    assert.equal(call!.caller.number, '101');
  });

  it('a queue caller waited 15 s before the queue gave up; each member rang twice, counted once', () => {
    const [call] = replayCalls('queue-missed.ami');
    assert.deepEqual(
      call!.missed.map((m) => [m.target, m.ringSeconds]),
      [
        ['101', 14],
        ['102', 14],
        ['support', 15],
      ],
    );
    assert.equal(call!.queues[0]!.outcome, 'timeout');
  });

  describe('burst: 20 overlapping calls', () => {
    const table = fs
      .readFileSync(path.join(AMI_FIXTURES, 'burst.md'), 'utf8')
      .split('\n')
      .filter((l) => /^\| \d+ \|/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()));
    const calls = replayCalls('burst.ami');

    it('gives 20 calls: 9 answered, 11 missed', () => {
      assert.equal(table.length, 20);
      assert.equal(calls.length, 20);
      assert.equal(calls.filter((c) => c.disposition === 'answered').length, 9);
      assert.equal(calls.filter((c) => c.disposition === 'missed').length, 11);
    });

    it('gives each call the verdict of the recording notes', () => {
      for (const row of table) {
        const [, n, , linkedid, , , , caller, , , , verdict] = row;
        const call = calls.find((c) => c.linkedid === linkedid);
        assert.ok(call, `call ${n} (${linkedid})`);
        assert.equal(call.caller.number, caller!.split(' / ')[0], `caller of call ${n}`);
        const answered = /^answered by (\d+)/.exec(verdict!);
        if (answered) {
          assert.equal(call.answeredBy, answered[1], `call ${n}`);
          assert.deepEqual(call.missed, [], `call ${n} is missed for nobody`);
        } else {
          const who = [...verdict!.matchAll(/\b(10[12])\b/g)].map((m) => m[1]).sort();
          const reason = /caller hung up/.test(verdict!) ? 'caller_hung_up' : 'no_answer';
          assert.deepEqual(missedSummary(call), who.map((w) => `extension:${w}:${reason}`), `call ${n}: ${verdict}`);
        }
      }
    });

    it('is missed 11 times for 101 and 5 times for 102, never for the phone cancelled because the other answered', () => {
      const count = (ext: string) => calls.filter((c) => c.missed.some((m) => m.target === ext)).length;
      assert.deepEqual([count('101'), count('102')], [11, 5]);
    });
  });
});

/** Streams written from the AMI documentation for what the recordings lack (see test/fixtures/ami-synthetic/README.md). */
const SYNTHETIC: { file: string; disposition: string; answeredBy: string | null; missed: string[]; check?: (call: import('../../src/pbx/call-model.js').Call) => void }[] = [
  {
    file: 'blind-transfer-unanswered.ami',
    disposition: 'missed',
    answeredBy: '101',
    missed: ['extension:102:no_answer'],
    check: (c) => {
      assert.equal(c.caller.number, '+79990001122');
      assert.deepEqual(c.transfers.map((t) => [t.kind, t.by, t.to]), [['blind', '101', '102']]);
    },
  },
  { file: 'attended-transfer-answered.ami', disposition: 'answered', answeredBy: '102', missed: [], check: (c) => assert.equal(c.transfers[0]?.kind, 'attended') },
  {
    file: 'attended-transfer-target-noanswer.ami',
    disposition: 'answered',
    answeredBy: '101',
    missed: [],
    check: (c) => assert.deepEqual(c.legs.filter((l) => l.consult).map((l) => [l.endpoint, l.outcome]), [['102', 'no_answer']]),
  },
  { file: 'pickup.ami', disposition: 'answered', answeredBy: '102', missed: [], check: (c) => assert.equal(c.legs[0]!.pickedUpBy, '102') },
  { file: 'voicemail.ami', disposition: 'missed', answeredBy: null, missed: ['extension:101:no_answer'], check: (c) => assert.equal(c.voicemailLeft, true) },
  { file: 'ivr-hangup.ami', disposition: 'ended_in_ivr', answeredBy: null, missed: [] },
  { file: 'unavailable.ami', disposition: 'missed', answeredBy: null, missed: ['extension:103:unavailable'] },
  { file: 'ringgroup-busy-noanswer.ami', disposition: 'missed', answeredBy: null, missed: ['extension:101:busy', 'extension:102:no_answer'] },
  {
    file: 'queue-abandon.ami',
    disposition: 'missed',
    answeredBy: null,
    missed: ['extension:101:abandoned', 'extension:102:abandoned', 'queue:support:abandoned'],
    check: (c) => assert.equal(c.missed.find((m) => m.kind === 'queue')!.ringSeconds, 6),
  },
  { file: 'duplicate-events.ami', disposition: 'missed', answeredBy: null, missed: ['extension:101:no_answer'] },
];

describe('call tracker on streams written from the AMI documentation', () => {
  for (const expected of SYNTHETIC) {
    it(`${expected.file}: ${expected.disposition}${expected.missed.length ? ' for ' + expected.missed.join(', ') : ''}`, () => {
      const calls = replayCalls(path.join(AMI_SYNTHETIC, expected.file));
      const call = calls.find((c) => c.direction === 'inbound');
      assert.ok(call, 'the inbound call was reported');
      assert.equal(calls.filter((c) => c.linkedid === call.linkedid).length, 1, 'exactly once');
      assert.equal(call.disposition, expected.disposition);
      assert.equal(call.answeredBy, expected.answeredBy);
      assert.deepEqual(missedSummary(call), expected.missed);
      expected.check?.(call);
    });
  }

  it('the phone that picked up with *8 closes its own call too, nothing is left waiting', () => {
    const calls = replayCalls(path.join(AMI_SYNTHETIC, 'pickup.ami'));
    assert.deepEqual(calls.map((c) => [c.direction, c.caller.number, c.disposition]).sort(), [
      ['inbound', '+79990001122', 'answered'],
      ['internal', '102', 'answered'],
    ]);
  });
});
