import { z } from 'zod';
import { parseIncrements } from './billing.js';
import { parseMoney } from './money.js';
import { LIMIT_PERIODS, parseDate } from './periods.js';
import { DECK_KINDS } from './rate-decks.js';

/** A peer name as Asterisk names endpoints. */
export const peerName = z
  .string({ message: 'Choose a peer.' })
  .trim()
  .regex(/^[A-Za-z0-9_.@+-]{1,64}$/, 'A peer is an Asterisk endpoint name: letters, digits, _ . @ + - (at most 64).');

export const deckKind = z.enum(DECK_KINDS as [string, ...string[]], { message: 'The deck kind is cost or sell.' }).transform((v) => v as 'cost' | 'sell');

/** An amount of money typed by the admin, into micro-units. */
const money = (what: string) =>
  z.union([z.string(), z.number()], { message: `Enter ${what}.` }).transform((v, ctx) => {
    const micro = parseMoney(String(v));
    if (micro === undefined || micro < 0) {
      ctx.addIssue({ code: 'custom', message: `${what[0]!.toUpperCase()}${what.slice(1)} must be an amount like 10 or 0.0125.` });
      return z.NEVER;
    }
    return micro;
  });

/** Optional margin in percent ("12.5") into basis points, or null when empty. */
const marginBp = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === null || String(v).trim() === '') return null;
    const n = Number(String(v).replace(',', '.'));
    if (!Number.isFinite(n) || n < -100 || n > 100) {
      ctx.addIssue({ code: 'custom', message: 'The minimum margin is a percentage between -100 and 100, or empty.' });
      return z.NEVER;
    }
    return Math.round(n * 100);
  });

const optionalId = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === null || String(v).trim() === '') return null;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) {
      ctx.addIssue({ code: 'custom', message: 'Choose a report chat.' });
      return z.NEVER;
    }
    return n;
  });

const checkbox = z.union([z.boolean(), z.string(), z.undefined()]).transform((v) => v === true || v === 'on' || v === 'true' || v === 'yes');

/** A loss limit from the form or JSON. */
export const limitInput = z.object({
  peer: peerName,
  period: z.enum(LIMIT_PERIODS as [string, ...string[]], { message: 'The period is hour, day or month.' }).transform((v) => v as 'hour' | 'day' | 'month'),
  max_loss: money('the maximum loss'),
  min_margin: marginBp,
  alert_chat: optionalId,
  enabled: checkbox.optional().default(true),
});

/** A Telegram chat id: a whole number, negative for groups. */
export const chatIdInput = z
  .union([z.number(), z.string()], { message: 'Enter the chat id.' })
  .transform((v) => String(v).trim())
  .pipe(z.string().regex(/^-?[1-9]\d{0,15}$/, 'A chat id is a whole number, negative for a group (e.g. -1001234567890).'));

/** Peers from a multi-select (a string or a list). */
export const peerList = z
  .union([z.array(z.string()), z.string(), z.undefined()])
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : v === '' ? [] : [v]))
  .pipe(z.array(peerName));

export const chatInput = z.object({
  chat_id: chatIdInput,
  bot_id: z.string({ message: 'Choose the bot that answers there.' }).regex(/^(default|custom:\d+)$/, 'Choose the bot that answers there.'),
  title: z.string().trim().max(128, 'The title has at most 128 characters.').optional().default(''),
  peers: peerList,
});

/** One rate typed on the deck page or sent as JSON. */
export const rateInput = (timeZone: string) =>
  z.object({
    prefix: z
      .string({ message: 'Enter the prefix.' })
      .transform((v) => v.trim().replace(/^\+/, ''))
      .pipe(z.string().regex(/^\d{1,15}$/, 'The prefix is 1 to 15 digits.')),
    name: z.string().trim().max(128, 'The name has at most 128 characters.').optional().default(''),
    rate: money('the rate per minute'),
    increments: z
      .string()
      .optional()
      .default('60/60')
      .transform((v, ctx) => {
        const i = parseIncrements(v || '60/60');
        if (!i) {
          ctx.addIssue({ code: 'custom', message: 'Increments are like 60/60, 1/1 or 30/6.' });
          return z.NEVER;
        }
        return i;
      }),
    connection_fee: z.union([z.string(), z.number()]).optional().default('0').transform((v, ctx) => {
      const micro = parseMoney(String(v) || '0');
      if (micro === undefined || micro < 0) {
        ctx.addIssue({ code: 'custom', message: 'The connection fee is an amount like 0.01.' });
        return z.NEVER;
      }
      return micro;
    }),
    from: z.string().optional().default('').transform((v, ctx) => {
      if (!v.trim()) return 0;
      const at = parseDate(v, timeZone);
      if (at === undefined) {
        ctx.addIssue({ code: 'custom', message: 'The date is like 2026-11-01, or empty for always.' });
        return z.NEVER;
      }
      return at;
    }),
  });

/** The first problem of a failed parse, for a message at the top of a page or an API error. */
export function problemText(error: z.ZodError): string {
  return error.issues.map((i) => i.message).join(' ');
}

/** A positive id from a path; undefined otherwise. */
export function pathId(value: string): number | undefined {
  return /^[1-9]\d{0,9}$/.test(value) ? Number(value) : undefined;
}
