import { formatMoney, marginPercent } from './money.js';
import type { LossLimit, PeriodSums, CrossedBy } from './loss-limits.js';
import { formatMarginBp } from './loss-limits.js';
import { formatTime, type ReportInterval } from './periods.js';

/** What the reports bot and the loss alerts say (English; the admin pages are English too). */
export const texts = {
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
  customRange: 'Custom range…',
  cancel: 'Cancel',
  csv: '⬇ Send as CSV',
  unblock: '🔓 Unblock',
  unblocked: 'Unblocked.',
  alreadyUnblocked: 'Already unblocked.',
  commands: [{ command: 'profit', description: 'Profit and margin by peer and E.164 code' }],
};

/** Money for messages: two decimals. */
const money = (micro: number) => formatMoney(micro, 2);

/** The alert when loss control blocks a peer: which limit, the figures, when it unblocks. */
export function blockAlert(a: { peer: string; limit: Pick<LossLimit, 'period' | 'maxLossMicro' | 'minMarginBp'>; crossedBy: CrossedBy; sums: PeriodSums; periodFrom: number; until: number; timeZone: string }): string {
  const margin = marginPercent(a.sums.profitMicro, a.sums.revenueMicro);
  const rule =
    a.crossedBy === 'loss'
      ? `loss per ${a.limit.period} at most ${money(a.limit.maxLossMicro)}`
      : `margin per ${a.limit.period} at least ${formatMarginBp(a.limit.minMarginBp ?? 0)}%`;
  return [
    `⛔ Peer ${a.peer} blocked by loss control`,
    `Limit: ${rule}`,
    `This ${a.limit.period}: loss ${money(Math.max(0, -a.sums.profitMicro))}, revenue ${money(a.sums.revenueMicro)}, cost ${money(a.sums.costMicro)}, margin ${margin === null ? '—' : `${margin}%`}`,
    `Since: ${formatTime(a.periodFrom, a.timeZone)}`,
    `New calls to ${a.peer} are refused until ${formatTime(a.until, a.timeZone)} (${a.timeZone}) or until unblocked.`,
  ].join('\n');
}

/** The alert when a block ends. */
export function unblockAlert(a: { peer: string; by: string; at: number; timeZone: string }): string {
  return `✅ Peer ${a.peer} unblocked ${a.by === 'period' ? 'at the end of the period' : `by ${a.by}`} (${formatTime(a.at, a.timeZone)}). Calls go through again.`;
}

export const INTERVAL_BUTTONS: { interval: ReportInterval; text: string }[] = [
  { interval: 'last_hour', text: 'Last hour' },
  { interval: 'today', text: 'Today' },
  { interval: 'yesterday', text: 'Yesterday' },
  { interval: 'this_week', text: 'This week' },
  { interval: 'this_month', text: 'This month' },
];
