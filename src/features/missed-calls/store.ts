import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { fitColumn, type Database } from '../../storage/database.js';

/** What a chat can subscribe to: a user group (by id) or one extension. */
export interface Scope {
  kind: 'group' | 'extension';
  id: string;
}

/**
 * on: notices arrive; muted: the user sent /mute; disabled: the admin switched him off
 * (he cannot switch himself on again).
 */
export type SubscriberStatus = 'on' | 'muted' | 'disabled';

export interface Subscriber {
  id: number;
  chatId: string;
  name: string;
  telegramName: string;
  scope: Scope;
  status: SubscriberStatus;
  statusChangedAt: number;
  createdAt: number;
}

/** How /activate ended. */
export type ActivationOutcome = 'subscribed' | 'resumed' | 'already_on' | 'disabled_by_admin';

interface SubscriberRow {
  id: number;
  chat_id: string;
  name: string;
  telegram_name: string;
  scope_kind: 'group' | 'extension';
  scope_id: string;
  status: SubscriberStatus;
  status_changed_at: number | string;
  created_at: number | string;
}

const WRONG_KEY_LIMIT = 5;
const WRONG_KEY_WINDOW_MS = 10 * 60_000;

function toSubscriber(r: SubscriberRow): Subscriber {
  return {
    id: r.id,
    chatId: r.chat_id,
    name: r.name,
    telegramName: r.telegram_name,
    scope: { kind: r.scope_kind, id: r.scope_id },
    status: r.status,
    statusChangedAt: Number(r.status_changed_at),
    createdAt: Number(r.created_at),
  };
}

/** A new activation key: 24 random bytes, URL-safe (fits /activate and a t.me deep link). */
function newKey(): string {
  return crypto.randomBytes(24).toString('base64url');
}

/**
 * The missed-calls feature's tables: activation keys per scope, subscribers, the wrong-key
 * throttle. Every write that the user should hear about takes an optional transaction, so
 * the caller can enqueue the service message in the same transaction.
 */
