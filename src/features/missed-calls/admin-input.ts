import { z } from 'zod';
import type { Scope } from './store.js';

/** A subscriber's name as the admin types it (it may differ from the Telegram name). */
const name = z.string({ message: 'Give the subscriber a name.' }).trim().min(1, 'Give the subscriber a name.').max(128, 'A name has at most 128 characters.');

/**
 * A Telegram chat id: a whole number, negative for groups (`-1001234567890`). Accepted as
 * a JSON number or as text; kept as text, as the tables store it.
 */
const chatId = z
  .union([z.number(), z.string()], { message: 'Enter the chat id.' })
  .transform((v) => String(v).trim())
  .pipe(
    z
      .string()
      .min(1, 'Enter the chat id.')
      .regex(/^-?[1-9]\d{0,15}$/, 'This is not a chat id: a chat id is a whole number, negative for a group.')
      .refine((v) => Number.isSafeInteger(Number(v)), 'This chat id is too long to be a Telegram chat id.'),
  );

const scopeKind = z.enum(['group', 'extension'], { message: 'scope kind must be group or extension' });
const scopeId = z
  .union([z.number(), z.string()], { message: 'scope id is missing' })
  .transform((v) => String(v).trim())
  .pipe(z.string().min(1, 'scope id is missing').max(64, 'scope id is too long'));

/** A scope in a JSON body: `{"kind": "group", "id": 3}`. */
export const scopeBody = z.object({ kind: scopeKind, id: scopeId }, { message: 'scope must be {"kind": "group"|"extension", "id": ...}' });

/** A scope in a form's select: `group:3`, `extension:101`. */
const scopeChoice = z
  .string({ message: 'Choose what to subscribe to.' })
  .regex(/^(group|extension):.+$/, 'Choose what to subscribe to.')
  .transform((v): Scope => {
    const colon = v.indexOf(':');
    return { kind: v.slice(0, colon) as Scope['kind'], id: v.slice(colon + 1) };
  });

/** POST /api/v1/missed-calls/subscribers. */
export const addSubscriberBody = z.object({ name, chat_id: chatId, scope: scopeBody });

/** The page's "Add a subscriber" form. */
export const addSubscriberForm = z.object({ name, chat_id: chatId, scope: scopeChoice });

/** PATCH /api/v1/missed-calls/subscribers/:id: a new name, switching on or off, or both. */
export const patchSubscriberBody = z
  .object({ name: name.optional(), enabled: z.boolean({ message: 'enabled must be true or false' }).optional() })
  .refine((b) => b.name !== undefined || b.enabled !== undefined, 'send name, enabled or both');

/** The page's rename form. */
export const renameForm = z.object({ name });

/** The page's switch on/off form: `enabled=1` or `enabled=0`. */
export const enabledForm = z.object({ enabled: z.enum(['0', '1'], { message: 'enabled must be 0 or 1' }).transform((v) => v === '1') });

/** The page's flag form: the checkbox `notify` is sent only when ticked. */
export const flagForm = z.object({ notify: z.string().optional() }).transform((b) => ({ notify: b.notify !== undefined && b.notify !== '' && b.notify !== '0' }));

/** PUT /api/v1/missed-calls/groups/:id/flag. */
export const flagBody = z.object({ notify: z.boolean({ message: 'notify must be true or false' }) });

/** A numeric id in a path; anything else names nothing (404). */
export function pathId(raw: string): number | undefined {
  return /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : undefined;
}

/** Zod's problems by field (`name`, `chat_id`, `scope`), the first message of each, for messages next to a form's fields. */
export function problemsByField(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    out[field] ??= issue.message;
  }
  return out;
}

/** Zod's problems as one sentence for an API answer or a page notice. */
export function problemText(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
