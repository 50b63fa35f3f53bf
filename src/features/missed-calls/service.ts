import type { Call, MissedReason } from '../../pbx/call-model.js';
import type { UserGroup } from '../../pbx/pbx-directory.js';
import type { Scope, Subscriber } from './store.js';

/** A group as the rules see it: its members and its "notify about missed calls" flag. */
export interface NotifiableGroup extends UserGroup {
  notify: boolean;
}

/** One notice to send: a chat, and the scopes through which the call concerns it. */
export interface MissedCallNotice {
  chatId: string;
  scopes: Scope[];
}

/**
 * The scopes a missed call concerns: every extension it was missed for, and every group
 * (with its flag on) that has one of those extensions as a member.
 */
export function scopesOfMissedCall(call: Call, groups: NotifiableGroup[]): Scope[] {
  const extensions = new Set(call.missed.filter((m) => m.kind === 'extension').map((m) => m.target));
  const scopes: Scope[] = [...extensions].map((id) => ({ kind: 'extension' as const, id }));
  for (const g of groups) if (g.notify && g.members.some((m) => extensions.has(m))) scopes.push({ kind: 'group', id: String(g.id) });
  return scopes;
}

/**
 * Who gets a notice for a missed call: one notice per chat, however many of its
 * subscriptions the call concerns (an extension and its group), and only subscribers
 * whose notices are on.
 */
export function noticesForMissedCall(call: Call, groups: NotifiableGroup[], subscribers: Subscriber[]): MissedCallNotice[] {
  if (call.disposition !== 'missed' || call.direction === 'outbound' || call.originated) return [];
  const scopes = scopesOfMissedCall(call, groups);
  const byChat = new Map<string, Scope[]>();
  for (const s of subscribers) {
    if (s.status !== 'on' || !scopes.some((sc) => sc.kind === s.scope.kind && sc.id === s.scope.id)) continue;
    const list = byChat.get(s.chatId) ?? [];
    list.push(s.scope);
    byChat.set(s.chatId, list);
  }
  return [...byChat].map(([chatId, list]) => ({ chatId, scopes: list }));
}

/** The outbox key of a notice: one per call and chat, so replays and retries never send it twice. */
export function noticeKey(linkedid: string, chatId: string): string {
  return `missed:${linkedid}:${chatId}`;
}

export type Language = 'en' | 'ru';

const REASONS: Record<Language, Record<MissedReason, string>> = {
  en: { no_answer: 'no answer', busy: 'busy', unavailable: 'phone unavailable', caller_hung_up: 'the caller hung up', abandoned: 'abandoned in the queue', declined: 'declined' },
  ru: { no_answer: 'нет ответа', busy: 'занято', unavailable: 'телефон недоступен', caller_hung_up: 'абонент положил трубку', abandoned: 'не дождался в очереди', declined: 'отклонён' },
};

const WORDS = {
  en: { title: 'Missed call', from: 'From', to: 'To', when: 'When', rang: 'Rang', waited: 'Waited', line: 'Line', number: 'number', voicemail: 'Voicemail left', unknown: 'unknown number', queue: 'queue', group: 'group' },
  ru: { title: 'Пропущенный звонок', from: 'Кто', to: 'Кому', when: 'Когда', rang: 'Звонил', waited: 'Ждал', line: 'Линия', number: 'номер', voicemail: 'Оставлено голосовое сообщение', unknown: 'номер скрыт', queue: 'очередь', group: 'группа' },
};

/** What the notice text needs besides the call. */
export interface NoticeContext {
  language: Language;
  timeZone: string;
  /** Extension -> name, for "101 (Reception)". */
  extensionNames: ReadonlyMap<string, string>;
  groups: NotifiableGroup[];
  /** The scopes through which this chat gets the notice. */
  scopes: Scope[];
}

/**
 * The text of a missed-call notice: who called, whom, when (PBX time zone), how long it
 * rang or the caller waited, why it was missed, the line and number it came in on, and
 * whether a voicemail was left. Plain text: caller names come from outside and must not
 * be read as markup.
 */
export function missedCallText(call: Call, ctx: NoticeContext): string {
  const w = WORDS[ctx.language];
  const reasons = REASONS[ctx.language];
  const caller = call.caller.number || w.unknown;
  const name = call.caller.name && call.caller.name !== call.caller.number ? ` (${call.caller.name})` : '';
  const named = (ext: string) => (ctx.extensionNames.get(ext) ? `${ext} (${ctx.extensionNames.get(ext)})` : ext);
  const relevantExtensions = new Set<string>();
  for (const s of ctx.scopes) {
    if (s.kind === 'extension') relevantExtensions.add(s.id);
    else for (const m of ctx.groups.find((g) => String(g.id) === s.id)?.members ?? []) relevantExtensions.add(m);
  }
  const missed = call.missed.filter((m) => m.kind === 'extension' && relevantExtensions.has(m.target));
  const queue = call.missed.find((m) => m.kind === 'queue');
  const groupNames = ctx.scopes.filter((s) => s.kind === 'group').map((s) => ctx.groups.find((g) => String(g.id) === s.id)?.name ?? s.id);
  const to = [...missed.map((m) => named(m.target)), ...groupNames.map((g) => `${w.group} ${g}`), ...(queue ? [`${w.queue} ${queue.target}`] : [])];
  const first = missed[0] ?? queue ?? call.missed[0];
  const when = new Intl.DateTimeFormat(ctx.language === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: ctx.timeZone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(call.startedAt));
  const lines = [
    `📞 ${w.title}`,
    `${w.from}: ${caller}${name}`,
    `${w.to}: ${to.join(', ')}`,
    `${w.when}: ${when}`,
    first ? `${first.kind === 'queue' ? w.waited : w.rang}: ${first.ringSeconds} s — ${reasons[first.reason]}` : '',
    call.trunk ? `${w.line}: ${call.trunk}, ${w.number} ${call.dialed}` : '',
    call.voicemailLeft ? `✉️ ${w.voicemail}` : '',
  ];
  return lines.filter(Boolean).join('\n');
}
