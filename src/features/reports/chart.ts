import { formatMoney } from './money.js';
import type { ProfitRow } from './profit.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The profit report as a server-rendered SVG bar chart: one horizontal bar per code (the
 * `max` most profitable and the losses after them), green for profit and red for loss,
 * around a zero line. No script, no inline style: colours come from classes in
 * tgpbx.css, so the page's CSP holds. Pure.
 */
export function profitChartSvg(rows: ProfitRow[], max = 15): string {
  const shown = rows.length > max ? [...rows.slice(0, Math.ceil(max / 2)), ...rows.slice(-Math.floor(max / 2))] : rows;
  const barHeight = 22;
  const labelWidth = 190;
  const valueWidth = 90;
  const plotWidth = 520;
  const width = labelWidth + plotWidth + valueWidth;
  const height = Math.max(1, shown.length) * barHeight + 24;
  const extreme = Math.max(1, ...shown.map((r) => Math.abs(r.profitMicro)));
  const hasLoss = shown.some((r) => r.profitMicro < 0);
  const hasProfit = shown.some((r) => r.profitMicro > 0);
  const zeroX = labelWidth + (hasLoss && hasProfit ? plotWidth / 2 : hasLoss ? plotWidth : 0);
  const scale = (hasLoss && hasProfit ? plotWidth / 2 : plotWidth) / extreme;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" class="rp-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Profit by E.164 code">`];
  if (!shown.length) parts.push(`<text x="${labelWidth}" y="16" class="rp-chart-empty">No rated calls in this interval.</text>`);
  shown.forEach((r, i) => {
    const y = i * barHeight + 4;
    const w = Math.max(1, Math.abs(r.profitMicro) * scale);
    const x = r.profitMicro >= 0 ? zeroX : zeroX - w;
    const label = `${r.code || 'unmatched'} ${r.destination}`.slice(0, 28);
    parts.push(
      `<g class="rp-bar ${r.profitMicro >= 0 ? 'rp-profit' : 'rp-loss'}" data-code="${escape(r.code)}">`,
      `<title>${escape(`${r.code || 'unmatched'} ${r.destination}: profit ${formatMoney(r.profitMicro)}`)}</title>`,
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" class="rp-label">${escape(label)}</text>`,
      `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${barHeight - 6}" rx="2"/>`,
      `<text x="${labelWidth + plotWidth + 6}" y="${y + 15}" class="rp-value">${escape(formatMoney(r.profitMicro))}</text>`,
      `</g>`,
    );
  });
  parts.push(`<line x1="${zeroX}" y1="0" x2="${zeroX}" y2="${height - 18}" class="rp-zero"/>`);
  parts.push(`<text x="${zeroX}" y="${height - 4}" text-anchor="middle" class="rp-axis">0</text>`);
  parts.push('</svg>');
  return parts.join('');
}
