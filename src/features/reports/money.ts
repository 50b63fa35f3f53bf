/**
 * Money in reports is kept in integer micro-units: 1 unit of the PBX's currency =
 * 1 000 000 micro. Rates, fees, costs and revenues are whole numbers, so SQL SUM over a
 * million calls is exact (SQLite and PostgreSQL sum integers exactly; a million calls of
 * 1 000 units each stay far below 2^53). Only pages and messages turn them into decimals.
 */
export const MICRO = 1_000_000;

/**
 * Parses a decimal amount as the admin writes it ("0.0125", "12", "-3,5") into micro-units,
 * exactly (no floating point). Undefined when it is not a number with at most 6 decimals.
 */
export function parseMoney(text: string): number | undefined {
  const m = /^\s*(-)?(\d{1,9})(?:[.,](\d{1,6}))?\s*$/.exec(text);
  if (!m) return undefined;
  const micro = Number(m[2]) * MICRO + Number((m[3] ?? '').padEnd(6, '0'));
  return m[1] ? -micro : micro;
}

/** Micro-units as a decimal with `digits` decimals (rounded half away from zero): 12345678 -> "12.35". */
export function formatMoney(micro: number, digits = 2): string {
  const negative = micro < 0;
  const scale = 10 ** (6 - digits);
  const rounded = Math.round(Math.abs(micro) / scale);
  const whole = Math.floor(rounded / 10 ** digits);
  const frac = digits ? '.' + String(rounded % 10 ** digits).padStart(digits, '0') : '';
  return `${negative && rounded !== 0 ? '-' : ''}${whole}${frac}`;
}

/** A rate as the admin wrote it: up to 6 decimals, trailing zeros dropped but at least 2 ("0.0125", "1.50"). */
export function formatRate(micro: number): string {
  const full = formatMoney(micro, 6);
  return full.replace(/0{1,4}$/, '');
}

/** Margin in percent of revenue (profit / revenue), one decimal; null when there is no revenue. */
export function marginPercent(profitMicro: number, revenueMicro: number): number | null {
  if (revenueMicro <= 0) return null;
  return Math.round((profitMicro / revenueMicro) * 1000) / 10;
}
