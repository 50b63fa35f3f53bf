import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * The X-TG-* headers the Telegram gateway puts on its INVITE. Any may be missing (the
 * caller's privacy settings hide the phone number, not everyone has a username): null
 * or undefined means absent.
 */
export interface TelegramHeaders {
  /** X-TG-ID: the Telegram user id (digits). */
  id?: string | null;
  /** X-TG-Phone: the phone number, usually international digits without `+`. */
  phone?: string | null;
  /** X-TG-Username: the @username, with or without the `@`. */
  username?: string | null;
  /** X-TG-FirstName. */
  firstName?: string | null;
  /** X-TG-LastName. */
  lastName?: string | null;
}

/** The header names, as the gateway spells them, for each field of TelegramHeaders. */
export const TELEGRAM_HEADER_NAMES: Readonly<Record<keyof TelegramHeaders, string>> = {
  phone: 'X-TG-Phone',
  username: 'X-TG-Username',
  id: 'X-TG-ID',
  firstName: 'X-TG-FirstName',
  lastName: 'X-TG-LastName',
};

/** What the PBX should show for a Telegram caller, and who the caller is on Telegram. */
export interface TelegramCallerId {
  /** CALLERID(num): the E.164 phone (`+79990001122`), else the username (`alice`), else the user id; null: leave as is. */
  readonly number: string | null;
  /** CALLERID(name): `First Last`, else `@username`; null: leave as is. */
  readonly name: string | null;
  /** Which header gave the number. */
  readonly source: 'phone' | 'username' | 'id' | null;
  /** The valid values read, for tgpbx's channel <-> Telegram user record. */
  readonly telegramUserId: string | null;
  readonly phone: string | null;
  readonly username: string | null;
}

/** CALLERID(name) is cut to this many characters (SIP display names and phone screens are short). */
export const MAX_CALLER_NAME_LENGTH = 64;

/**
 * The caller ID rule for Telegram calls: the number comes from the first valid header of
 * X-TG-Phone (normalized to E.164 with `+`), X-TG-Username, X-TG-ID, in that order; the
 * name from X-TG-FirstName and X-TG-LastName, else `@username`. A header whose value is not
 * valid (a phone that is no phone number, a username with forbidden characters) counts as
 * absent, so the next one in line is used. Pure: no I/O.
 */
export function callerIdFromTelegramHeaders(headers: TelegramHeaders): TelegramCallerId {
  const phone = normalizeTelegramPhone(headers.phone);
  const username = normalizeTelegramUsername(headers.username);
  const telegramUserId = normalizeTelegramUserId(headers.id);
  const fullName = [cleanName(headers.firstName), cleanName(headers.lastName)].filter((p) => p !== '').join(' ');
  const name = fullName !== '' ? truncate(fullName, MAX_CALLER_NAME_LENGTH) : username ? `@${username}` : null;
  const [number, source] = phone
    ? [phone, 'phone' as const]
    : username
      ? [username, 'username' as const]
      : telegramUserId
        ? [telegramUserId, 'id' as const]
        : [null, null];
  return { number, name, source, telegramUserId, phone, username };
}

/**
 * A Telegram phone number in E.164 (`+79990001122`), or null when the value is no phone
 * number. Telegram sends international digits without `+`; spaces, dashes, dots and
 * parentheses are ignored. Numbers of a known country code that libphonenumber does not
 * consider possible (Telegram's anonymous +888 numbers) are kept when 8 to 15 digits long.
 */
export function normalizeTelegramPhone(raw: string | null | undefined): string | null {
  const value = (raw ?? '').trim().replace(/[\s().\-]/g, '');
  if (!/^\+?\d{4,16}$/.test(value)) return null;
  const digits = value.replace(/^\+/, '');
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (!parsed) return null;
  if (parsed.isPossible()) return parsed.number;
  return digits.length >= 8 && digits.length <= 15 ? `+${digits}` : null;
}

/** A Telegram username without `@` (4 to 32 letters, digits, underscores, starting with a letter), or null. */
export function normalizeTelegramUsername(raw: string | null | undefined): string | null {
  const value = (raw ?? '').trim().replace(/^@/, '');
  return /^[A-Za-z][A-Za-z0-9_]{3,31}$/.test(value) ? value : null;
}

/** A Telegram user id (a positive whole number), or null. */
export function normalizeTelegramUserId(raw: string | null | undefined): string | null {
  const value = (raw ?? '').trim();
  return /^[1-9]\d{0,19}$/.test(value) ? value : null;
}

/** A name part fit for CALLERID(name): control characters removed, white space collapsed. */
function cleanName(raw: string | null | undefined): string {
  return (raw ?? '').replace(/\p{Cc}/gu, ' ').replace(/\s+/g, ' ').trim();
}

/** Cuts to `max` characters (code points, so an emoji is never split). */
function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max).join('').trimEnd();
}