export class MissedCallStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** The activation key of a scope, created on first use. */
  async keyFor(scope: Scope): Promise<string> {
    const row = await this.db('mc_keys').where({ scope_kind: scope.kind, scope_id: scope.id }).first('key');
    if (row) return row.key as string;
    const key = newKey();
    await this.db('mc_keys').insert({ scope_kind: scope.kind, scope_id: scope.id, key, created_at: this.now() }).onConflict(['scope_kind', 'scope_id']).ignore();
    return this.keyFor(scope);
  }

  /** Replaces a scope's key: the old one stops working at once (existing subscribers stay). */
  async revokeKey(scope: Scope): Promise<string> {
    const key = newKey();
    const updated = await this.db('mc_keys').where({ scope_kind: scope.kind, scope_id: scope.id }).update({ key, created_at: this.now() });
    if (!updated) await this.db('mc_keys').insert({ scope_kind: scope.kind, scope_id: scope.id, key, created_at: this.now() });
    return key;
  }

  /** The scope a key opens, if the key is valid. */
  async scopeOfKey(key: string): Promise<Scope | undefined> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(key)) return undefined;
    const row = await this.db('mc_keys').where({ key }).first('scope_kind', 'scope_id');
    return row ? { kind: row.scope_kind, id: row.scope_id } : undefined;
  }

  /**
   * Counts a wrong key from a chat; true when the chat has now sent too many (5 in 10
   * minutes) and must wait.
   */
  async wrongKey(chatId: string): Promise<boolean> {
    const now = this.now();
    const row = await this.db('mc_key_failures').where({ chat_id: chatId }).first();
    const fresh = !row || now - Number(row.window_start) > WRONG_KEY_WINDOW_MS;
    const count = fresh ? 1 : Number(row.count) + 1;
    await this.db('mc_key_failures')
      .insert({ chat_id: chatId, count, window_start: fresh ? now : Number(row.window_start) })
      .onConflict('chat_id')
      .merge(['count', 'window_start']);
    return count > WRONG_KEY_LIMIT;
  }

  /** True while a chat is locked out after too many wrong keys. */
  async throttled(chatId: string): Promise<boolean> {
    const row = await this.db('mc_key_failures').where({ chat_id: chatId }).first();
    return Boolean(row && Number(row.count) >= WRONG_KEY_LIMIT && this.now() - Number(row.window_start) <= WRONG_KEY_WINDOW_MS);
  }

  /** A good key resets the throttle. */
  async keyAccepted(chatId: string): Promise<void> {
    await this.db('mc_key_failures').where({ chat_id: chatId }).delete();
  }

  /** Subscribes a chat to a scope, or switches its subscription on again (unless the admin disabled it). */
  async activate(chatId: string, scope: Scope, fullName: string, q: Knex | Knex.Transaction = this.db): Promise<ActivationOutcome> {
    // Telegram's first and last names are up to 64 characters each: with the space, one more than the column.
    const telegramName = fitColumn(fullName, 128);
    const existing = await q('mc_subscribers').where({ chat_id: chatId, scope_kind: scope.kind, scope_id: scope.id }).first();
    const now = this.now();
    if (!existing) {
      await q('mc_subscribers').insert({
        chat_id: chatId,
        name: telegramName || chatId,
        telegram_name: telegramName,
        scope_kind: scope.kind,
        scope_id: scope.id,
        status: 'on',
        status_changed_at: now,
        created_at: now,
      });
      return 'subscribed';
    }
    if (existing.status === 'disabled') return 'disabled_by_admin';
    if (existing.status === 'on') return 'already_on';
    await q('mc_subscribers').where({ id: existing.id }).update({ status: 'on', status_changed_at: now, telegram_name: telegramName });
    return 'resumed';
  }

  /** The user mutes a subscription; false when he has none for that scope (or it is not on). */
  async mute(chatId: string, scope: Scope): Promise<'muted' | 'not_subscribed' | 'already_off'> {
    const existing = await this.db('mc_subscribers').where({ chat_id: chatId, scope_kind: scope.kind, scope_id: scope.id }).first();
    if (!existing) return 'not_subscribed';
    if (existing.status !== 'on') return 'already_off';
    await this.db('mc_subscribers').where({ id: existing.id }).update({ status: 'muted', status_changed_at: this.now() });
    return 'muted';
  }

  /** The admin switches a subscriber on or off. Returns the subscriber as it was before, or undefined. */
  async setByAdmin(id: number, on: boolean, q: Knex | Knex.Transaction = this.db): Promise<Subscriber | undefined> {
    const row: SubscriberRow | undefined = await q('mc_subscribers').where({ id }).first();
    if (!row) return undefined;
    await q('mc_subscribers').where({ id }).update({ status: on ? 'on' : 'disabled', status_changed_at: this.now() });
    return toSubscriber(row);
  }

  /** The admin adds a subscriber by hand (name + chat id + scope); an existing one is switched on and renamed. */
  async addByAdmin(name: string, chatId: string, scope: Scope): Promise<number> {
    const now = this.now();
    await this.db('mc_subscribers')
      .insert({ chat_id: chatId, name, telegram_name: '', scope_kind: scope.kind, scope_id: scope.id, status: 'on', status_changed_at: now, created_at: now })
      .onConflict(['chat_id', 'scope_kind', 'scope_id'])
      .merge({ name, status: 'on', status_changed_at: now });
    const row = await this.db('mc_subscribers').where({ chat_id: chatId, scope_kind: scope.kind, scope_id: scope.id }).first('id');
    return row.id as number;
  }

  async rename(id: number, name: string): Promise<boolean> {
    return (await this.db('mc_subscribers').where({ id }).update({ name })) > 0;
  }

  async remove(id: number): Promise<boolean> {
    return (await this.db('mc_subscribers').where({ id }).delete()) > 0;
  }

  async get(id: number): Promise<Subscriber | undefined> {
    const row: SubscriberRow | undefined = await this.db('mc_subscribers').where({ id }).first();
    return row ? toSubscriber(row) : undefined;
  }

  /** Every subscriber, oldest first. */
  async list(): Promise<Subscriber[]> {
    const rows: SubscriberRow[] = await this.db('mc_subscribers').orderBy('id');
    return rows.map(toSubscriber);
  }

  /** A chat's subscriptions. */
  async subscriptionsOf(chatId: string): Promise<Subscriber[]> {
    const rows: SubscriberRow[] = await this.db('mc_subscribers').where({ chat_id: chatId }).orderBy('id');
    return rows.map(toSubscriber);
  }

  /** Subscribers of any of these scopes whose notices are on. */
  async activeSubscribersOf(scopes: Scope[], q: Knex | Knex.Transaction = this.db): Promise<Subscriber[]> {
    if (!scopes.length) return [];
    const rows: SubscriberRow[] = await q('mc_subscribers')
      .where({ status: 'on' })
      .andWhere((w) => {
        for (const s of scopes) w.orWhere({ scope_kind: s.kind, scope_id: s.id });
      });
    return rows.map(toSubscriber);
  }

  /**
   * A one-time subscription link token for a scope (`https://t.me/<bot>?start=<token>`):
   * single use, expiring after `ttlMs` (default a week). Starts with `L` so /start can tell
   * it from an activation key.
   */
  async createLinkToken(scope: Scope, ttlMs = 7 * 24 * 3600_000): Promise<{ token: string; expiresAt: number }> {
    const token = `L${crypto.randomBytes(18).toString('base64url')}`;
    const now = this.now();
    await this.db('mc_link_tokens').insert({ token, scope_kind: scope.kind, scope_id: scope.id, created_at: now, expires_at: now + ttlMs });
    return { token, expiresAt: now + ttlMs };
  }

  /** Uses a link token: its scope, or why it cannot be used (unknown, used, expired). */
  async consumeLinkToken(token: string, chatId: string): Promise<Scope | 'unknown' | 'used' | 'expired'> {
    if (!/^L[A-Za-z0-9_-]{24}$/.test(token)) return 'unknown';
    const now = this.now();
    return this.db.transaction(async (trx) => {
      const row = await trx('mc_link_tokens').where({ token }).first();
      if (!row) return 'unknown';
      if (row.used_at !== null && row.used_at !== undefined) return row.used_by_chat === chatId ? { kind: row.scope_kind, id: row.scope_id } : 'used';
      if (Number(row.expires_at) < now) return 'expired';
      await trx('mc_link_tokens').where({ token }).update({ used_at: now, used_by_chat: chatId });
      return { kind: row.scope_kind, id: row.scope_id } as Scope;
    });
  }

  /** The extension a chat calls back from (chosen once, for group subscriptions). */
  async extensionOfChat(chatId: string): Promise<string | undefined> {
    const row = await this.db('mc_chat_extensions').where({ chat_id: chatId }).first('extension');
    return row?.extension as string | undefined;
  }

  async setExtensionOfChat(chatId: string, extension: string): Promise<void> {
    await this.db('mc_chat_extensions').insert({ chat_id: chatId, extension }).onConflict('chat_id').merge(['extension']);
  }

  /**
   * Records a press of "Call back" for a call by a chat; false when the same chat pressed
   * it for the same call less than `guardMs` ago (a double press must not ring twice).
   */
  async claimCallBack(callId: number, chatId: string, guardMs: number): Promise<boolean> {
    const now = this.now();
    return this.db.transaction(async (trx) => {
      const row = await trx('mc_callbacks').where({ call_id: callId, chat_id: chatId }).first('pressed_at');
      if (row && now - Number(row.pressed_at) < guardMs) return false;
      await trx('mc_callbacks').insert({ call_id: callId, chat_id: chatId, pressed_at: now }).onConflict(['call_id', 'chat_id']).merge(['pressed_at']);
      return true;
    });
  }

  /** Groups with their "notify about missed calls" flag. */
  async groupFlags(q: Knex | Knex.Transaction = this.db): Promise<Map<number, boolean>> {
    const rows: { id: number; notify_missed: number | boolean }[] = await q('user_groups').select('id', 'notify_missed');
    return new Map(rows.map((r) => [r.id, Boolean(r.notify_missed)]));
  }

  /** Sets a group's flag; returns true when it changed. */
  async setGroupFlag(groupId: number, on: boolean, q: Knex | Knex.Transaction = this.db): Promise<boolean> {
    return (await q('user_groups').where({ id: groupId }).whereNot({ notify_missed: on }).update({ notify_missed: on })) > 0;
  }
}
