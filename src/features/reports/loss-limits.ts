import type { LimitPeriod } from './periods.js';

/** A loss limit of one peer and period: at most this much loss, optionally at least this margin. */
export interface LossLimit {
  id: number;
  peer: string;
  period: LimitPeriod;
  maxLossMicro: number;
  /** Minimum margin in basis points (1 250 = 12.5 %), or null. */
  minMarginBp: number | null;
  /** The report chat (rp_chats row) that gets the alerts, through its bot; null: no alerts. */
  alertChatRowId: number | null;
  enabled: boolean;
}

/** The money of a peer in the current period. */
export interface PeriodSums {
  costMicro: number;
  revenueMicro: number;
  profitMicro: number;
}

/** Why a limit blocks: the loss went over the maximum, or the margin under the minimum. */
export type CrossedBy = 'loss' | 'margin';

/**
 * Whether a peer's figures of the period cross its limit. A loss above the maximum
 * crosses (a maximum of 0 blocks at the first loss); a minimum margin is judged only once
 * there is revenue (with none, the loss rule decides). Pure.
 */
export function limitCrossed(limit: Pick<LossLimit, 'maxLossMicro' | 'minMarginBp'>, sums: PeriodSums): CrossedBy | null {
  if (-sums.profitMicro > limit.maxLossMicro) return 'loss';
  if (limit.minMarginBp !== null && sums.revenueMicro > 0 && sums.profitMicro * 10_000 < limit.minMarginBp * sums.revenueMicro) return 'margin';
  return null;
}

/** "12.5" from 1250 basis points. */
export function formatMarginBp(bp: number): string {
  return String(bp / 100);
}
