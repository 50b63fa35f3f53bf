import type { Migration } from './index.js';

/**
 * The journal of calls in progress (pbx/call-journal.ts): the AMI events the call tracker
 * folded, in the order it folded them (`seq`, given by the journal, global across calls),
 * under the Linkedid of the call they were folded into. A call's rows are deleted in the
 * transaction that stores the ended call; at start the tracker replays what is left.
 * `at` is the event's time as the tracker used it, `received_at` when tgpbx received it
 * (both bigint milliseconds since the epoch); `event` is the event as JSON.
 */
export const callJournal: Migration = {
  name: '009-call-journal',
  async up(db) {
    await db.schema.createTable('call_journal', (t) => {
      t.bigInteger('seq').primary();
      t.string('linkedid', 64).notNullable();
      t.bigInteger('at').notNullable();
      t.bigInteger('received_at').notNullable();
      t.text('event').notNullable();
      t.index(['linkedid'], 'call_journal_linkedid_idx');
    });
  },
  async down(db) {
    await db.schema.dropTableIfExists('call_journal');
  },
};
