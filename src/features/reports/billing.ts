/**
 * Billing increments: "60/60" bills the first 60 seconds at once, then in steps of 60;
 * "1/1" per second; "30/6" a first block of 30 s, then 6-second steps.
 */
export interface Increments {
  first: number;
  next: number;
}

/** Parses "60/60", "30/6", "1/1" (or a single "60" meaning 60/60); undefined when malformed. */
export function parseIncrements(text: string): Increments | undefined {
  const m = /^\s*(\d{1,4})\s*(?:\/\s*(\d{1,4}))?\s*$/.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]);
  const next = m[2] === undefined ? first : Number(m[2]);
  if (first < 1 || next < 1) return undefined;
  return { first, next };
}

/** "60/60". */
export function formatIncrements(i: Increments): string {
  return `${i.first}/${i.next}`;
}

/**
 * The seconds billed for a call that talked `seconds`: nothing for 0, at least the first
 * block, then whole steps rounded up. Pure.
 */
export function billableSeconds(seconds: number, i: Increments): number {
  if (seconds <= 0) return 0;
  if (seconds <= i.first) return i.first;
  return i.first + Math.ceil((seconds - i.first) / i.next) * i.next;
}

/**
 * What a call costs at a per-minute rate (micro-units): the connection fee plus the rate for
 * the billed seconds, rounded to the nearest micro-unit. Pure and exact on integers.
 */
export function chargeMicro(ratePerMinuteMicro: number, connectionFeeMicro: number, billed: number): number {
  if (billed <= 0) return 0;
  return connectionFeeMicro + Math.round((ratePerMinuteMicro * billed) / 60);
}
