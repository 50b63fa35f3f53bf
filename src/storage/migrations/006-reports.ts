import type { Migration } from './index.js';

/**
 * Reports and loss control (issue 8): rate decks per peer (cost and sell) with their
 * rates, the rating of each call, report chats and who may see which peer, refused
 * attempts, loss limits and the blocks they caused, /profit tables shown in Telegram
 * (for their page buttons), and the state of /profit conversations. Money is integer
 * micro-units (bigint); times are bigint ms since the epoch.
 */
export const reports: Migration = {
  name: '006-reports',
  async up(db) {
    await db.schema.createTable('rp_decks', (t) => {
      t.increments('id').primary();
      t.string('peer', 64).notNullable();
      t.string('kind', 8).notNullable();
      t.integer('version').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['peer', 'kind']);
    });
    await db.schema.createTable('rp_rates', (t) => {
      t.increments('id').primary();
      t.integer('deck_id').notNullable().references('id').inTable('rp_decks').onDelete('CASCADE');
      t.string('prefix', 16).notNullable();
      t.string('name', 128).notNullable();
      t.bigInteger('rate_micro').notNullable();
      t.integer('first_increment').notNullable();
      t.integer('next_increment').notNullable();
      t.bigInteger('connection_fee_micro').notNullable();
      t.bigInteger('effective_from').notNullable();
      t.unique(['deck_id', 'prefix', 'effective_from']);
    });
    await db.schema.createTable('rp_ratings', (t) => {
      t.integer('call_id').primary().references('id').inTable('calls').onDelete('CASCADE');
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
      t.index(['peer', 'started_at'], 'rp_ratings_peer_time_idx');
      t.index(['started_at'], 'rp_ratings_time_idx');
    });
    await db.schema.createTable('rp_chats', (t) => {
      t.increments('id').primary();
      t.string('chat_id', 32).notNullable();
      t.string('bot_id', 64).notNullable();
      t.string('title', 128).notNullable().defaultTo('');
      t.string('status', 16).notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('approved_at');
      t.unique(['chat_id', 'bot_id']);
    });
    await db.schema.createTable('rp_chat_peers', (t) => {
      t.integer('chat_row_id').notNullable().references('id').inTable('rp_chats').onDelete('CASCADE');
      t.string('peer', 64).notNullable();
      t.primary(['chat_row_id', 'peer']);
    });
    await db.schema.createTable('rp_refusals', (t) => {
      t.increments('id').primary();
      t.string('chat_id', 32).notNullable();
      t.string('bot_id', 64).notNullable();
      t.string('user', 128).notNullable();
      t.string('what', 64).notNullable();
      t.bigInteger('at').notNullable();
    });
    await db.schema.createTable('rp_limits', (t) => {
      t.increments('id').primary();
      t.string('peer', 64).notNullable();
      t.string('period', 8).notNullable();
      t.bigInteger('max_loss_micro').notNullable();
      t.integer('min_margin_bp');
      t.integer('alert_chat_row_id').references('id').inTable('rp_chats').onDelete('SET NULL');
      t.boolean('enabled').notNullable().defaultTo(true);
      t.bigInteger('created_at').notNullable();
      t.unique(['peer', 'period']);
    });
    await db.schema.createTable('rp_blocks', (t) => {
      t.increments('id').primary();
      t.integer('limit_id').notNullable().references('id').inTable('rp_limits').onDelete('CASCADE');
      t.string('peer', 64).notNullable();
      t.string('period', 8).notNullable();
      t.bigInteger('period_start').notNullable();
      t.bigInteger('until').notNullable();
      t.bigInteger('blocked_at').notNullable();
      t.string('reason', 16).notNullable();
      t.bigInteger('cost_micro').notNullable();
      t.bigInteger('revenue_micro').notNullable();
      t.bigInteger('profit_micro').notNullable();
      t.bigInteger('ended_at');
      t.string('ended_by', 128);
      t.unique(['limit_id', 'period_start']);
      t.index(['ended_at'], 'rp_blocks_open_idx');
    });
    await db.schema.createTable('rp_report_views', (t) => {
      t.increments('id').primary();
      t.string('chat_id', 32).notNullable();
      t.string('bot_id', 64).notNullable();
      t.string('peer', 64).notNullable();
      t.bigInteger('from_ms').notNullable();
      t.bigInteger('to_ms').notNullable();
      t.string('label', 64).notNullable();
      t.bigInteger('created_at').notNullable();
    });
    await db.schema.createTable('rp_conversations', (t) => {
      t.string('key', 128).primary();
      t.text('state').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
  },
  async down(db) {
    for (const table of ['rp_conversations', 'rp_report_views', 'rp_blocks', 'rp_limits', 'rp_refusals', 'rp_chat_peers', 'rp_chats', 'rp_ratings', 'rp_rates', 'rp_decks']) await db.schema.dropTableIfExists(table);
  },
};
