/**
 * Bot API method handlers of the emulator. Each handler validates like
 * Telegram does, with Telegram's error wording, and returns the `result`.
 */
import type {
  BotCommand, ChatFullInfo, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity,
} from 'grammy/types';
import { ApiError, Errors, badRequest, required, tooManyRequests } from './errors.js';
import { formatText, type FormattedText } from './format.js';
import { FILE_LIMITS, imageSize, mimeFor, photoSizes, type StoredFile } from './media.js';
import type { Params } from './params.js';
import type { SendRateLimiter } from './rate-limiter.js';
import type { RateLimitEvent, SentRecord } from './types.js';
import { type BotState, type ChatView, type World, botUser, clone } from './world.js';

/** What a handler gets for one request. */
export interface MethodContext {
  world: World;
  bot: BotState;
  p: Params;
  /** Arrival time on the emulator clock (ms). */
  at: number;
  method: string;
  limiter: SendRateLimiter;
  onSent(record: SentRecord): void;
  onRateLimited(event: RateLimitEvent): void;
  /** Registers a callback for when the client goes away (long polling). */
  onClose(cb: () => void): void;
}

/** A result with the optional top-level `description` Telegram adds to some answers. */
export class Reply {
  constructor(
    readonly result: unknown,
    readonly description?: string,
  ) {}
}

/** A method handler. */
export type Handler = (ctx: MethodContext) => unknown;

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const BUTTON_ACTIONS = [
  'callback_data', 'url', 'login_url', 'switch_inline_query', 'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat', 'callback_game', 'pay', 'web_app', 'copy_text',
];

// ------------------------------------------------------------ shared pieces

/** reply_markup: returns the inline keyboard to store on the message (other keyboards are accepted, not stored). */
function replyMarkup(p: Params): InlineKeyboardMarkup | undefined {
  const markup = p.json<Record<string, unknown>>('reply_markup', () => badRequest("can't parse reply keyboard markup JSON object"));
  if (!markup || !('inline_keyboard' in markup)) return undefined;
  const rows = markup.inline_keyboard;
  if (!Array.isArray(rows) || !rows.every(Array.isArray)) {
    throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
  }
  for (const button of (rows as unknown[][]).flat() as Record<string, unknown>[]) {
    if (typeof button.text !== 'string') {
      throw badRequest(`can't parse inline keyboard button: Field "text" must be of type String`);
    }
    if (!BUTTON_ACTIONS.some((k) => button[k] !== undefined)) {
      throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
    }
    const data = button.callback_data;
    if (data !== undefined && (typeof data !== 'string' || data === '' || Buffer.byteLength(data) > 64)) {
      throw badRequest('BUTTON_DATA_INVALID');
    }
    if (button.url !== undefined && !/^(https?|tg):\/\/\S+$/i.test(String(button.url))) throw badRequest('BUTTON_URL_INVALID');
  }
  return { inline_keyboard: rows as InlineKeyboardButton[][] };
}

/** reply_parameters / reply_to_message_id: the message replied to, if any. */
function replyTarget(p: Params, view: ChatView): Message | undefined {
  const params = p.json<{ message_id?: number; allow_sending_without_reply?: boolean }>(
    'reply_parameters',
    () => badRequest("can't parse reply parameters JSON object"),
  );
  const id = params?.message_id ?? p.int('reply_to_message_id');
  if (id === undefined) return undefined;
  const target = view.messages.get(id)?.message;
  if (target) {
    const { reply_to_message: _nested, ...rest } = target;
    return clone(rest) as Message;
  }
  if (params?.allow_sending_without_reply ?? p.bool('allow_sending_without_reply')) return undefined;
  throw Errors.replyNotFound();
}

/** text/caption + parse_mode (+ explicit entities): the formatted text, or undefined when absent. */
function formatted(p: Params, field: 'text' | 'caption'): FormattedText | undefined {
  const raw = p.string(field);
  if (raw === undefined) return undefined;
  const entitiesField = field === 'text' ? 'entities' : 'caption_entities';
  const explicit = p.json<MessageEntity[]>(entitiesField, () => badRequest(`can't parse ${entitiesField} JSON object`));
  return formatText(raw, p.string('parse_mode'), explicit);
}

