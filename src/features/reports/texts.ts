import { formatMoney, marginPercent } from './money.js';
import type { CrossedBy, LossLimit, PeriodSums } from './loss-limits.js';
import { formatMarginBp } from './loss-limits.js';
import { formatTime, type Language, type LimitPeriod, type ReportInterval } from './periods.js';

/** Money for messages: two decimals. */
const money = (micro: number) => formatMoney(micro, 2);
const marginText = (m: number | null) => (m === null ? '—' : `${m}%`);

/** One line of figures in the profit table (a code or the totals). */
export interface TableFigures {
  calls: number;
  minutes: string;
  revenueMicro: number;
  costMicro: number;
  profitMicro: number;
  margin: number | null;
}

/** Who ended a block, for the unblock alert (the block row keeps an English note for the page). */
export type Unblocker = { via: 'period' } | { via: 'page' } | { via: 'api' } | { via: 'telegram'; user: string };

/** The block alert's facts. */
export interface BlockAlertFacts {
  peer: string;
  limit: Pick<LossLimit, 'period' | 'maxLossMicro' | 'minMarginBp'>;
  crossedBy: CrossedBy;
  sums: PeriodSums;
  periodFrom: number;
  until: number;
  timeZone: string;
}

/** Russian plural: 1 звонок, 2 звонка, 5 звонков, 21 звонок. */
export function ruPlural(n: number, one: string, few: string, many: string): string {
  const n10 = Math.abs(n) % 10;
  const n100 = Math.abs(n) % 100;
  if (n10 === 1 && n100 !== 11) return one;
  if (n10 >= 2 && n10 <= 4 && (n100 < 12 || n100 > 14)) return few;
  return many;
}

const en = {
  notAllowed: 'Reports are not available in this chat. Ask your PBX administrator to register it.',
  noPeers: 'This chat may not see any peer yet. Ask your PBX administrator to choose its peers.',
  choosePeer: '📊 Profit report\nChoose a peer:',
  chooseInterval: (peer: string) => `📊 Profit report: ${peer}\nChoose the interval:`,
  askRange: (peer: string, timeZone: string) =>
    `📊 Profit report: ${peer}\nReply to this message with the range as two dates, e.g.\n2026-11-01 2026-11-15\nor with hours: 2026-11-01 10:00 2026-11-01 18:00\n(times in ${timeZone})`,
  badRange: (peer: string, timeZone: string, typed: string) =>
    `📊 Profit report: ${peer}\n"${typed.slice(0, 60)}" is not a range. Reply with two dates, e.g.\n2026-11-01 2026-11-15\n(times in ${timeZone})`,
  cancelled: '📊 Profit report: cancelled.',
  expired: 'This menu has expired: send /profit again.',
  peerGone: 'This chat may no longer see this peer.',
  noSuchBlock: 'This block no longer exists.',
  customRange: 'Custom range…',
  cancel: 'Cancel',
  csv: '⬇ Send as CSV',
  unblock: '🔓 Unblock',
  unblocked: 'Unblocked.',
  alreadyUnblocked: 'Already unblocked.',
  intervals: { last_hour: 'Last hour', today: 'Today', yesterday: 'Yesterday', this_week: 'This week', this_month: 'This month' } as Record<ReportInterval, string>,
  tableTitle: (peer: string, label: string) => `📊 Profit: ${peer}, ${label}`,
  noCalls: 'No rated calls in this interval.',
  unmatched: 'unmatched',
  figures: (f: TableFigures) =>
    `   ${f.calls} call${f.calls === 1 ? '' : 's'} · ${f.minutes} min · revenue ${money(f.revenueMicro)} · cost ${money(f.costMicro)} · profit ${money(f.profitMicro)} · margin ${marginText(f.margin)}`,
  total: (codes: number) => `Total: ${codes} code${codes === 1 ? '' : 's'}`,
  page: (page: number, pages: number) => `Page ${page} of ${pages}`,
  blockAlert: (a: BlockAlertFacts) => {
    const margin = marginPercent(a.sums.profitMicro, a.sums.revenueMicro);
    const rule = a.crossedBy === 'loss' ? `loss per ${a.limit.period} at most ${money(a.limit.maxLossMicro)}` : `margin per ${a.limit.period} at least ${formatMarginBp(a.limit.minMarginBp ?? 0)}%`;
    return [
      `⛔ Peer ${a.peer} blocked by loss control`,
      `Limit: ${rule}`,
      `This ${a.limit.period}: loss ${money(Math.max(0, -a.sums.profitMicro))}, revenue ${money(a.sums.revenueMicro)}, cost ${money(a.sums.costMicro)}, margin ${marginText(margin)}`,
      `Since: ${formatTime(a.periodFrom, a.timeZone)}`,
      `New calls to ${a.peer} are refused until ${formatTime(a.until, a.timeZone)} (${a.timeZone}) or until unblocked.`,
    ].join('\n');
  },
  unblockAlert: (a: { peer: string; by: Unblocker; at: number; timeZone: string }) => {
    const by = { period: 'at the end of the period', page: 'by the admin (web page)', api: 'by the admin (REST API)', telegram: `by ${a.by.via === 'telegram' ? a.by.user : ''} in Telegram` }[a.by.via];
    return `✅ Peer ${a.peer} unblocked ${by} (${formatTime(a.at, a.timeZone)}). Calls go through again.`;
  },
  commands: [{ command: 'profit', description: 'Profit and margin by peer and E.164 code' }],
};

