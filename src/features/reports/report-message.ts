import type { InlineKeyboardButton } from 'grammy/types';
import { formatMinutes, type ProfitReport, type ProfitRow } from './profit.js';
import { formatSpan, type Language } from './periods.js';
import { reportTexts } from './texts.js';

/** Rows of the table per Telegram message page. */
export const ROWS_PER_PAGE = 10;

/** How many pages a report has (at least one). */
export function pageCount(report: ProfitReport): number {
  return Math.max(1, Math.ceil(report.rows.length / ROWS_PER_PAGE));
}

/**
 * One page of the profit table as a Telegram message, in the bot's language: codes sorted
 * by profit, each with its destination, calls, minutes, revenue, cost, profit and margin;
 * the totals on every page; buttons to page and to get the whole table as CSV. The view id
 * names the report in the buttons, so they keep working after the conversation ended or
 * tgpbx restarted.
 */
export function profitMessage(report: ProfitReport, page: number, viewId: number, label: string, timeZone: string, language: Language = 'en'): { text: string; reply_markup: { inline_keyboard: InlineKeyboardButton[][] } } {
  const t = reportTexts(language);
  const figures = (r: Omit<ProfitRow, 'code' | 'destination'>) => t.figures({ calls: r.calls, minutes: formatMinutes(r.seconds), revenueMicro: r.revenueMicro, costMicro: r.costMicro, profitMicro: r.profitMicro, margin: r.margin });
  const pages = pageCount(report);
  const p = Math.min(Math.max(0, page), pages - 1);
  const lines = [t.tableTitle(report.peer, label), formatSpan(report, timeZone, language) + ` (${timeZone})`, ''];
  if (!report.rows.length) lines.push(t.noCalls);
  report.rows.slice(p * ROWS_PER_PAGE, (p + 1) * ROWS_PER_PAGE).forEach((r, i) => {
    lines.push(`${p * ROWS_PER_PAGE + i + 1}. ${r.code || t.unmatched} ${r.destination}`.trimEnd());
    lines.push(figures(r));
  });
  lines.push('', t.total(report.rows.length), figures(report.totals));
  if (pages > 1) lines.push(t.page(p + 1, pages));
  const nav: InlineKeyboardButton[] = [];
  if (p > 0) nav.push({ text: '◀', callback_data: `rp:v:${viewId}:${p - 1}` });
  if (pages > 1) nav.push({ text: `${p + 1}/${pages}`, callback_data: `rp:v:${viewId}:${p}` });
  if (p < pages - 1) nav.push({ text: '▶', callback_data: `rp:v:${viewId}:${p + 1}` });
  const keyboard = [nav, [{ text: t.csv, callback_data: `rp:csv:${viewId}` }]].filter((row) => row.length);
  return { text: lines.join('\n').slice(0, 4096), reply_markup: { inline_keyboard: keyboard } };
}
