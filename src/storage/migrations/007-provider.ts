import type { Migration } from './index.js';

/**
 * The Telegram provider's numbers: one Telegram account each. The row id is the line id:
 * the number's SIP line listens on 127.0.0.1:30000+id. Sessions live in files under the
 * data dir (sessions/<phone>/...), not here. Times are bigint milliseconds since the epoch.
 */
export const provider: Migration = {
  name: '007-provider',
  async up(db) {
    await db.schema.createTable('provider_numbers', (t) => {
      t.increments('id').primary();
      t.string('phone', 20).notNullable().unique();
      t.bigInteger('created_at').notNullable();
    });
  },
  async down(db) {
    await db.schema.dropTableIfExists('provider_numbers');
  },
};
