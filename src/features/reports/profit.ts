import type { Database } from '../../storage/database.js';
import { csvField } from './deck-csv.js';
import { formatMoney, marginPercent } from './money.js';

/** One row of the profit report: the calls to one E.164 code. */
export interface ProfitRow {
  code: string;
  destination: string;
  calls: number;
  /** Billed seconds. */
  seconds: number;
  revenueMicro: number;
  costMicro: number;
  profitMicro: number;
  /** Profit in percent of revenue; null without revenue. */
  margin: number | null;
}

/** The report: rows sorted by profit (highest first), and the totals. */
export interface ProfitReport {
  peer: string;
  from: number;
  to: number;
  rows: ProfitRow[];
  totals: Omit<ProfitRow, 'code' | 'destination'>;
}

/**
 * Profit and margin of one peer over [from, to), grouped by E.164 code: one SQL GROUP BY
 * over the stored ratings (index rp_ratings(peer, started_at)); the decks are not touched,
 * the codes were matched when the calls were rated.
 */
export async function profitReport(db: Database, q: { peer: string; from: number; to: number }): Promise<ProfitReport> {
  const rows: Record<string, unknown>[] = await db('rp_ratings')
    .where('peer', q.peer)
    .andWhere('started_at', '>=', q.from)
    .andWhere('started_at', '<', q.to)
    .groupBy('code')
    .select('code')
    .max({ destination: 'destination' })
    .count({ calls: '*' })
    .sum({ seconds: 'billed_seconds', revenue: 'revenue_micro', cost: 'cost_micro', profit: 'profit_micro' })
    .orderBy([{ column: 'profit', order: 'desc' }, { column: 'code' }]);
  const out: ProfitRow[] = rows.map((r) => {
    const revenueMicro = Number(r.revenue ?? 0);
    const profitMicro = Number(r.profit ?? 0);
    return {
      code: String(r.code),
      destination: String(r.destination ?? ''),
      calls: Number(r.calls),
      seconds: Number(r.seconds ?? 0),
      revenueMicro,
      costMicro: Number(r.cost ?? 0),
      profitMicro,
      margin: marginPercent(profitMicro, revenueMicro),
    };
  });
  const totals = out.reduce(
    (t, r) => ({ calls: t.calls + r.calls, seconds: t.seconds + r.seconds, revenueMicro: t.revenueMicro + r.revenueMicro, costMicro: t.costMicro + r.costMicro, profitMicro: t.profitMicro + r.profitMicro }),
    { calls: 0, seconds: 0, revenueMicro: 0, costMicro: 0, profitMicro: 0 },
  );
  return { peer: q.peer, from: q.from, to: q.to, rows: out, totals: { ...totals, margin: marginPercent(totals.profitMicro, totals.revenueMicro) } };
}

/** Sums of one peer since a moment (loss control); pass the call's transaction inside a hook. */
export async function peerSums(q: Database | import('knex').Knex.Transaction, peer: string, from: number, to: number): Promise<{ costMicro: number; revenueMicro: number; profitMicro: number }> {
  const r = (await q('rp_ratings')
    .where('peer', peer)
    .andWhere('started_at', '>=', from)
    .andWhere('started_at', '<', to)
    .sum({ cost: 'cost_micro', revenue: 'revenue_micro', profit: 'profit_micro' })
    .first()) as Record<string, unknown> | undefined;
  return { costMicro: Number(r?.cost ?? 0), revenueMicro: Number(r?.revenue ?? 0), profitMicro: Number(r?.profit ?? 0) };
}

/** Minutes as shown: billed seconds / 60 with one decimal. */
export function formatMinutes(seconds: number): string {
  return (Math.round(seconds / 6) / 10).toFixed(1);
}

/** The report as CSV (code, destination, calls, minutes, revenue, cost, profit, margin %), with a totals line. */
export function profitCsv(report: ProfitReport): string {
  const lines = ['code,destination,calls,minutes,revenue,cost,profit,margin_percent'];
  const line = (code: string, name: string, r: Omit<ProfitRow, 'code' | 'destination'>) =>
    [code, name, r.calls, formatMinutes(r.seconds), formatMoney(r.revenueMicro, 4), formatMoney(r.costMicro, 4), formatMoney(r.profitMicro, 4), r.margin ?? ''].map(csvField).join(',');
  for (const r of report.rows) lines.push(line(r.code || 'unmatched', r.destination, r));
  lines.push(line('total', '', report.totals));
  return lines.join('\n') + '\n';
}
