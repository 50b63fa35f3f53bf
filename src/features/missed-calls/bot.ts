import { Composer, type Context } from 'grammy';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { Database } from '../../storage/database.js';
import { describeScope } from './notifier.js';
import type { MissedCallStore, Scope } from './store.js';
import { textsIn, type BotTexts } from './texts.js';
import type { CallBackFromNotice } from './call-back.js';

/** The commands the missed-calls bot announces with setMyCommands. */
export function missedCallCommands(language: 'en' | 'ru'): { command: string; description: string }[] {
  const c = textsIn(language).commands;
  return [
    { command: 'activate', description: c.activate },
    { command: 'mute', description: c.mute },
    { command: 'status', description: c.status },
    { command: 'help', description: c.help },
  ];
}

/**
 * The missed-calls bot behaviour: /start and /help explain, /activate <key> subscribes
 * (or switches notices on again), /mute <key> switches them off, /status lists this
 * chat's subscriptions. Wrong keys say nothing about what exists and are throttled per
 * chat. Answers go straight back to the user (they are replies, not notices).
 */
export function missedCallsBot(deps: { db: Database; store: MissedCallStore; settings: SettingsStore; callBack: CallBackFromNotice }): Composer<Context> {
  const bot = new Composer<Context>();
  const texts = (): BotTexts => textsIn(deps.settings.get('general.language'));
  const chatId = (ctx: Context) => String(ctx.chat!.id);
  const telegramName = (ctx: Context) => [ctx.from?.first_name, ctx.from?.last_name].filter(Boolean).join(' ') || (ctx.from?.username ? `@${ctx.from.username}` : '');

  /** Resolves the key of a command, replying itself when it is missing, wrong or throttled. */
  async function scopeOf(ctx: Context, command: string, key: string) {
    const t = texts();
    if (await deps.store.throttled(chatId(ctx))) {
      await ctx.reply(t.throttled);
      return undefined;
    }
    if (!key) {
      await ctx.reply(t.needKey(command));
      return undefined;
    }
    const scope = await deps.store.scopeOfKey(key);
    if (!scope) {
      const locked = await deps.store.wrongKey(chatId(ctx));
      await ctx.reply(locked ? t.throttled : t.wrongKey);
      return undefined;
    }
    await deps.store.keyAccepted(chatId(ctx));
    return scope;
  }

  async function activate(ctx: Context, key: string) {
    const scope = await scopeOf(ctx, 'activate', key);
    if (scope) await subscribe(ctx, scope);
  }

  async function subscribe(ctx: Context, scope: Scope) {
    const t = texts();
    const outcome = await deps.store.activate(chatId(ctx), scope, telegramName(ctx));
    const what = await describeScope(deps.db, scope, t);
    const reply = { subscribed: t.subscribed, resumed: t.resumed, already_on: t.alreadyOn, disabled_by_admin: t.disabledByAdmin }[outcome];
    await ctx.reply(reply(what));
  }

  // /start <payload> comes from a t.me link: a one-time link token (L…) or an activation key.
  bot.command('start', async (ctx) => {
    const payload = ctx.match.trim();
    if (!payload) return ctx.reply(texts().help);
    if (!payload.startsWith('L')) return activate(ctx, payload);
    const used = await deps.store.consumeLinkToken(payload, chatId(ctx));
    if (typeof used === 'object') return subscribe(ctx, used);
    if (used === 'unknown') return activate(ctx, payload); // keys may start with L too
    await ctx.reply(used === 'used' ? texts().linkUsed : texts().linkExpired);
  });
  bot.command('help', (ctx) => ctx.reply(texts().help));
  bot.command('activate', (ctx) => activate(ctx, ctx.match.trim()));

  bot.command('mute', async (ctx) => {
    const scope = await scopeOf(ctx, 'mute', ctx.match.trim());
    if (!scope) return;
    const t = texts();
    const outcome = await deps.store.mute(chatId(ctx), scope);
    const what = await describeScope(deps.db, scope, t);
    await ctx.reply({ muted: t.muted, not_subscribed: t.notSubscribed, already_off: t.alreadyOff }[outcome](what));
  });

  bot.command('status', async (ctx) => {
    const t = texts();
    const subscriptions = await deps.store.subscriptionsOf(chatId(ctx));
    if (!subscriptions.length) return ctx.reply(t.statusNone);
    const lines = [t.statusTitle];
    for (const s of subscriptions) lines.push(`• ${await describeScope(deps.db, s.scope, t)}: ${t.statusLine[s.status]}`);
    await ctx.reply(lines.join('\n'));
  });

  // "Call back" under a notice (mc:cb:<call id>), and the choice of one's own phone (mc:me:<call id>:<extension>).
  bot.callbackQuery(/^mc:(cb|me):(\d+)(?::([A-Za-z0-9_.-]{1,64}))?$/, async (ctx) => {
    const t = texts();
    const callId = Number(ctx.match[2]);
    const outcome = await deps.callBack.press(callId, String(ctx.chat?.id ?? ctx.from.id), ctx.match[1] === 'me' ? ctx.match[3] : undefined);
    switch (outcome.kind) {
      case 'calling':
        return ctx.answerCallbackQuery({ text: t.calling(outcome.extension, outcome.number) });
      case 'choose_extension':
        await ctx.answerCallbackQuery();
        return ctx.reply(t.chooseExtension, {
          reply_markup: { inline_keyboard: [outcome.extensions.map((ext) => ({ text: ext, callback_data: `mc:me:${callId}:${ext}` }))] },
        });
      case 'refused': {
        const text = { not_subscriber: t.onlySubscribers, unknown_call: t.unknownCall, double_press: t.doublePress, failed: t.callBackFailed(outcome.detail ?? '') }[outcome.reason];
        return ctx.answerCallbackQuery({ text, show_alert: outcome.reason !== 'double_press' });
      }
    }
  });

  return bot;
}
