import type { Database } from '../../storage/database.js';
import type { RecipientState } from '../../telegram/recipients.js';
import { MISSED_CALLS_BOT } from './notifier.js';
import type { Scope } from './store.js';

/** Telegram's refusal to deliver to a chat, as the outbox recorded it (403 blocked, 400 chat not found). */
export interface DeliveryRefusal {
  state: RecipientState;
  /** Telegram's own words, e.g. "Forbidden: bot was blocked by the user". */
  reason: string;
  /** When the outbox recorded the refusal (ms since the epoch). */
  since: number;
}

/** The map key of a scope: `group:3`, `extension:101`. */
export function scopeKey(scope: Scope): string {
  return `${scope.kind}:${scope.id}`;
}

/**
 * The reads the admin pages need beside MissedCallStore: every activation key at once,
 * subscribers per scope, and the chats that Telegram refuses for the missed-calls bot.
 */
export class MissedCallAdminQueries {
  constructor(private readonly db: Database) {}

  /** Every stored activation key, by scope key. Scopes without a key are absent (MissedCallStore.keyFor makes one). */
  async keys(): Promise<Map<string, string>> {
    const rows: { scope_kind: string; scope_id: string; key: string }[] = await this.db('mc_keys').select('scope_kind', 'scope_id', 'key');
    return new Map(rows.map((r) => [`${r.scope_kind}:${r.scope_id}`, r.key]));
  }

  /** How many subscribers each scope has (whatever their status), by scope key. */
  async subscriberCounts(): Promise<Map<string, number>> {
    const rows: { scope_kind: string; scope_id: string; n: number | string }[] = await this.db('mc_subscribers')
      .select('scope_kind', 'scope_id')
      .count({ n: '*' })
      .groupBy('scope_kind', 'scope_id');
    return new Map(rows.map((r) => [`${r.scope_kind}:${r.scope_id}`, Number(r.n)]));
  }

  /** Chats the bot that sends the notices (`botId`) cannot reach now, by chat id (a later successful send clears the mark). */
  async refusals(botId: string = MISSED_CALLS_BOT): Promise<Map<string, DeliveryRefusal>> {
    const rows: { chat_id: string; state: RecipientState; reason: string; updated_at: number | string }[] = await this.db('telegram_recipients')
      .where({ bot_id: botId })
      .whereIn('state', ['blocked', 'unreachable'])
      .select('chat_id', 'state', 'reason', 'updated_at');
    return new Map(rows.map((r) => [r.chat_id, { state: r.state, reason: r.reason, since: Number(r.updated_at) }]));
  }
}
