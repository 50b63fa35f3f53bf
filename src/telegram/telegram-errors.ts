import { TimeoutError } from '../retry/timeout.js';

/** What kind of trouble a Telegram (MTProto) error is, which decides what tgpbx does next. */
export type TelegramTrouble =
  /** The session is gone (logged out, revoked, deleted account): authorize again. */
  | 'unauthorized'
  /** The App api_id / api_hash were refused: every account stops until the admin fixes them. */
  | 'credentials'
  /** Telegram asks to wait `seconds`. */
  | 'flood'
  /** A wrong answer at a login step (code, password, name): ask again. */
  | 'input'
  /** The step cannot go on (code expired, number banned or invalid): start again or give up. */
  | 'login'
  /** No answer or a connection problem: retry with backoff. */
  | 'network'
  | 'other';

export interface TelegramProblem {
  trouble: TelegramTrouble;
  /** Words for the admin; never contains a code, a password or a session. */
  message: string;
  /** Seconds to wait, for flood waits. */
  seconds?: number;
  /** Telegram's error code (e.g. PHONE_CODE_INVALID) when there is one. */
  code?: string;
}

const KNOWN: Record<string, { trouble: TelegramTrouble; message: string }> = {
  PHONE_CODE_INVALID: { trouble: 'input', message: 'wrong code: check the code Telegram sent and enter it again' },
  PHONE_CODE_EMPTY: { trouble: 'input', message: 'enter the code Telegram sent' },
  PHONE_CODE_EXPIRED: { trouble: 'login', message: 'the code expired: start the authorization again to get a new code' },
  SEND_CODE_UNAVAILABLE: { trouble: 'input', message: 'Telegram has no other way to send the code now: enter the code you got, or start again later' },
  PHONE_CODE_HASH_EMPTY: { trouble: 'login', message: 'the login attempt expired: start the authorization again' },
  SESSION_PASSWORD_NEEDED: { trouble: 'input', message: 'the account has a two-step verification password: enter it' },
  PASSWORD_HASH_INVALID: { trouble: 'input', message: 'wrong two-step verification password: enter it again' },
  SRP_ID_INVALID: { trouble: 'login', message: 'the password check expired: start the authorization again' },
  FIRSTNAME_INVALID: { trouble: 'input', message: 'Telegram refused this first name: enter another' },
  LASTNAME_INVALID: { trouble: 'input', message: 'Telegram refused this last name: enter another' },
  PHONE_NUMBER_INVALID: { trouble: 'login', message: 'Telegram says this phone number is invalid' },
  PHONE_NUMBER_BANNED: { trouble: 'login', message: 'Telegram has banned this phone number' },
  PHONE_NUMBER_FLOOD: { trouble: 'login', message: 'too many login codes were asked for this number: try again later' },
  PHONE_NUMBER_UNOCCUPIED: { trouble: 'login', message: 'no Telegram account uses this number yet' },
  API_ID_INVALID: { trouble: 'credentials', message: 'Telegram refused the App api_id / api_hash: check them in the provider settings (my.telegram.org)' },
  API_ID_PUBLISHED_FLOOD: { trouble: 'credentials', message: 'this App api_id was published and is blocked by Telegram: create your own at my.telegram.org' },
  AUTH_KEY_UNREGISTERED: { trouble: 'unauthorized', message: 'the session is no longer valid (logged out or terminated from another device): authorize again' },
  AUTH_KEY_INVALID: { trouble: 'unauthorized', message: 'Telegram does not know this session: authorize again' },
  SESSION_REVOKED: { trouble: 'unauthorized', message: 'the session was terminated from another device: authorize again' },
  SESSION_EXPIRED: { trouble: 'unauthorized', message: 'the session expired: authorize again' },
  USER_DEACTIVATED: { trouble: 'unauthorized', message: 'the Telegram account was deleted' },
  USER_DEACTIVATED_BAN: { trouble: 'unauthorized', message: 'the Telegram account was banned' },
  AUTH_KEY_DUPLICATED: { trouble: 'unauthorized', message: 'the session was used from two places at once and Telegram dropped it: authorize again' },
};

/**
 * Turns a GramJS failure into words for the admin and a kind of trouble. Reads only the
 * RPC error's code (e.g. FLOOD_WAIT_30): GramJS error messages name the request, and the
 * request may hold a login code.
 */
export function explainTelegramError(err: unknown): TelegramProblem {
  if (err instanceof TimeoutError) return { trouble: 'network', message: `Telegram did not answer (${err.message})` };
  const code = rpcCode(err);
  // GramJS turns FLOOD_WAIT_<n> into a FloodWaitError: errorMessage "FLOOD", the seconds apart.
  const seconds = (err as { seconds?: unknown } | null)?.seconds;
  if (code === 'FLOOD' && typeof seconds === 'number') {
    return { trouble: 'flood', seconds, code: `FLOOD_WAIT_${seconds}`, message: `Telegram asks to wait ${seconds} s before trying again (flood wait)` };
  }
  if (code) {
    const flood = /^(?:FLOOD_WAIT|FLOOD_PREMIUM_WAIT|SLOWMODE_WAIT|FLOOD_TEST_PHONE_WAIT)_(\d+)$/.exec(code);
    if (flood) {
      const seconds = Number(flood[1]);
      return { trouble: 'flood', seconds, code, message: `Telegram asks to wait ${seconds} s before trying again (flood wait)` };
    }
    const known = KNOWN[code];
    if (known) return { ...known, code };
    if (/^(?:PHONE|NETWORK|USER|STATS)_MIGRATE_\d+$/.test(code)) return { trouble: 'network', code, message: `Telegram moved the account to another data center (${code})` };
    return { trouble: 'other', code, message: `Telegram refused the request: ${code}` };
  }
  const text = err instanceof Error ? err.message : String(err);
  if (/ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|socket|closed|Not connected|disconnect/i.test(text)) {
    return { trouble: 'network', message: `cannot reach Telegram (${firstLine(text)})` };
  }
  return { trouble: 'other', message: firstLine(text) };
}

/** The RPC error code of a GramJS RPCError (errorMessage), if the value is one. */
function rpcCode(err: unknown): string | null {
  const code = (err as { errorMessage?: unknown } | null)?.errorMessage;
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : null;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}
