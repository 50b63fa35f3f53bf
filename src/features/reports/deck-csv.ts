import { z } from 'zod';
import { parseIncrements } from './billing.js';
import { parseMoney } from './money.js';
import { parseDate } from './periods.js';

/** One rate of a deck: per-minute price of calls to numbers starting with `prefix`, from a date on. */
export interface DeckRate {
  prefix: string;
  name: string;
  rateMicro: number;
  firstIncrement: number;
  nextIncrement: number;
  connectionFeeMicro: number;
  /** ms since the epoch; 0 = always. */
  effectiveFrom: number;
}

/** A line the import refused, with its number (1-based, as an editor shows it) and why. */
export interface RejectedLine {
  line: number;
  text: string;
  reason: string;
}

export interface DeckImport {
  rates: DeckRate[];
  rejected: RejectedLine[];
}

/** The most lines one deck file may have (a 60 000-prefix deck with effective dates fits). */
export const MAX_DECK_LINES = 500_000;

/**
 * One CSV row as fields: prefix, name, rate, increments, from-date, and an optional
 * connection fee. Each field is checked with a reason an admin understands.
 */
const row = (timeZone: string) =>
  z.tuple([
    z
      .string()
      .transform((v) => v.trim().replace(/^\+/, ''))
      .pipe(z.string().regex(/^\d{1,15}$/, 'the prefix must be 1 to 15 digits (E.164, without + or 00)')),
    z.string().transform((v) => v.trim()).pipe(z.string().max(128, 'the name has more than 128 characters')),
    z
      .string()
      .transform((v, ctx) => {
        const micro = parseMoney(v);
        if (micro === undefined || micro < 0) {
          ctx.addIssue({ code: 'custom', message: `the rate "${v.trim()}" is not a price per minute (e.g. 0.0125, at most 6 decimals)` });
          return z.NEVER;
        }
        return micro;
      }),
    z.string().transform((v, ctx) => {
      const inc = parseIncrements(v || '60/60');
      if (!inc) {
        ctx.addIssue({ code: 'custom', message: `the increments "${v.trim()}" are not like 60/60, 1/1 or 30/6` });
        return z.NEVER;
      }
      return inc;
    }),
    z.string().transform((v, ctx) => {
      if (!v.trim()) return 0;
      const at = parseDate(v, timeZone);
      if (at === undefined) {
        ctx.addIssue({ code: 'custom', message: `the date "${v.trim()}" is not a date like 2026-11-01` });
        return z.NEVER;
      }
      return at;
    }),
    z.string().transform((v, ctx) => {
      if (!v.trim()) return 0;
      const micro = parseMoney(v);
      if (micro === undefined || micro < 0) {
        ctx.addIssue({ code: 'custom', message: `the connection fee "${v.trim()}" is not an amount` });
        return z.NEVER;
      }
      return micro;
    }),
  ]);

/**
 * Reads a rate deck from CSV: `prefix,name,rate,increments,from-date[,connection fee]`,
 * comma or semicolon separated (with a semicolon a decimal comma is fine), fields may be
 * quoted, a header line is recognised and skipped, blank lines and `#` comments are
 * ignored. Every other line is either accepted or rejected with its line number and the
 * reason; a prefix given twice for the same date is rejected the second time.
 */
export function parseDeckCsv(text: string, timeZone: string): DeckImport {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const rates: DeckRate[] = [];
  const rejected: RejectedLine[] = [];
  if (lines.length > MAX_DECK_LINES) {
    return { rates, rejected: [{ line: MAX_DECK_LINES + 1, text: '', reason: `the file has more than ${MAX_DECK_LINES} lines` }] };
  }
  const schema = row(timeZone);
  const seen = new Map<string, number>();
  const separator = detectSeparator(lines);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const textLine = raw.trim();
    if (!textLine || textLine.startsWith('#')) return;
    const fields = splitCsvLine(raw, separator);
    if (!fields) return rejected.push({ line, text: raw, reason: 'a quoted field is not closed' });
    if (rates.length === 0 && rejected.length === 0 && isHeader(fields)) return;
    if (fields.length < 3) return rejected.push({ line, text: raw, reason: `expected prefix, name, rate, increments, from-date; found ${fields.length} field${fields.length === 1 ? '' : 's'}` });
    if (fields.length > 6) return rejected.push({ line, text: raw, reason: `too many fields (${fields.length}); at most 6` });
    while (fields.length < 6) fields.push('');
    const parsed = schema.safeParse(fields);
    if (!parsed.success) return rejected.push({ line, text: raw, reason: parsed.error.issues.map((i) => i.message).join('; ') });
    const [prefix, name, rateMicro, inc, effectiveFrom, connectionFeeMicro] = parsed.data;
    const key = `${prefix}@${effectiveFrom}`;
    const first = seen.get(key);
    if (first !== undefined) return rejected.push({ line, text: raw, reason: `prefix ${prefix} is already on line ${first} for the same date` });
    seen.set(key, line);
    rates.push({ prefix, name, rateMicro, firstIncrement: inc.first, nextIncrement: inc.next, connectionFeeMicro, effectiveFrom });
  });
  return { rates, rejected };
}

function detectSeparator(lines: string[]): ',' | ';' | '\t' {
  const sample = lines.find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  if (sample.includes('\t')) return '\t';
  return sample.split(';').length > sample.split(',').length ? ';' : ',';
}

function isHeader(fields: string[]): boolean {
  return !/^\s*\+?\d/.test(fields[0] ?? '') && /prefix|code|префикс|код/i.test(fields.join(' '));
}

/** Splits one CSV line; double quotes group, "" inside quotes is a quote. Null when a quote is left open. */
export function splitCsvLine(line: string, separator: string): string[] | null {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === separator) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
}

/** A CSV field, quoted when it needs to be. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",;\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