function textFields(f: FormattedText | undefined, field: 'text' | 'caption'): Partial<Message> {
  if (!f || f.text === '') return {};
  const entitiesKey = field === 'text' ? 'entities' : 'caption_entities';
  return { [field]: f.text, ...(f.entities.length > 0 ? { [entitiesKey]: f.entities } : {}) };
}

/**
 * The common tail of every sending method: flood control (refusals are logged
 * and not counted), then storing the message and logging it in `sent`.
 */
function deliver(
  ctx: MethodContext,
  view: ChatView,
  content: (messageId: number) => Partial<Message>,
  shown: { raw: string | undefined; text: FormattedText | undefined },
): Message {
  const { bot, world, at } = ctx;
  const reply = replyTarget(ctx.p, view);
  const markup = replyMarkup(ctx.p);
  const refusal = ctx.limiter.check(bot.me.id, view.chat.id, view.isGroup, at);
  if (refusal) {
    ctx.onRateLimited({
      at, bot_id: bot.me.id, method: ctx.method, chat_id: view.chat.id, retry_after: refusal.retryAfter, scope: refusal.scope,
    });
    throw tooManyRequests(refusal.retryAfter);
  }
  ctx.limiter.record(bot.me.id, view.chat.id, view.isGroup, at);
  const message = world.store(
    view,
    (message_id) => ({
      message_id,
      from: botUser(bot),
      chat: view.chat,
      date: world.date(at),
      ...(reply ? { reply_to_message: reply } : {}),
      ...content(message_id),
      ...(ctx.p.bool('protect_content') ? { has_protected_content: true } : {}),
      ...(markup ? { reply_markup: markup } : {}),
    }) as Message,
    true,
    at,
  );
  if (view.isGroup) {
    const group = world.groups.get(view.chat.id);
    if (group) group.lastBotId = bot.me.id;
  }
  ctx.onSent({
    bot_id: bot.me.id,
    bot_username: bot.me.username,
    method: ctx.method,
    chat_id: view.chat.id,
    message_id: message.message_id,
    text: message.text ?? message.caption,
    raw_text: shown.raw,
    parse_mode: ctx.p.string('parse_mode'),
    entities: message.entities ?? message.caption_entities,
    reply_markup: markup,
    date: message.date,
    message: clone(message),
  });
  return clone(message);
}

/** Validates a caption (0-1024 characters after parsing). */
function caption(p: Params): FormattedText | undefined {
  const f = formatted(p, 'caption');
  if (f && f.text.length > MAX_CAPTION) throw Errors.captionTooLong();
  return f;
}

/** The outgoing message an edit/delete names, with Telegram's refusals. */
function messageToEdit(ctx: MethodContext): { view: ChatView; message: Message } {
  if (ctx.p.has('inline_message_id')) throw badRequest('MESSAGE_ID_INVALID');
  const view = ctx.world.resolveChat(ctx.bot, ctx.p.string('chat_id'), 'send');
  const id = ctx.p.int('message_id');
  if (id === undefined) throw Errors.messageIdMissing();
  const stored = view.messages.get(id);
  if (!stored) throw Errors.editNotFound();
  if (!stored.outgoing) throw badRequest("message can't be edited");
  return { view, message: stored.message };
}

