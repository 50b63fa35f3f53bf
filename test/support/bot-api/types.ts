/**
 * Public types of the Bot API emulator (see ../bot-api-server.ts).
 */
import type { InlineKeyboardMarkup, Message, MessageEntity } from 'grammy/types';

/**
 * Flood limits per bot, after Telegram's documented guidance
 * (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
 * They are sliding windows over the arrival time of *sending* requests only
 * (sendMessage, sendDocument, sendPhoto); edits, deletes and everything else are free.
 */
export interface BotApiLimits {
  /** Sends per bot in any 1 s window, all chats together (Telegram: about 30). */
  globalPerSecond: number;
  /** Sends to one private chat in any 1 s window (Telegram: about 1). */
  privateChatPerSecond: number;
  /** Sends to one group or supergroup in any 60 s window (Telegram: 20). */
  groupPerMinute: number;
}

/** The limits used when `BotApiServer.start()` is given none. */
export const DEFAULT_LIMITS: Readonly<BotApiLimits> = Object.freeze({
  globalPerSecond: 30,
  privateChatPerSecond: 1,
  groupPerMinute: 20,
});

/** Names a registered bot: its token, its username (with or without `@`) or its id. */
export type BotRef = string | number;

/** A bot to register with `BotApiServer.addBot()`. */
export interface BotSpec {
  token: string;
  /** Defaults to the number before the `:` of the token, or a generated id. */
  id?: number;
  username: string;
  first_name?: string;
  can_join_groups?: boolean;
  /** Privacy mode off: the bot sees every group message, not just commands, mentions and replies to it. */
  can_read_all_group_messages?: boolean;
  supports_inline_queries?: boolean;
}

/** A simulated Telegram user for `BotApiServer.user()`. */
export interface UserSpec {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  /**
   * Whether bots may write to this user before the user wrote to them (default true).
   * With false, sends answer 403 "Forbidden: bot can't initiate conversation with a user"
   * until the user sends something to that bot.
   */
  started?: boolean;
}

/** A simulated group for `BotApiServer.group()`. */
export interface GroupSpec {
  /** Negative, as Telegram's group ids are (supergroups look like -100xxxxxxxxxx). */
  id: number;
  title: string;
  type?: 'group' | 'supergroup';
}

/** One message a bot sent successfully, as logged in `BotApiServer.sent`. */
export interface SentRecord {
  bot_id: number;
  bot_username: string;
  method: string;
  chat_id: number;
  message_id: number;
  /** The text (or caption) as Telegram stores it: markup parsed away, see `entities`. */
  text: string | undefined;
  /** The text (or caption) exactly as the bot sent it. */
  raw_text: string | undefined;
  parse_mode: string | undefined;
  entities: MessageEntity[] | undefined;
  reply_markup: InlineKeyboardMarkup | undefined;
  /** Unix time in seconds, from the emulator's clock. */
  date: number;
  /** The full Message as returned to the bot at send time. */
  message: Message;
}

/** One API request as logged for `BotApiServer.requestsOf()`. Never holds a token. */
export interface RequestRecord {
  method: string;
  bot_id: number;
  /** Parameters after decoding; uploaded files appear as `{ filename, size }`. */
  params: Record<string, unknown>;
  /** Arrival time in ms on the emulator's clock. */
  at: number;
  /** HTTP status of the reply; undefined while in progress or when the socket was dropped. */
  status?: number;
  description?: string;
}

/** One 429 answer, as logged in `BotApiServer.rateLimitLog`. */
export interface RateLimitEvent {
  at: number;
  bot_id: number;
  method: string;
  chat_id: number | undefined;
  retry_after: number;
  /** Which limit refused the request; `injected` for `failNext()` replies with status 429. */
  scope: 'global' | 'private' | 'group' | 'injected';
}

/** An error reply queued by `BotApiServer.failNext()`. */
export interface FailReply {
  status: number;
  description: string;
  retry_after?: number;
}

/** Counters kept by the emulator. */
export interface BotApiStats {
  /** Every request on `/bot<token>/<method>`, including refused ones. */
  requests: number;
  /** Messages sent successfully. */
  sent: number;
  /** 429 answers (flood limits and injected ones). */
  rateLimited: number;
  /** Requests per method name. */
  byMethod: Record<string, number>;
}

/** What a bot answered to a simulated button press (answerCallbackQuery parameters). */
export interface CallbackAnswer {
  text?: string;
  show_alert?: boolean;
  url?: string;
  cache_time?: number;
}

/** Returned by `pressButton()`: the callback query id and the bot's answer, once it comes. */
export interface PressedButton {
  id: string;
  /** Resolves when the bot calls answerCallbackQuery for this query. */
  answer: Promise<CallbackAnswer>;
}
