/**
 * The emulator's method table, plus the non-message methods: getMe, long
 * polling and webhooks, commands, descriptions, getChat and getFile.
 * Every handler validates like Telegram, with Telegram's error wording.
 */
import type { BotCommand, ChatFullInfo } from 'grammy/types';
import { ApiError, badRequest, required } from './errors.js';
import { Reply, type Handler } from './context.js';
import { FILE_LIMITS } from './media.js';
import {
  answerCallbackQuery, deleteMessage, editMessageReplyMarkup, editMessageText, sendChatAction, sendDocument, sendMessage,
  sendPhoto,
} from './messages.js';
import type { Params } from './params.js';
import { type ChatView, clone } from './world.js';

export { Reply, type Handler, type MethodContext } from './context.js';

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
