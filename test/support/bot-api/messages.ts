/**
 * Message methods of the emulator: sending (with flood control), editing,
 * deleting, callback answers and chat actions.
 */
import type { InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity } from 'grammy/types';
import type { Handler, MethodContext } from './context.js';
import { Errors, badRequest, required, tooManyRequests } from './errors.js';
import { formatText, type FormattedText } from './format.js';
import { FILE_LIMITS, imageSize, mimeFor, photoSizes, type StoredFile } from './media.js';
import type { Params } from './params.js';
import { type ChatView, botUser, clone } from './world.js';

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
  content: () => Partial<Message>,
  rawText: string | undefined,
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
      ...content(),
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
    raw_text: rawText,
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

// ------------------------------------------------------------ handlers

/** sendMessage: text (+ parse_mode or entities), reply_markup, reply_parameters; flood-limited. */
export const sendMessage: Handler = (ctx) => {
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
    raw,
  );
};

/** sendDocument: a multipart upload (50 MB, else 413) or a file_id of this bot; flood-limited. */
export const sendDocument: Handler = (ctx) => {
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
    p.string('caption'),
  );
};

/** sendPhoto: a PNG/JPEG/GIF/WebP upload up to 10 MB, or a photo file_id; flood-limited. */
export const sendPhoto: Handler = (ctx) => {
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
  return deliver(ctx, view, () => ({ photo: sizes(), ...textFields(cap, 'caption') }), p.string('caption'));
};

/** editMessageText: the bot's own text messages; omitting reply_markup removes the keyboard. */
export const editMessageText: Handler = (ctx) => {
  const { view, message } = messageToEdit(ctx);
  if (message.text === undefined) throw badRequest('there is no text in the message to edit');
  const raw = ctx.p.string('text');
  if (raw === undefined || raw === '') throw Errors.textEmpty();
  const text = formatted(ctx.p, 'text') as FormattedText;
  if (text.text === '') throw Errors.textEmpty();
  if (text.text.length > MAX_TEXT) throw badRequest('MESSAGE_TOO_LONG');
  // Telegram drops the inline keyboard when an edit does not repeat it.
  const markup = replyMarkup(ctx.p);
  if (message.text === text.text && same(message.entities ?? [], text.entities) && same(message.reply_markup, markup)) {
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

/** editMessageReplyMarkup: replaces (or, when omitted, removes) the inline keyboard. */
export const editMessageReplyMarkup: Handler = (ctx) => {
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

/** deleteMessage: own messages, and incoming ones in private chats, up to 48 h old. */
export const deleteMessage: Handler = ({ world, bot, p, at }) => {
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

/** answerCallbackQuery: once per query; resolves the PressedButton's answer promise. */
export const answerCallbackQuery: Handler = ({ bot, p }) => {
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

const CHAT_ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);

/** sendChatAction: checks the chat and the action name. */
export const sendChatAction: Handler = ({ world, bot, p }) => {
  world.resolveChat(bot, p.string('chat_id'), 'send');
  const action = p.string('action');
  if (!action) throw required('action');
  if (!CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
  return true;
};
