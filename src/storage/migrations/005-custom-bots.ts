import type { Migration } from './index.js';

/**
 * The admin's own Telegram bots (Bots page of missed-call notices): a name, a token
 * (secret: shown masked, registered with the SecretScrubber), the username getMe gave
 * when it was added, and whether it is the active one (at most one is). Times are bigint
 * milliseconds since the epoch.
 */
export const customBots: Migration = {
  name: '005-custom-bots',
  async up(db) {
    await db.schema.createTable('telegram_bots', (t) => {
      t.increments('id').primary();
      t.string('name', 64).notNullable();
      t.string('token', 128).notNullable().unique();
      t.string('username', 64).notNullable().defaultTo('');
      t.boolean('active').notNullable().defaultTo(false);
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
  },
  async down(db) {
    await db.schema.dropTableIfExists('telegram_bots');
  },
};
