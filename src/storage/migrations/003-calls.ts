import type { Migration } from './index.js';

/**
 * Call history (one row per Linkedid, its legs and the targets that missed it), raw CDRs
 * from cdr_manager, the PBX's endpoints (extensions and trunks, read from Asterisk or
 * entered by the admin) and user groups with their member extensions.
 */
export const calls: Migration = {
  name: '003-calls',
  async up(db) {
    await db.schema.createTable('calls', (t) => {
      t.increments('id').primary();
      t.string('linkedid', 64).notNullable().unique();
      t.string('direction', 16).notNullable();
      t.boolean('originated').notNullable();
      t.bigInteger('started_at').notNullable();
      t.bigInteger('answered_at');
      t.bigInteger('ended_at').notNullable();
      t.string('caller_number', 64).notNullable();
      t.string('caller_name', 128).notNullable();
      t.string('dialed', 64).notNullable();
      t.string('trunk', 64);
      t.string('answered_by', 64);
      t.integer('ring_seconds').notNullable();
      t.integer('talk_seconds').notNullable();
      t.boolean('voicemail_left').notNullable();
      t.string('disposition', 16).notNullable();
      t.boolean('partial').notNullable();
      t.text('detail').notNullable();
      t.index(['started_at'], 'calls_started_idx');
    });
    await db.schema.createTable('call_legs', (t) => {
      t.increments('id').primary();
      t.integer('call_id').notNullable().references('id').inTable('calls').onDelete('CASCADE');
      t.string('uniqueid', 64).notNullable();
      t.string('channel', 128).notNullable();
      t.string('endpoint', 64).notNullable();
      t.string('kind', 16).notNullable();
      t.string('dial_string', 128).notNullable();
      t.string('queue', 64);
      t.string('via', 64);
      t.integer('episode').notNullable();
      t.boolean('consult').notNullable().defaultTo(false);
      t.bigInteger('started_at').notNullable();
      t.bigInteger('answered_at');
      t.bigInteger('ended_at');
      t.string('outcome', 24).notNullable();
      t.string('picked_up_by', 64);
      t.integer('hangup_cause');
      t.index(['call_id'], 'call_legs_call_idx');
      t.index(['endpoint', 'started_at'], 'call_legs_endpoint_idx');
    });
    await db.schema.createTable('call_missed', (t) => {
      t.increments('id').primary();
      t.integer('call_id').notNullable().references('id').inTable('calls').onDelete('CASCADE');
      t.string('kind', 16).notNullable();
      t.string('target', 64).notNullable();
      t.string('reason', 24).notNullable();
      t.integer('ring_seconds').notNullable();
      t.index(['target', 'call_id'], 'call_missed_target_idx');
    });
    await db.schema.createTable('cdr_records', (t) => {
      t.increments('id').primary();
      t.string('linkedid', 64);
      t.string('uniqueid', 64);
      t.string('source', 64);
      t.string('destination', 64);
      t.string('destination_context', 64);
      t.string('channel', 128);
      t.string('destination_channel', 128);
      t.string('last_application', 64);
      t.string('disposition', 32);
      t.string('start_time', 32);
      t.string('answer_time', 32);
      t.string('end_time', 32);
      t.integer('duration');
      t.integer('billable_seconds');
      t.string('account_code', 64);
      t.text('raw').notNullable();
      t.bigInteger('received_at').notNullable();
      t.index(['linkedid'], 'cdr_linkedid_idx');
      t.index(['received_at'], 'cdr_received_idx');
    });
    await db.schema.createTable('pbx_endpoints', (t) => {
      t.string('endpoint', 64).primary();
      t.string('kind', 16).notNullable();
      t.string('name', 128).notNullable().defaultTo('');
      t.string('source', 16).notNullable();
      t.bigInteger('updated_at').notNullable();
    });
    await db.schema.createTable('user_groups', (t) => {
      t.increments('id').primary();
      t.string('name', 100).notNullable().unique();
      t.bigInteger('created_at').notNullable();
    });
    await db.schema.createTable('user_group_members', (t) => {
      t.integer('group_id').notNullable().references('id').inTable('user_groups').onDelete('CASCADE');
      t.string('extension', 64).notNullable();
      t.primary(['group_id', 'extension']);
      t.index(['extension'], 'user_group_members_ext_idx');
    });
  },
  async down(db) {
    for (const table of ['user_group_members', 'user_groups', 'pbx_endpoints', 'cdr_records', 'call_missed', 'call_legs', 'calls']) await db.schema.dropTableIfExists(table);
  },
};