function replaceMessage(ctx: MethodContext, view: ChatView, updated: Message): Message {
  const stored = view.messages.get(updated.message_id);
  if (stored) stored.message = updated;
  ctx.world.notify();
  return clone(updated);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function fullInfo(view: ChatView): ChatFullInfo {
  const common = {
    accent_color_id: 0,
    max_reaction_count: 11,
    accepted_gift_types: {
      unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false, gifts_from_channels: false,
    },
  };
  return { ...clone(view.chat), ...common } as ChatFullInfo;
}

// ------------------------------------------------------------ methods

const getMe: Handler = ({ bot }) => clone(bot.me);

const getUpdates: Handler = ({ world, bot, p, onClose }) => {
  const allowed = p.json<string[]>('allowed_updates', () => badRequest("can't parse allowed_updates JSON object"));
  return world.getUpdates(
    bot,
    {
      offset: p.int('offset'),
      limit: Math.min(100, Math.max(1, p.int('limit') ?? 100)),
      timeout: Math.max(0, p.int('timeout') ?? 0),
      allowed: Array.isArray(allowed) ? allowed : undefined,
    },
    onClose,
  );
};

const setWebhook: Handler = (ctx) => {
  const { bot, p } = ctx;
  const url = p.string('url') ?? '';
  if (url === '') return deleteWebhook(ctx);
  if (p.bool('drop_pending_updates')) bot.updates = [];
  if (!/^https:\/\//i.test(url)) throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
  const already = bot.webhook?.url === url;
  bot.webhook = { url, params: p.record() };
  bot.poll?.fail(new ApiError(409, 'Conflict: terminated by setWebhook request'));
  return new Reply(true, already ? 'Webhook is already set' : 'Webhook was set');
};

const deleteWebhook: Handler = ({ bot, p }) => {
  if (p.bool('drop_pending_updates')) bot.updates = [];
  const had = bot.webhook !== undefined;
  bot.webhook = undefined;
  return new Reply(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
};

const getWebhookInfo: Handler = ({ bot }) => ({
  url: bot.webhook?.url ?? '',
  has_custom_certificate: false,
  pending_update_count: bot.updates.length,
  ...(bot.allowedUpdates ? { allowed_updates: [...bot.allowedUpdates] } : {}),
});

const sendMessage: Handler = (ctx) => {
  const view = ctx.world.resolveChat(ctx.bot, ctx.p.string('chat_id'), 'send');
  const raw = ctx.p.string('text');
  if (raw === undefined || raw === '') throw Errors.textEmpty();
  const text = formatted(ctx.p, 'text') as FormattedText;
  if (text.text === '') throw Errors.textEmpty();
  if (text.text.length > MAX_TEXT) throw Errors.textTooLong();
  const preview = ctx.p.json<Record<string, unknown>>('link_preview_options', () =>
    badRequest("can't parse link preview options JSON object"),
  );
  const hasUrl = text.entities.some((e) => e.type === 'url' || e.type === 'text_link');
  return deliver(
    ctx,
    view,
    () => ({ ...textFields(text, 'text'), ...(preview && hasUrl ? { link_preview_options: preview } : {}) }),
    { raw, text },
  );
};

const sendDocument: Handler = (ctx) => {
  const { world, bot, p } = ctx;
  const view = world.resolveChat(bot, p.string('chat_id'), 'send');
  const input = p.upload('document');
  if (input === undefined) throw badRequest('there is no document in the request');
  let file: () => StoredFile;
  let meta: { file_name?: string; mime_type?: string };
  if (typeof input === 'string') {
    const existing = world.files.get(bot.me.id, input);
    if (!existing) throw badRequest(/^https?:\/\//i.test(input) ? 'failed to get HTTP URL content' : 'wrong file identifier/HTTP URL specified');
    file = () => existing;
    meta = { ...existing.meta };
  } else {
    if (input.data.length > FILE_LIMITS.upload) throw Errors.entityTooLarge();
    if (input.data.length === 0) throw badRequest('file must be non-empty');
    meta = { file_name: input.filename, mime_type: mimeFor(input.filename) };
    file = () => world.files.add(bot.me.id, 'document', input.data, input.filename, meta);
  }
  const cap = caption(p);
  return deliver(
    ctx,
    view,
    () => {
      const f = file();
      return {
        document: { file_id: f.file_id, file_unique_id: f.file_unique_id, ...meta, file_size: f.data.length },
        ...textFields(cap, 'caption'),
      };
    },
    { raw: p.string('caption'), text: cap },
  );
};

const sendPhoto: Handler = (ctx) => {
  const { world, bot, p } = ctx;
  const view = world.resolveChat(bot, p.string('chat_id'), 'send');
  const input = p.upload('photo');
  if (input === undefined) throw badRequest('there is no photo in the request');
  let sizes: () => NonNullable<Message['photo']>;
  if (typeof input === 'string') {
    const existing = world.files.get(bot.me.id, input);
    if (!existing?.photo) throw badRequest(/^https?:\/\//i.test(input) ? 'failed to get HTTP URL content' : 'wrong file identifier/HTTP URL specified');
    const photo = existing.photo;
    sizes = () => photo;
  } else {
    const size = input.data.length;
    if (size > FILE_LIMITS.photo) {
      throw badRequest(`file of size ${size} bytes is too big for a photo; the maximum size is ${FILE_LIMITS.photo} bytes`);
    }
    if (size === 0) throw badRequest('file must be non-empty');
    const dims = imageSize(input.data);
    if (!dims) throw badRequest('IMAGE_PROCESS_FAILED');
    const { width, height } = dims;
    if (width + height > 10_000 || Math.max(width, height) > 20 * Math.min(width, height)) {
      throw badRequest('PHOTO_INVALID_DIMENSIONS');
    }
    sizes = () => {
      const files: StoredFile[] = [];
      const list = photoSizes(width, height, size, () => {
        const f = world.files.add(bot.me.id, 'photo', input.data);
        files.push(f);
        return f;
      });
      for (const f of files) f.photo = list;
      return list;
    };
  }
  const cap = caption(p);
  return deliver(ctx, view, () => ({ photo: sizes(), ...textFields(cap, 'caption') }), { raw: p.string('caption'), text: cap });
};

const editMessageText: Handler = (ctx) => {
  const { view, message } = messageToEdit(ctx);
  if (message.text === undefined) throw badRequest('there is no text in the message to edit');
  const raw = ctx.p.string('text');
  if (raw === undefined || raw === '') throw Errors.textEmpty();
  const text = formatted(ctx.p, 'text') as FormattedText;
  if (text.text === '') throw Errors.textEmpty();
  if (text.text.length > MAX_TEXT) throw badRequest('MESSAGE_TOO_LONG');
  // Telegram drops the inline keyboard when an edit does not repeat it.
  const markup = replyMarkup(ctx.p);
  if (message.text === text.text && same(message.entities, text.entities) && same(message.reply_markup, markup)) {
    throw Errors.notModified();
  }
  const { entities: _e, reply_markup: _m, ...rest } = message;
  return replaceMessage(ctx, view, {
    ...rest,
    ...textFields(text, 'text'),
    ...(markup ? { reply_markup: markup } : {}),
    edit_date: ctx.world.date(ctx.at),
  } as Message);
};

const editMessageReplyMarkup: Handler = (ctx) => {
  const { view, message } = messageToEdit(ctx);
  const markup = replyMarkup(ctx.p);
  if (same(message.reply_markup, markup)) throw Errors.notModified();
  const { reply_markup: _m, ...rest } = message;
  return replaceMessage(ctx, view, {
    ...rest,
    ...(markup ? { reply_markup: markup } : {}),
    edit_date: ctx.world.date(ctx.at),
  } as Message);
};

const deleteMessage: Handler = ({ world, bot, p, at }) => {
  const view = world.resolveChat(bot, p.string('chat_id'), 'read');
  const id = p.int('message_id');
  if (id === undefined) throw Errors.messageIdMissing();
  const stored = view.messages.get(id);
  if (!stored) throw Errors.deleteNotFound();
  if ((!stored.outgoing && view.isGroup) || at - stored.at > 48 * 3600 * 1000) throw badRequest("message can't be deleted");
  view.messages.delete(id);
  world.notify();
  return true;
};

const answerCallbackQuery: Handler = ({ bot, p }) => {
  const id = p.string('callback_query_id');
  if (!id) throw required('callback_query_id');
  const pending = bot.callbacks.get(id);
  if (!pending || pending.answered) throw Errors.queryTooOld();
  pending.answered = true;
  const text = p.string('text');
  const url = p.string('url');
  const cacheTime = p.int('cache_time');
  pending.resolve({
    ...(text !== undefined ? { text } : {}),
    ...(p.has('show_alert') ? { show_alert: p.bool('show_alert') } : {}),
    ...(url !== undefined ? { url } : {}),
    ...(cacheTime !== undefined ? { cache_time: cacheTime } : {}),
  });
  return true;
};

/** Key of a command list: scope (default scope when omitted) and language. */
export function commandsKey(scope: unknown, languageCode: string | undefined): string {
  return `${JSON.stringify(scope ?? { type: 'default' })}|${languageCode ?? ''}`;
}

function commandsKeyOf(p: Params): string {
  const scope = p.json<unknown>('scope', () => badRequest("can't parse BotCommandScope JSON object"));
  return commandsKey(scope, p.string('language_code'));
}

const setMyCommands: Handler = ({ bot, p }) => {
  const commands = p.json<BotCommand[]>('commands', () => badRequest("can't parse commands JSON object"));
  if (!Array.isArray(commands)) throw required('commands');
  if (commands.length > 100) throw badRequest('too many commands specified');
  for (const c of commands) {
    if (typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw badRequest('BOT_COMMAND_INVALID');
    if (typeof c.description !== 'string' || c.description.trim() === '' || c.description.length > 256) {
      throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
    }
  }
  const key = commandsKeyOf(p);
  if (commands.length === 0) bot.commands.delete(key);
  else bot.commands.set(key, commands.map((c) => ({ command: c.command, description: c.description })));
  return true;
};

const getMyCommands: Handler = ({ bot, p }) => clone(bot.commands.get(commandsKeyOf(p)) ?? []);

const deleteMyCommands: Handler = ({ bot, p }) => {
  bot.commands.delete(commandsKeyOf(p));
  return true;
};

function setText(field: 'description' | 'short_description', max: number): Handler {
  return ({ bot, p }) => {
    const value = p.string(field) ?? '';
    if (value.length > max) throw badRequest(`${field === 'description' ? 'description' : 'short description'} is too long`);
    const map = field === 'description' ? bot.descriptions : bot.shortDescriptions;
    const lang = p.string('language_code') ?? '';
    if (value === '') map.delete(lang);
    else map.set(lang, value);
    return true;
  };
}

function getText(field: 'description' | 'short_description'): Handler {
  return ({ bot, p }) => {
    const map = field === 'description' ? bot.descriptions : bot.shortDescriptions;
    return { [field]: map.get(p.string('language_code') ?? '') ?? '' };
  };
}

const CHAT_ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);

const sendChatAction: Handler = ({ world, bot, p }) => {
  world.resolveChat(bot, p.string('chat_id'), 'send');
  const action = p.string('action');
  if (!action) throw required('action');
  if (!CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
  return true;
};

const getChat: Handler = ({ world, bot, p }) => fullInfo(world.resolveChat(bot, p.string('chat_id'), 'read'));

const getFile: Handler = ({ world, bot, p }) => {
  const file = world.files.get(bot.me.id, p.string('file_id') ?? '');
  if (!file) throw badRequest('invalid file_id');
  if (file.data.length > FILE_LIMITS.download) throw badRequest('file is too big');
  return {
    file_id: file.file_id,
    file_unique_id: file.file_unique_id,
    file_size: file.data.length,
    file_path: world.files.pathOf(file),
  };
};

/** Every emulated method, by its canonical name. Lookup is case-insensitive, as on Telegram. */
export const METHODS: Readonly<Record<string, Handler>> = {
  getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo,
  sendMessage, sendDocument, sendPhoto, sendChatAction,
  editMessageText, editMessageReplyMarkup, deleteMessage, answerCallbackQuery,
  setMyCommands, getMyCommands, deleteMyCommands,
  setMyDescription: setText('description', 512),
  getMyDescription: getText('description'),
  setMyShortDescription: setText('short_description', 120),
  getMyShortDescription: getText('short_description'),
  getChat, getFile,
};
