import type { Knex } from 'knex';
import type { Database } from '../storage/database.js';

/** Why Telegram refuses to deliver to a chat: the user blocked the bot, or the bot left the group. */
export type RecipientState = 'blocked' | 'unreachable';

/**
 * Chats that Telegram refused (403 blocked/kicked, 400 chat not found), per bot.
 * Features read it to show "bot blocked by user"; a later successful send clears the mark.
 */
export class RecipientStore {
  constructor(private readonly db: Database, private readonly now: () => number = Date.now) {}

  /** Marks a chat refused; pass the caller's transaction to record it with the message's outcome. */
  async mark(botId: string, chatId: string, state: RecipientState, reason: string, trx: Knex = this.db): Promise<void> {
    await trx('telegram_recipients')
      .insert({ bot_id: botId, chat_id: chatId, state, reason, updated_at: this.now() })
      .onConflict(['bot_id', 'chat_id'])
      .merge(['state', 'reason', 'updated_at']);
  }

  async clear(botId: string, chatId: string): Promise<void> {
    await this.db('telegram_recipients').where({ bot_id: botId, chat_id: chatId }).delete();
  }

  /** Chat ids of this bot that Telegram currently refuses. */
  async refused(botId: string): Promise<Set<string>> {
    const rows: { chat_id: string }[] = await this.db('telegram_recipients').where({ bot_id: botId }).select('chat_id');
    return new Set(rows.map((r) => r.chat_id));
  }
}
