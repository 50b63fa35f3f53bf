import type { Migration } from './index.js';

/**
 * Settings, admin sessions, the durable Telegram outbox and the recipients Telegram
 * refused (403). Times are bigint milliseconds since the epoch (portable across SQLite and PostgreSQL).
 */
export const foundation: Migration = {
  name: '001-foundation',
  async up(db) {
    await db.schema.createTable('settings', (t) => {
      t.string('key', 100).primary();
      t.text('value').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
    await db.schema.createTable('admin_sessions', (t) => {
      t.string('id_hash', 64).primary();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('expires_at').notNullable();
    });
    await db.schema.createTable('outbox', (t) => {
      t.increments('id').primary();
      t.string('idempotency_key', 200).notNullable().unique();
      t.string('bot_id', 64).notNullable();
      t.string('chat_id', 32).notNullable();
      t.string('method', 40).notNullable();
      t.text('payload').notNullable();
      t.string('status', 16).notNullable();
      t.integer('attempts').notNullable().defaultTo(0);
      t.bigInteger('not_before').notNullable().defaultTo(0);
      t.text('last_error');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('sent_at');
      t.bigInteger('telegram_message_id');
      t.index(['bot_id', 'status', 'chat_id', 'id'], 'outbox_pending_idx');
    });
    await db.schema.createTable('telegram_recipients', (t) => {
      t.string('bot_id', 64).notNullable();
      t.string('chat_id', 32).notNullable();
      t.string('state', 16).notNullable();
      t.text('reason');
      t.bigInteger('updated_at').notNullable();
      t.primary(['bot_id', 'chat_id']);
    });
  },
  async down(db) {
    for (const table of ['telegram_recipients', 'outbox', 'admin_sessions', 'settings']) await db.schema.dropTableIfExists(table);
  },
};
