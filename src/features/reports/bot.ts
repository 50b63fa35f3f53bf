import { conversations, createConversation, type Conversation, type ConversationFlavor } from '@grammyjs/conversations';
import { Composer, InputFile, type Context } from 'grammy';
import type { InlineKeyboardButton } from 'grammy/types';
import type { Logger } from '../../log/logger.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { Database } from '../../storage/database.js';
import { conversationStorage } from './conversation-storage.js';
import { LossControlError, type LossControl } from './loss-control.js';
import { intervalSpan, parseRange, REPORT_INTERVALS, formatSpan, type ReportInterval, type Span } from './periods.js';
import { profitCsv, profitReport } from './profit.js';
import type { ReportChats } from './report-chats.js';
import { profitMessage } from './report-message.js';
import { reportTexts } from './texts.js';

type Outer = ConversationFlavor<Context>;

export interface ReportsBotDeps {
  db: Database;
  chats: ReportChats;
  lossControl: LossControl;
  settings: SettingsStore;
  logger: Logger;
  now: () => number;
}

/**
 * The version of the /profit steps stored in rp_conversations. A stored conversation is
 * replayed step by step, so one saved by other steps cannot be resumed: bump this when the
 * steps change (2: language and time zone read first), and conversations stored by the
 * previous version are dropped (their buttons say the menu expired) instead of replayed wrongly.
 */
const PROFIT_CONVERSATION_VERSION = 2;

/** An abandoned /profit menu stops waiting after this long. */
const CONVERSATION_TIMEOUT_MS = 30 * 60_000;

/** Updates that ask for reports: /profit and the report buttons (rp:…). */
function asksForReports(ctx: Context): string | null {
  const data = ctx.callbackQuery?.data;
  if (data?.startsWith('rp:')) return `button ${data.split(':')[1]}`;
  const text = ctx.message?.text ?? '';
  if (/^\/profit(?:@\w+)?(?:\s|$)/.test(text)) return '/profit';
  return null;
}

function who(ctx: Context): string {
  const f = ctx.from;
  if (!f) return 'unknown';
  return `${[f.first_name, f.last_name].filter(Boolean).join(' ')}${f.username ? ` @${f.username}` : ''} (${f.id})`;
}

/**
 * The reports bot behaviour for one bot: `/profit` (peer, then interval, then the table,
 * all in one message the bot edits), the table's page and CSV buttons, the Unblock button
 * under loss alerts, and noting the groups the bot is added to (waiting for approval).
 * Only chats the admin registered for this bot get answers; elsewhere report commands and
 * buttons are refused (silently, or with a short "not allowed", per setting) and logged.
 */
