import type { Knex } from 'knex';
import type { Call } from '../../pbx/call-model.js';
import type { CallEndedHook } from '../../pbx/call-history.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { Database } from '../../storage/database.js';
import type { Outbox } from '../../telegram/outbox.js';
import { missedCallText, noticeKey, noticesForMissedCall, scopesOfMissedCall, type Language, type NotifiableGroup } from './service.js';
import type { MissedCallStore, Scope } from './store.js';
import { textsIn, type BotTexts } from './texts.js';

/** A call to the caller's number this long after his missed call still counts as calling him back. */
const CALLED_BACK_WINDOW_MS = 7 * 24 * 3600_000;

/** The default bot of the feature; `deps.botId()` names the bot that sends now (an active custom bot, else this). */
export const MISSED_CALLS_BOT = 'default';

/**
 * Turns missed calls into notices and admin actions into service messages. Every message
 * goes into the outbox inside the transaction of the fact it reports: the stored call,
 * the changed group flag, the changed subscriber.
 */
export class MissedCallNotifier {
  constructor(
    private readonly deps: { db: Database; store: MissedCallStore; outbox: Outbox; settings: SettingsStore; now?: () => number; botId?: () => string },
  ) {}

  /** The CallHistory hook: one notice per subscriber chat in scope, keyed by call and chat. */
  readonly onCallEnded: CallEndedHook = async (call: Call, trx: Knex.Transaction, callId: number) => {
    if (call.disposition === 'answered' && (call.direction === 'outbound' || call.originated)) return this.markCalledBack(call, trx);
    if (call.disposition !== 'missed') return;
    const groups = await groupsWithFlags(trx);
    const scopes = scopesOfMissedCall(call, groups);
    const subscribers = await this.deps.store.activeSubscribersOf(scopes, trx);
    const notices = noticesForMissedCall(call, groups, subscribers);
    if (!notices.length) return;
    const extensionNames = await namesOfExtensions(trx);
    for (const notice of notices) {
      const text = missedCallText(call, { language: this.language, timeZone: this.deps.settings.get('general.timezone'), extensionNames, groups, scopes: notice.scopes });
      // A hidden number cannot be called back: no button then.
      const buttons = /^\+?[0-9]{3,20}$/.test(call.caller.number) ? { inline_keyboard: [[{ text: this.texts.callBackButton, callback_data: `mc:cb:${callId}` }]] } : undefined;
      await this.deps.outbox.enqueue(trx, {
        key: noticeKey(call.linkedid, notice.chatId),
        botId: this.botId(),
        chatId: notice.chatId,
        method: 'sendMessage',
        params: { text, ...(buttons ? { reply_markup: buttons } : {}) },
      });
    }
  };

