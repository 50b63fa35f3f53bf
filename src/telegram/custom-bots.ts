import { EventEmitter } from 'node:events';
import { Api, GrammyError, HttpError } from 'grammy';
import type { Knex } from 'knex';
import type { SecretScrubber } from '../log/secret-scrubber.js';
import { BOT_TOKEN_SHAPE, BOT_TOKEN_SHAPE_PROBLEM } from '../settings/catalogue.js';
import { onPostgres, type Database } from '../storage/database.js';
import { DEFAULT_BOT_ID } from './outbox.js';

/** One of the admin's own bots (table telegram_bots). */
export interface CustomBot {
  id: number;
  name: string;
  token: string;
  username: string;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

/** The outbox lane / bot id of a custom bot. */
export function customBotId(id: number): string {
  return `custom:${id}`;
}

/** Why a custom bot could not be added or changed; `not_found` for an id that names nothing. */
export class CustomBotError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'not_found' = 'invalid',
  ) {
    super(message);
  }
}

/** What getMe said about a token: the bot's username, or why it cannot be used. */
export type TokenCheck = { ok: true; username: string } | { ok: false; reason: string };

/** Asks Telegram (getMe at `apiRoot`) whether a token works. Never throws; the reason never holds the token. */
export async function checkBotToken(apiRoot: string, token: string, scrubber?: SecretScrubber): Promise<TokenCheck> {
  try {
    const me = await new Api(token, { apiRoot, timeoutSeconds: 15 }).getMe();
    return { ok: true, username: me.username };
  } catch (err) {
    if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) return { ok: false, reason: `Telegram refused the token (${err.description})` };
    const detail = err instanceof GrammyError ? `${err.error_code} ${err.description}` : err instanceof HttpError ? String((err.error as Error)?.message ?? 'network error') : String((err as Error)?.message ?? err);
    const reason = `Telegram could not be asked about the token: ${detail}`;
    return { ok: false, reason: scrubber ? scrubber.scrub(reason).split(token).join('<secret>') : reason.split(token).join('<secret>') };
  }
}

interface Row {
  id: number;
  name: string;
  token: string;
  username: string;
  active: number | boolean;
  created_at: number | string;
  updated_at: number | string;
}

/**
 * The admin's own bots. At most one is active: activating one switches the others off in
 * the same transaction. Rows are cached (the bot registry reads them synchronously) and
 * every token is registered with the SecretScrubber. Emits `change` after each change.
 * A bot switched off or removed hands its pending outbox rows to the default bot's lane,
 * so nothing waits in a lane no bot runs.
 */
export class CustomBotStore extends EventEmitter {
  private bots: CustomBot[] = [];

  constructor(
    private readonly db: Database,
    private readonly scrubber: SecretScrubber,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Reads every bot (call once at start). */
  async load(): Promise<void> {
    const rows: Row[] = await this.db('telegram_bots').orderBy('id').select('*');
    this.bots = rows.map(fromRow);
    for (const b of this.bots) this.scrubber.add(b.token);
  }

  list(): CustomBot[] {
    return this.bots.map((b) => ({ ...b }));
  }

  get(id: number): CustomBot | undefined {
    const b = this.bots.find((x) => x.id === id);
    return b ? { ...b } : undefined;
  }

  /** The active bot, if one is. */
  active(): CustomBot | undefined {
    const b = this.bots.find((x) => x.active);
    return b ? { ...b } : undefined;
  }

  /** Validates name and token shape; throws CustomBotError with the reason. */
  static validate(input: { name: unknown; token: unknown }): { name: string; token: string } {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    const token = typeof input.token === 'string' ? input.token.trim() : '';
    if (!name) throw new CustomBotError('name: give the bot a name');
    if (name.length > 64) throw new CustomBotError('name: at most 64 characters');
    if (!BOT_TOKEN_SHAPE.test(token)) throw new CustomBotError(`token: ${BOT_TOKEN_SHAPE_PROBLEM}`);
    return { name, token };
  }

  /** Stores a bot whose token Telegram accepted (switched off). */
  async add(input: { name: string; token: string; username: string }): Promise<CustomBot> {
    const { name, token } = CustomBotStore.validate(input);
    this.scrubber.add(token);
    if (this.bots.some((b) => b.token === token)) throw new CustomBotError('token: this bot is already in the list');
    const now = this.now();
    const [inserted] = await this.db('telegram_bots').insert({ name, token, username: input.username, active: false, created_at: now, updated_at: now }).returning('id');
    const id = typeof inserted === 'object' ? Number((inserted as { id: number }).id) : Number(inserted);
    await this.load();
    this.emit('change');
    return this.get(id)!;
  }

  /** Makes this bot the active one; the one active before is switched off. */
  async activate(id: number): Promise<void> {
    this.mustExist(id);
    await this.db.transaction(async (trx) => {
      // Two activations at once on PostgreSQL would each see no other bot active and both stay on:
      // the second waits here for the first to commit, then sees its bot and switches it off.
      if (onPostgres(trx)) await trx('telegram_bots').forUpdate().select('id');
      const before: { id: number }[] = await trx('telegram_bots').where({ active: true }).whereNot({ id }).select('id');
      await trx('telegram_bots').whereNot({ id }).where({ active: true }).update({ active: false, updated_at: this.now() });
      await trx('telegram_bots').where({ id }).update({ active: true, updated_at: this.now() });
      for (const b of before) await handPendingToDefault(trx, customBotId(b.id));
    });
    await this.load();
    this.emit('change');
  }

  async deactivate(id: number): Promise<void> {
    this.mustExist(id);
    await this.db.transaction(async (trx) => {
      await trx('telegram_bots').where({ id }).update({ active: false, updated_at: this.now() });
      await handPendingToDefault(trx, customBotId(id));
    });
    await this.load();
    this.emit('change');
  }

  async remove(id: number): Promise<void> {
    this.mustExist(id);
    await this.db.transaction(async (trx) => {
      await trx('telegram_bots').where({ id }).delete();
      await handPendingToDefault(trx, customBotId(id));
    });
    await this.load();
    this.emit('change');
  }

  private mustExist(id: number): void {
    if (!this.bots.some((b) => b.id === id)) throw new CustomBotError('No such bot.', 'not_found');
  }
}

/** Moves a lane's pending rows to the default bot's lane; returns how many moved. */
export async function handPendingToDefault(q: Knex | Knex.Transaction, botId: string): Promise<number> {
  return q('outbox').where({ bot_id: botId, status: 'pending' }).update({ bot_id: DEFAULT_BOT_ID });
}

function fromRow(r: Row): CustomBot {
  return {
    id: Number(r.id),
    name: r.name,
    token: r.token,
    username: r.username,
    active: Boolean(r.active),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
