import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeEvent, encodeEvent, type JournalEntry } from '../../src/pbx/call-journal.js';
import { AMI_FIXTURES, AMI_SYNTHETIC, loadAmiEvents } from '../support/ami-fixtures.js';
import { replayCalls, trackerOnFakeTime } from '../support/call-replay.js';

const FIXTURES = [AMI_FIXTURES, AMI_SYNTHETIC].flatMap((dir) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ami'))
    .sort()
    .map((f) => path.join(dir, f)),
);

/** What a journal row gives back: the entry as `call_journal` stores and `load` reads it. */
function roundTrip(entry: JournalEntry): JournalEntry {
  return { ...entry, event: decodeEvent(encodeEvent(entry.event)) };
}

describe('call journal: a tracker restored from the journal decides as if nothing had happened', () => {
  let events = 0;
  let journaled = 0;
  after(() => console.log(`      the journal kept ${journaled} of ${events} call events (${((journaled / events) * 100).toFixed(0)}%) over all recordings`));

  for (const file of FIXTURES) {
    it(`${path.basename(file)}: killed after any event, restored, fed the rest: the same calls, not partial`, () => {
      const stream = loadAmiEvents(file);
      const expected = replayCalls(stream);
      assert.ok(expected.length > 0);
      // Every cut for the small recordings; about 200 cuts of the burst.
      const step = Math.max(1, Math.floor(stream.length / 200));
      for (let cut = 0; cut <= stream.length; cut += step) {
        const journal: JournalEntry[] = [];
        const before = trackerOnFakeTime({ journal: { append: (e) => journal.push(roundTrip(e)) } });
        for (const e of stream.slice(0, cut)) before.tracker.handle(e);
        // kill -9: the first tracker's timers never fire. A new one starts at the same time.
        const after = trackerOnFakeTime();
        after.tracker.restore(journal);
        for (const e of stream.slice(cut)) after.tracker.handle(e);
        after.clock.advance(60_000);
        assert.deepEqual(after.calls, expected, `${path.basename(file)} cut after event ${cut} of ${stream.length}`);
        if (cut === stream.length) {
          events += stream.length;
          journaled += journal.length;
        }
      }
    });
  }
});