  /**
   * Someone returned a missed call (an answered call to the caller's number within a
   * week): every notice of those missed calls is edited to say who called back and when,
   * and loses its "Call back" button.
   */
  private async markCalledBack(call: Call, trx: Knex.Transaction): Promise<void> {
    const tail = call.dialed.replace(/\D/g, '').slice(-10);
    if (tail.length < 5) return;
    const missed: { linkedid: string; caller_number: string }[] = await trx('calls')
      .where({ disposition: 'missed' })
      .where('started_at', '>=', call.startedAt - CALLED_BACK_WINDOW_MS)
      .where('started_at', '<', call.startedAt)
      .where('caller_number', 'like', `%${tail}`)
      .select('linkedid', 'caller_number');
    if (!missed.length) return;
    const who = call.originated ? (call.answeredBy ?? call.caller.endpoint) : call.caller.endpoint;
    const time = new Intl.DateTimeFormat(this.language === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: this.deps.settings.get('general.timezone'), timeStyle: 'short' }).format(new Date(call.answeredAt ?? call.startedAt));
    for (const m of missed) {
      const notices: { idempotency_key: string; chat_id: string; payload: string; status: string }[] = await trx('outbox')
        .where('idempotency_key', 'like', `missed:${m.linkedid}:%`)
        .whereNot({ status: 'failed' })
        .select('idempotency_key', 'chat_id', 'payload', 'status');
      for (const n of notices) {
        const original = JSON.parse(n.payload) as { text: string };
        await this.deps.outbox.enqueue(trx, {
          key: `mc-called-back:${m.linkedid}:${n.chat_id}`,
          botId: this.botId(),
          chatId: n.chat_id,
          method: 'editMessageText',
          params: { message_id_of: n.idempotency_key, text: `${original.text}\n${this.texts.calledBack(who, time)}` },
        });
      }
    }
  }

  /** Sets a group's flag; when it changes, every subscriber of the group hears "notifications on/off". */
  async setGroupFlag(groupId: number, on: boolean): Promise<boolean> {
    return this.deps.db.transaction(async (trx) => {
      const changed = await this.deps.store.setGroupFlag(groupId, on, trx);
      if (!changed) return false;
      const group = (await groupsWithFlags(trx)).find((g) => g.id === groupId);
      const subscribers = await this.deps.store.activeSubscribersOf([{ kind: 'group', id: String(groupId) }], trx);
      const t = this.texts;
      const stamp = this.now();
      for (const s of subscribers) {
        await this.deps.outbox.enqueue(trx, {
          key: `mc-group-flag:${groupId}:${stamp}:${s.chatId}`,
          botId: this.botId(),
          chatId: s.chatId,
          method: 'sendMessage',
          params: { text: on ? t.groupOn(group?.name ?? String(groupId)) : t.groupOff(group?.name ?? String(groupId)) },
        });
      }
      return true;
    });
  }

  /** The admin switches a subscriber on or off; the user is told. False for an unknown subscriber. */
  async setSubscriberByAdmin(id: number, on: boolean): Promise<boolean> {
    return this.deps.db.transaction(async (trx) => {
      const before = await this.deps.store.setByAdmin(id, on, trx);
      if (!before) return false;
      if ((before.status === 'on') === on) return true; // nothing changed: nothing to tell
      const what = await describeScope(trx, before.scope, this.texts);
      await this.deps.outbox.enqueue(trx, {
        key: `mc-admin:${id}:${this.now()}`,
        botId: this.botId(),
        chatId: before.chatId,
        method: 'sendMessage',
        params: { text: on ? this.texts.adminOn(what) : this.texts.adminOff(what) },
      });
      return true;
    });
  }

  /** The bot that serves the feature right now (read at each message). */
  /** The bot that sends the feature's messages now (the active custom bot while it works, else the default). */
  botId(): string {
    return this.deps.botId?.() ?? MISSED_CALLS_BOT;
  }

  private get language(): Language {
    return this.deps.settings.get('general.language');
  }

  private get texts(): BotTexts {
    return textsIn(this.language);
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

/** Groups with members and flags, read in the caller's transaction (SQLite has one connection: no reads beside it). */
export async function groupsWithFlags(q: Knex | Knex.Transaction): Promise<NotifiableGroup[]> {
  const groups: { id: number; name: string; notify_missed: number | boolean }[] = await q('user_groups').select('id', 'name', 'notify_missed');
  const members: { group_id: number; extension: string }[] = await q('user_group_members').select('group_id', 'extension');
  return groups.map((g) => ({ id: g.id, name: g.name, notify: Boolean(g.notify_missed), members: members.filter((m) => m.group_id === g.id).map((m) => m.extension) }));
}

async function namesOfExtensions(q: Knex | Knex.Transaction): Promise<Map<string, string>> {
  const rows: { endpoint: string; name: string }[] = await q('pbx_endpoints').where('kind', 'extension').whereNot('name', '').select('endpoint', 'name');
  return new Map(rows.map((r) => [r.endpoint, r.name]));
}

/** "extension 101 (Reception)" / `group "Sales"`, in the bot's language. */
export async function describeScope(q: Knex | Knex.Transaction, scope: Scope, t: BotTexts): Promise<string> {
  if (scope.kind === 'extension') {
    const row = await q('pbx_endpoints').where({ endpoint: scope.id }).first('name');
    return t.extension(scope.id, (row?.name as string | undefined) ?? '');
  }
  const group = await q('user_groups').where({ id: Number(scope.id) }).first('name');
  return t.group((group?.name as string | undefined) ?? scope.id);
}
