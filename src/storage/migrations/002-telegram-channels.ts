import type { Migration } from './index.js';

/**
 * Which Asterisk channel carries which Telegram user, written by the `tg-callerid` dialplan
 * hook for the duration of the call (deleted at Hangup, or when `expires_at` passes).
 * Times are bigint milliseconds since the epoch.
 */
export const telegramChannels: Migration = {
  name: '002-telegram-channels',
  async up(db) {
    await db.schema.createTable('telegram_channels', (t) => {
      t.string('uniqueid', 64).primary();
      t.string('channel', 200).notNullable();
      t.string('linkedid', 64);
      t.string('telegram_user_id', 32);
      t.string('telegram_username', 64);
      t.string('phone', 32);
      t.integer('line_id');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('expires_at').notNullable();
      t.index(['telegram_user_id'], 'telegram_channels_user_idx');
      t.index(['channel'], 'telegram_channels_channel_idx');
      t.index(['expires_at'], 'telegram_channels_expiry_idx');
    });
  },
  async down(db) {
    await db.schema.dropTableIfExists('telegram_channels');
  },
};
