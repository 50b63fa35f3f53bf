import type { InlineKeyboardButton } from 'grammy/types';
import { formatMoney } from './money.js';
import { formatMinutes, type ProfitReport, type ProfitRow } from './profit.js';
import { formatSpan } from './periods.js';
import { texts } from './texts.js';

/** Rows of the table per Telegram message page. */
export const ROWS_PER_PAGE = 10;

const money = (micro: number) => formatMoney(micro, 2);
const margin = (m: number | null) => (m === null ? '—' : `${m}%`);

function rowLines(r: Omit<ProfitRow, 'code' | 'destination'>): string {
  return `   ${r.calls} call${r.calls === 1 ? "" : "s"} · ${formatMinutes(r.seconds)} min · revenue ${money(r.revenueMicro)} · cost ${money(r.costMicro)} · profit ${money(r.profitMicro)} · margin ${margin(r.margin)}`;
}

/** How many pages a report has (at least one). */
export function pageCount(report: ProfitReport): number {
  return Math.max(1, Math.ceil(report.rows.length / ROWS_PER_PAGE));
}

/**
 * One page of the profit table as a Telegram message: codes sorted by profit, each with
 * its destination, calls, minutes, revenue, cost, profit and margin; the totals on every
 * page; buttons to page and to get the whole table as CSV. The view id names the report in
 * the buttons, so they keep working after the conversation ended or tgpbx restarted.
 */
export function profitMessage(report: ProfitReport, page: number, viewId: number, label: string, timeZone: string): { text: string; reply_markup: { inline_keyboard: InlineKeyboardButton[][] } } {
  const pages = pageCount(report);
  const p = Math.min(Math.max(0, page), pages - 1);
  const lines = [`📊 Profit: ${report.peer}, ${label}`, formatSpan(report, timeZone) + ` (${timeZone})`, ''];
  if (!report.rows.length) lines.push('No rated calls in this interval.');
  report.rows.slice(p * ROWS_PER_PAGE, (p + 1) * ROWS_PER_PAGE).forEach((r, i) => {
    lines.push(`${p * ROWS_PER_PAGE + i + 1}. ${r.code || 'unmatched'} ${r.destination}`.trimEnd());
    lines.push(rowLines(r));
  });
  lines.push('', `Total: ${report.rows.length} codes`, rowLines(report.totals));
  if (pages > 1) lines.push(`Page ${p + 1} of ${pages}`);
  const nav: InlineKeyboardButton[] = [];
  if (p > 0) nav.push({ text: '◀', callback_data: `rp:v:${viewId}:${p - 1}` });
  if (pages > 1) nav.push({ text: `${p + 1}/${pages}`, callback_data: `rp:v:${viewId}:${p}` });
  if (p < pages - 1) nav.push({ text: '▶', callback_data: `rp:v:${viewId}:${p + 1}` });
  const keyboard = [nav, [{ text: texts.csv, callback_data: `rp:csv:${viewId}` }]].filter((row) => row.length);
  return { text: lines.join('\n').slice(0, 4096), reply_markup: { inline_keyboard: keyboard } };
}