export function reportsBot(deps: ReportsBotDeps, botId: string): Composer<Context> {
  const bot = new Composer<Outer>();
  const tz = () => deps.settings.get('general.timezone');
  const language = () => deps.settings.get('general.language');
  /** The texts in the language of the moment (Settings, general.language). */
  const texts = () => reportTexts(language());

  // A group the bot was just added to waits for the admin's approval on the Reports page.
  bot.on('my_chat_member', async (ctx, next) => {
    const { chat, new_chat_member: member } = ctx.myChatMember;
    if ((chat.type === 'group' || chat.type === 'supergroup') && (member.status === 'member' || member.status === 'administrator')) {
      if (await deps.chats.notePending(String(chat.id), botId, chat.title ?? '')) deps.logger.info({ bot: botId, chat: chat.id }, 'bot added to a group: the chat waits for approval (Reports, Chats)');
    }
    await next();
  });

  // The gate: report commands and buttons only in registered, approved chats.
  bot.use(async (ctx, next) => {
    const what = asksForReports(ctx);
    if (!what || !ctx.chat) return next();
    if (await deps.chats.allowed(String(ctx.chat.id), botId)) return next();
    await deps.chats.logRefusal({ chatId: String(ctx.chat.id), botId, user: who(ctx), what });
    deps.logger.warn({ bot: botId, chat: ctx.chat.id, user: ctx.from?.id, what }, 'report request from a chat that is not registered: refused');
    const say = deps.settings.get('reports.unregistered_chats') === 'not_allowed';
    if (ctx.callbackQuery) return ctx.answerCallbackQuery(say ? { text: texts().notAllowed, show_alert: true } : undefined);
    if (say) await ctx.reply(texts().notAllowed);
  });

  bot.use(
    conversations<Outer, Context>({
      storage: { type: 'key', version: PROFIT_CONVERSATION_VERSION, getStorageKey: (ctx) => (ctx.chatId === undefined ? undefined : `${botId}:${ctx.chatId}`), adapter: conversationStorage(deps.db, deps.now) },
    }),
  );
  bot.use(createConversation<Outer, Context>(profitConversation, { id: 'profit', parallel: true, maxMillisecondsToWait: CONVERSATION_TIMEOUT_MS }));

  /** Peer, interval, table: every step edits the one message the bot sent first. */
  async function profitConversation(conversation: Conversation<Outer, Context>, ctx: Context): Promise<void> {
    const chatId = String(ctx.chat!.id);
    // Language and time zone are read once, so a replay after any update sees the same.
    const { lang, timeZone } = await conversation.external(() => ({ lang: language(), timeZone: tz() }));
    const texts = reportTexts(lang);
    const peers = await conversation.external(async () => (await deps.chats.allowed(chatId, botId))?.peers ?? []);
    if (!peers.length) {
      await ctx.reply(texts.noPeers);
      return;
    }
    const menu = await ctx.reply(texts.choosePeer, { reply_markup: { inline_keyboard: [...rows(peers.map((p, i) => ({ text: p, callback_data: `rp:p:${i}` })), 2), [{ text: texts.cancel, callback_data: 'rp:x' }]] } });
    const onMenu = (c: Context) => c.callbackQuery?.message?.message_id === menu.message_id && /^rp:(p|i|x)/.test(c.callbackQuery.data ?? '');
    const edit = (c: Context, text: string, keyboard: InlineKeyboardButton[][] = []) => c.api.editMessageText(menu.chat.id, menu.message_id, text, { reply_markup: { inline_keyboard: keyboard } });

    const chosen = await conversation.waitUntil(onMenu);
    await chosen.answerCallbackQuery();
    const peerIndex = /^rp:p:(\d+)$/.exec(chosen.callbackQuery!.data!);
    if (!peerIndex || !peers[Number(peerIndex[1])]) return void (await edit(chosen, texts.cancelled));
    const peer = peers[Number(peerIndex[1])]!;

    await edit(chosen, texts.chooseInterval(peer), [
      ...rows(REPORT_INTERVALS.map((i) => ({ text: texts.intervals[i], callback_data: `rp:i:${i}` })), 3),
      [{ text: texts.customRange, callback_data: 'rp:i:custom' }, { text: texts.cancel, callback_data: 'rp:x' }],
    ]);
    const picked = await conversation.waitUntil(onMenu);
    await picked.answerCallbackQuery();
    const interval = /^rp:i:(\w+)$/.exec(picked.callbackQuery!.data!)?.[1];
    if (!interval) return void (await edit(picked, texts.cancelled));
    const now = await conversation.external(() => deps.now());
    let span: Span;
    let label: string;
    let last: Context = picked;
    if (interval === 'custom') {
      await edit(picked, texts.askRange(peer, timeZone), [[{ text: texts.cancel, callback_data: 'rp:x' }]]);
      for (;;) {
        const answer = await conversation.waitUntil((c) => Boolean(c.message?.text && !c.message.text.startsWith('/')) || onMenu(c));
        if (answer.callbackQuery) {
          await answer.answerCallbackQuery();
          return void (await edit(answer, texts.cancelled));
        }
        const typed = answer.message!.text!;
        const parsed = parseRange(typed, timeZone);
        if (parsed) {
          span = parsed;
          label = formatSpan(parsed, timeZone, lang);
          last = answer;
          break;
        }
        await edit(answer, texts.badRange(peer, timeZone, typed), [[{ text: texts.cancel, callback_data: 'rp:x' }]]);
      }
    } else if ((REPORT_INTERVALS as readonly string[]).includes(interval)) {
      span = intervalSpan(interval as ReportInterval, now, timeZone);
      label = texts.intervals[interval as ReportInterval];
    } else return void (await edit(picked, texts.cancelled));

    const shown = await conversation.external(async () => {
      const report = await profitReport(deps.db, { peer, ...span });
      const [row] = await deps.db('rp_report_views').insert({ chat_id: chatId, bot_id: botId, peer, from_ms: span.from, to_ms: span.to, label, created_at: deps.now() }).returning('id');
      const viewId = typeof row === 'object' ? Number((row as { id: number }).id) : Number(row);
      return profitMessage(report, 0, viewId, label, timeZone, lang);
    });
    await last.api.editMessageText(menu.chat.id, menu.message_id, shown.text, { reply_markup: shown.reply_markup });
  }

  bot.command('profit', async (ctx) => {
    await ctx.conversation.exit('profit');
    await ctx.conversation.enter('profit');
  });

  /** The report behind a table's buttons, if this chat may still see its peer. */
  async function viewOf(ctx: Context, viewId: number) {
    const view = await deps.db('rp_report_views').where({ id: viewId, chat_id: String(ctx.chat!.id), bot_id: botId }).first();
    if (!view) return undefined;
    const chat = await deps.chats.allowed(String(ctx.chat!.id), botId);
    if (!chat?.peers.includes(String(view.peer))) return null;
    return { peer: String(view.peer), from: Number(view.from_ms), to: Number(view.to_ms), label: String(view.label) };
  }

  bot.callbackQuery(/^rp:v:(\d+):(\d+)$/, async (ctx) => {
    const view = await viewOf(ctx, Number(ctx.match[1]));
    if (!view) return ctx.answerCallbackQuery({ text: view === null ? texts().peerGone : texts().expired, show_alert: true });
    const report = await profitReport(deps.db, view);
    const page = profitMessage(report, Number(ctx.match[2]), Number(ctx.match[1]), view.label, tz(), language());
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(page.text, { reply_markup: page.reply_markup }).catch((err: Error) => {
      if (!/not modified/i.test(err.message)) throw err;
    });
  });

  bot.callbackQuery(/^rp:csv:(\d+)$/, async (ctx) => {
    const view = await viewOf(ctx, Number(ctx.match[1]));
    if (!view) return ctx.answerCallbackQuery({ text: view === null ? texts().peerGone : texts().expired, show_alert: true });
    const report = await profitReport(deps.db, view);
    await ctx.answerCallbackQuery();
    const name = `profit-${view.peer.replace(/[^\w.-]+/g, '_')}-${view.from}.csv`;
    await ctx.replyWithDocument(new InputFile(Buffer.from(profitCsv(report), 'utf8'), name), { caption: `📊 ${view.peer}, ${view.label}` });
  });

  bot.callbackQuery(/^rp:ub:(\d+)$/, async (ctx) => {
    const block = await deps.lossControl.block(Number(ctx.match[1]));
    const chat = await deps.chats.allowed(String(ctx.chat!.id), botId);
    const t = texts();
    if (!block) return ctx.answerCallbackQuery({ text: t.noSuchBlock });
    if (!chat?.peers.includes(block.peer)) return ctx.answerCallbackQuery({ text: t.peerGone, show_alert: true });
    try {
      const ended = await deps.lossControl.unblock(block.id, { via: 'telegram', user: who(ctx) });
      await ctx.answerCallbackQuery({ text: ended ? t.unblocked : t.alreadyUnblocked });
    } catch (err) {
      if (err instanceof LossControlError) return ctx.answerCallbackQuery({ text: err.kind === 'not_found' ? t.noSuchBlock : err.message });
      throw err;
    }
  });

  // Buttons of menus whose conversation is over (a newer /profit, a timeout).
  bot.callbackQuery(/^rp:(p|i|x)/, (ctx) => ctx.answerCallbackQuery({ text: texts().expired }));

  return bot as unknown as Composer<Context>;
}

function rows<T>(items: T[], perRow: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += perRow) out.push(items.slice(i, i + perRow));
  return out;
}
