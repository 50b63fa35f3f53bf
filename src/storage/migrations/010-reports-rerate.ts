import type { Migration } from './index.js';

/**
 * Atomic re-rating (reports): a re-rate rates its calls into rp_rerate_rows first, in
 * short batches, then swaps them into rp_ratings in one transaction. rp_rerates names
 * each run (its rows are its staging rows); `rated` is false for a call that gets no
 * rating any more (its peer has no deck now), whose old rating the swap removes. Rows of
 * a run that failed or crashed are deleted by the next run.
 */
export const reportsRerate: Migration = {
  name: '010-reports-rerate',
  async up(db) {
    await db.schema.createTable('rp_rerates', (t) => {
      t.increments('id').primary();
      t.bigInteger('started_at').notNullable();
    });
    await db.schema.createTable('rp_rerate_rows', (t) => {
      t.integer('rerate_id').notNullable().references('id').inTable('rp_rerates').onDelete('CASCADE');
      t.integer('call_id').notNullable();
      t.boolean('rated').notNullable();
      t.string('peer', 64).notNullable();
      t.bigInteger('started_at').notNullable();
      t.string('number', 32).notNullable();
      t.string('code', 16).notNullable();
      t.string('destination', 128).notNullable();
      t.integer('talk_seconds').notNullable();
      t.integer('billed_seconds').notNullable();
      t.bigInteger('cost_micro').notNullable();
      t.bigInteger('revenue_micro').notNullable();
      t.bigInteger('profit_micro').notNullable();
      t.string('cost_prefix', 16);
      t.string('sell_prefix', 16);
      t.bigInteger('rated_at').notNullable();
      t.primary(['rerate_id', 'call_id']);
    });
  },
  async down(db) {
    await db.schema.dropTableIfExists('rp_rerate_rows');
    await db.schema.dropTableIfExists('rp_rerates');
  },
};
