/**
 * Calendar arithmetic in the PBX time zone (general.timezone) without a date library:
 * hours, days, weeks (Monday first) and months start at local midnight of that zone,
 * across daylight-saving changes. Pure; times are ms since the epoch.
 */

/** A loss-limit period. */
export type LimitPeriod = 'hour' | 'day' | 'month';
export const LIMIT_PERIODS: readonly LimitPeriod[] = ['hour', 'day', 'month'];

/** The intervals /profit and the Reports page offer. */
export type ReportInterval = 'last_hour' | 'today' | 'yesterday' | 'this_week' | 'this_month';
export const REPORT_INTERVALS: readonly ReportInterval[] = ['last_hour', 'today', 'yesterday', 'this_week', 'this_month'];
export const INTERVAL_LABELS: Record<ReportInterval, string> = {
  last_hour: 'Last hour',
  today: 'Today',
  yesterday: 'Yesterday',
  this_week: 'This week',
  this_month: 'This month',
};

/** A half-open span of time [from, to). */
export interface Span {
  from: number;
  to: number;
}

interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Monday
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at `ms`. */
export function wallClock(ms: number, timeZone: string): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(parts.weekday!),
  };
}

/** The moment the wall clock in `timeZone` shows this date and hour (the earlier one in a fold, the later in a gap). */
export function zonedTime(year: number, month: number, day: number, hour: number, timeZone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour);
  let guess = asUtc;
  for (let i = 0; i < 3; i++) {
    const w = wallClock(guess, timeZone);
    const shown = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    const next = guess - (shown - asUtc);
    if (next === guess) break;
    guess = next;
  }
  return guess;
}

/** The local day before/after: works on the calendar, not on 24 h steps. */
function addDays(w: { year: number; month: number; day: number }, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The loss-limit period (hour, day, month) that contains `at`, in the PBX time zone. */
export function periodAt(period: LimitPeriod, at: number, timeZone: string): Span {
  const w = wallClock(at, timeZone);
  switch (period) {
    case 'hour': {
      const from = zonedTime(w.year, w.month, w.day, w.hour, timeZone);
      // An hour is an hour everywhere except in zones with 30-minute offsets changes; stepping by wall clock is exact enough here.
      return { from, to: from + 3_600_000 };
    }
    case 'day': {
      const next = addDays(w, 1);
      return { from: zonedTime(w.year, w.month, w.day, 0, timeZone), to: zonedTime(next.year, next.month, next.day, 0, timeZone) };
    }
    case 'month': {
      const nextMonth = w.month === 12 ? { year: w.year + 1, month: 1 } : { year: w.year, month: w.month + 1 };
      return { from: zonedTime(w.year, w.month, 1, 0, timeZone), to: zonedTime(nextMonth.year, nextMonth.month, 1, 0, timeZone) };
    }
  }
}

/** The report interval as a span ending now (or at the end of yesterday), in the PBX time zone. */
export function intervalSpan(interval: ReportInterval, now: number, timeZone: string): Span {
  const w = wallClock(now, timeZone);
  const midnight = (d: { year: number; month: number; day: number }) => zonedTime(d.year, d.month, d.day, 0, timeZone);
  switch (interval) {
    case 'last_hour':
      return { from: now - 3_600_000, to: now };
    case 'today':
      return { from: midnight(w), to: now };
    case 'yesterday':
      return { from: midnight(addDays(w, -1)), to: midnight(w) };
    case 'this_week':
      return { from: midnight(addDays(w, -w.weekday)), to: now };
    case 'this_month':
      return { from: zonedTime(w.year, w.month, 1, 0, timeZone), to: now };
  }
}

/**
 * A custom range as the user types it: "2026-11-01 2026-11-15" (whole days, both included)
 * or "2026-11-01 10:00 2026-11-01 18:00". Dates are in the PBX time zone. Undefined when it
 * cannot be read or ends before it starts.
 */
export function parseRange(text: string, timeZone: string): Span | undefined {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):00)?\s*(?:-|–|—|\.\.|to|\s)\s*(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):00)?\s*$/.exec(text);
  if (!m) return undefined;
  const n = m.map(Number);
  const valid = (y: number, mo: number, d: number) => mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d;
  if (!valid(n[1]!, n[2]!, n[3]!) || !valid(n[5]!, n[6]!, n[7]!)) return undefined;
  const from = zonedTime(n[1]!, n[2]!, n[3]!, m[4] ? n[4]! : 0, timeZone);
  let to: number;
  if (m[8]) to = zonedTime(n[5]!, n[6]!, n[7]!, n[8]!, timeZone);
  else {
    const next = addDays({ year: n[5]!, month: n[6]!, day: n[7]! }, 1);
    to = zonedTime(next.year, next.month, next.day, 0, timeZone);
  }
  return to > from ? { from, to } : undefined;
}

/** A date ("2026-11-01") as local midnight in the zone; undefined when it is not a date. */
export function parseDate(text: string, timeZone: string): number | undefined {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return undefined;
  return zonedTime(y, mo, d, 0, timeZone);
}

/** The languages of the bot's messages (setting general.language). */
export type Language = 'en' | 'ru';

/** "22 Nov 2026, 10:00" in the zone ("22 нояб. 2026 г., 10:00" in Russian). */
export function formatTime(ms: number, timeZone: string, language: Language = 'en'): string {
  return new Intl.DateTimeFormat(language === 'ru' ? 'ru-RU' : 'en-GB', { timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
}

/** "2026-11-22" in the zone. */
export function formatDate(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  return `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** "22 Nov 2026 10:00 – 23 Nov 2026 00:00". */
export function formatSpan(span: Span, timeZone: string, language: Language = 'en'): string {
  return `${formatTime(span.from, timeZone, language)} – ${formatTime(span.to, timeZone, language)}`;
}

/**
 * The span a page or API request asks for: a named interval (default today), or `from`
 * and `to` dates (both days included). Undefined when the dates cannot be read.
 */
export function requestedSpan(q: { interval?: string; from?: string; to?: string }, now: number, timeZone: string): (Span & { label: string }) | undefined {
  if (q.from || q.to) {
    const span = parseRange(`${q.from ?? ''} ${q.to || q.from || ''}`, timeZone);
    return span ? { ...span, label: `${q.from} – ${q.to || q.from}` } : undefined;
  }
  const interval = (REPORT_INTERVALS as readonly string[]).includes(q.interval ?? '') ? (q.interval as ReportInterval) : 'today';
  return { ...intervalSpan(interval, now, timeZone), label: INTERVAL_LABELS[interval] };
}