export type ReportTexts = typeof en;

const RU_PERIOD: Record<LimitPeriod, { per: string; current: string }> = {
  hour: { per: 'за час', current: 'За текущий час' },
  day: { per: 'за день', current: 'За текущий день' },
  month: { per: 'за месяц', current: 'За текущий месяц' },
};

const ru: ReportTexts = {
  notAllowed: 'Отчёты в этом чате недоступны. Попросите администратора АТС зарегистрировать чат.',
  noPeers: 'Этому чату пока не открыт ни один транк. Попросите администратора АТС выбрать транки для чата.',
  choosePeer: '📊 Отчёт о прибыли\nВыберите транк:',
  chooseInterval: (peer) => `📊 Отчёт о прибыли: ${peer}\nВыберите период:`,
  askRange: (peer, timeZone) =>
    `📊 Отчёт о прибыли: ${peer}\nОтветьте на это сообщение двумя датами, например\n2026-11-01 2026-11-15\nили с часами: 2026-11-01 10:00 2026-11-01 18:00\n(время: ${timeZone})`,
  badRange: (peer, timeZone, typed) =>
    `📊 Отчёт о прибыли: ${peer}\n«${typed.slice(0, 60)}» — не диапазон дат. Ответьте двумя датами, например\n2026-11-01 2026-11-15\n(время: ${timeZone})`,
  cancelled: '📊 Отчёт о прибыли: отменён.',
  expired: 'Это меню устарело: отправьте /profit ещё раз.',
  peerGone: 'Этому чату больше не открыт этот транк.',
  noSuchBlock: 'Этой блокировки больше нет.',
  customRange: 'Свои даты…',
  cancel: 'Отмена',
  csv: '⬇ Прислать CSV',
  unblock: '🔓 Разблокировать',
  unblocked: 'Разблокировано.',
  alreadyUnblocked: 'Уже разблокировано.',
  intervals: { last_hour: 'Последний час', today: 'Сегодня', yesterday: 'Вчера', this_week: 'Эта неделя', this_month: 'Этот месяц' },
  tableTitle: (peer, label) => `📊 Прибыль: ${peer}, ${label}`,
  noCalls: 'За этот период нет тарифицированных звонков.',
  unmatched: 'без кода',
  figures: (f) =>
    `   ${f.calls} ${ruPlural(f.calls, 'звонок', 'звонка', 'звонков')} · ${f.minutes} мин · выручка ${money(f.revenueMicro)} · затраты ${money(f.costMicro)} · прибыль ${money(f.profitMicro)} · маржа ${marginText(f.margin)}`,
  total: (codes) => `Итого: ${codes} ${ruPlural(codes, 'код', 'кода', 'кодов')}`,
  page: (page, pages) => `Страница ${page} из ${pages}`,
  blockAlert: (a) => {
    const margin = marginPercent(a.sums.profitMicro, a.sums.revenueMicro);
    const period = RU_PERIOD[a.limit.period];
    const rule = a.crossedBy === 'loss' ? `убыток ${period.per} не больше ${money(a.limit.maxLossMicro)}` : `маржа ${period.per} не меньше ${formatMarginBp(a.limit.minMarginBp ?? 0)}%`;
    return [
      `⛔ Транк ${a.peer} заблокирован контролем убытков`,
      `Лимит: ${rule}`,
      `${period.current}: убыток ${money(Math.max(0, -a.sums.profitMicro))}, выручка ${money(a.sums.revenueMicro)}, затраты ${money(a.sums.costMicro)}, маржа ${marginText(margin)}`,
      `Начало периода: ${formatTime(a.periodFrom, a.timeZone, 'ru')}`,
      `Новые звонки через ${a.peer} отклоняются до ${formatTime(a.until, a.timeZone, 'ru')} (${a.timeZone}) или до разблокировки.`,
    ].join('\n');
  },
  unblockAlert: (a) => {
    const by = { period: 'в конце периода', page: 'администратором (веб-страница)', api: 'администратором (REST API)', telegram: `пользователем ${a.by.via === 'telegram' ? a.by.user : ''} в Telegram` }[a.by.via];
    return `✅ Транк ${a.peer} разблокирован ${by} (${formatTime(a.at, a.timeZone, 'ru')}). Звонки снова проходят.`;
  },
  commands: [{ command: 'profit', description: 'Прибыль и маржа по транку и коду E.164' }],
};

/** What the reports bot and the loss alerts say, in English and Russian (setting general.language). */
export const REPORT_TEXTS: Record<Language, ReportTexts> = { en, ru };

/** The texts in the language chosen in Settings. */
export function reportTexts(language: Language): ReportTexts {
  return REPORT_TEXTS[language] ?? en;
}

