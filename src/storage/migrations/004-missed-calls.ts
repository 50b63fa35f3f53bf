import type { Migration } from './index.js';

/**
 * Missed-call notices: activation keys per group and per extension, subscribers (a
 * Telegram chat subscribed to one scope), the per-group flag "notify about missed calls",
 * and throttling of wrong keys.
 */
export const missedCalls: Migration = {
  name: '004-missed-calls',
  async up(db) {
    await db.schema.alterTable('user_groups', (t) => {
      t.boolean('notify_missed').notNullable().defaultTo(true);
    });
    await db.schema.createTable('mc_keys', (t) => {
      t.increments('id').primary();
      t.string('scope_kind', 16).notNullable();
      t.string('scope_id', 64).notNullable();
      t.string('key', 64).notNullable().unique();
      t.bigInteger('created_at').notNullable();
      t.unique(['scope_kind', 'scope_id']);
    });
    await db.schema.createTable('mc_subscribers', (t) => {
      t.increments('id').primary();
      t.string('chat_id', 32).notNullable();
      t.string('name', 128).notNullable();
      t.string('telegram_name', 128).notNullable().defaultTo('');
      t.string('scope_kind', 16).notNullable();
      t.string('scope_id', 64).notNullable();
      t.string('status', 16).notNullable();
      t.bigInteger('status_changed_at').notNullable();
      t.bigInteger('created_at').notNullable();
      t.unique(['chat_id', 'scope_kind', 'scope_id']);
      t.index(['scope_kind', 'scope_id'], 'mc_subscribers_scope_idx');
    });
    await db.schema.createTable('mc_chat_extensions', (t) => {
      t.string('chat_id', 32).primary();
      t.string('extension', 64).notNullable();
    });
    await db.schema.createTable('mc_callbacks', (t) => {
      t.integer('call_id').notNullable();
      t.string('chat_id', 32).notNullable();
      t.bigInteger('pressed_at').notNullable();
      t.primary(['call_id', 'chat_id']);
    });
    await db.schema.createTable('mc_link_tokens', (t) => {
      t.string('token', 64).primary();
      t.string('scope_kind', 16).notNullable();
      t.string('scope_id', 64).notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('expires_at').notNullable();
      t.bigInteger('used_at');
      t.string('used_by_chat', 32);
    });
    await db.schema.createTable('mc_key_failures', (t) => {
      t.string('chat_id', 32).primary();
      t.integer('count').notNullable();
      t.bigInteger('window_start').notNullable();
    });
  },
  async down(db) {
    for (const table of ['mc_key_failures', 'mc_link_tokens', 'mc_callbacks', 'mc_chat_extensions', 'mc_subscribers', 'mc_keys']) await db.schema.dropTableIfExists(table);
    await db.schema.alterTable('user_groups', (t) => t.dropColumn('notify_missed'));
  },
};
