import type { Database } from '../../storage/database.js';

/** A Telegram chat that may receive reports: registered by the admin, or waiting for approval since the bot was added to it. */
export interface ReportChat {
  id: number;
  chatId: string;
  /** The bot that answers there (`default` or `custom:<id>`). */
  botId: string;
  title: string;
  status: 'approved' | 'pending';
  /** The peers this chat may see. */
  peers: string[];
  createdAt: number;
  approvedAt: number | null;
}

/** A report command or button from a chat that may not use it. */
export interface Refusal {
  chatId: string;
  botId: string;
  user: string;
  what: string;
  at: number;
}

/** A refused change; the message is fit to show the admin. */
export class ReportChatsError extends Error {
  constructor(
    message: string,
    readonly kind: 'not_found' | 'invalid' = 'invalid',
  ) {
    super(message);
  }
}

/**
 * Who may see reports (tables rp_chats, rp_chat_peers, rp_refusals): a chat id, the bot
 * that answers there and the peers it may see. Only approved chats get answers; a group
 * the bot was added to waits for approval until the admin approves it with one click.
 */
export class ReportChats {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<ReportChat[]> {
    const rows = await this.db('rp_chats').orderBy([{ column: 'status' }, { column: 'id' }]);
    const peers: { chat_row_id: number; peer: string }[] = await this.db('rp_chat_peers').orderBy('peer');
    return rows.map((r: Record<string, unknown>) => chatFromRow(r, peers.filter((p) => p.chat_row_id === r.id).map((p) => p.peer)));
  }

  async get(id: number): Promise<ReportChat | undefined> {
    return (await this.list()).find((c) => c.id === id);
  }

  /** The approved chat of this Telegram chat and bot, with its peers; undefined when it may not use reports. */
  async allowed(chatId: string, botId: string): Promise<ReportChat | undefined> {
    const row = await this.db('rp_chats').where({ chat_id: chatId, bot_id: botId, status: 'approved' }).first();
    if (!row) return undefined;
    const peers = (await this.db('rp_chat_peers').where({ chat_row_id: row.id }).orderBy('peer').pluck('peer')) as string[];
    return chatFromRow(row, peers);
  }

  /** Registers a chat (approved at once) or updates the one with the same chat id and bot. Returns its row id. */
  async register(input: { chatId: string; botId: string; title: string; peers: string[] }): Promise<number> {
    return this.db.transaction(async (trx) => {
      const now = this.now();
      const existing = await trx('rp_chats').where({ chat_id: input.chatId, bot_id: input.botId }).first('id', 'approved_at');
      let id: number;
      if (existing) {
        id = Number(existing.id);
        await trx('rp_chats').where({ id }).update({ title: input.title, status: 'approved', approved_at: existing.approved_at ?? now });
      } else {
        const [row] = await trx('rp_chats').insert({ chat_id: input.chatId, bot_id: input.botId, title: input.title, status: 'approved', created_at: now, approved_at: now }).returning('id');
        id = typeof row === 'object' ? Number((row as { id: number }).id) : Number(row);
      }
      await trx('rp_chat_peers').where({ chat_row_id: id }).delete();
      const peers = [...new Set(input.peers)];
      if (peers.length) await trx('rp_chat_peers').insert(peers.map((peer) => ({ chat_row_id: id, peer })));
      return id;
    });
  }

  /** The bot was added to a group: the chat waits for approval (nothing changes for a chat already known). */
  async notePending(chatId: string, botId: string, title: string): Promise<boolean> {
    const inserted = await this.db('rp_chats')
      .insert({ chat_id: chatId, bot_id: botId, title: title.slice(0, 128), status: 'pending', created_at: this.now() })
      .onConflict(['chat_id', 'bot_id'])
      .ignore()
      .returning('id');
    return inserted.length > 0;
  }

  /** Approves a waiting chat. */
  async approve(id: number): Promise<void> {
    const n = await this.db('rp_chats').where({ id }).update({ status: 'approved', approved_at: this.now() });
    if (!n) throw new ReportChatsError('No such chat.', 'not_found');
  }

  /** Sets the peers a chat may see. */
  async setPeers(id: number, peers: string[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      if (!(await trx('rp_chats').where({ id }).first('id'))) throw new ReportChatsError('No such chat.', 'not_found');
      await trx('rp_chat_peers').where({ chat_row_id: id }).delete();
      const unique = [...new Set(peers)];
      if (unique.length) await trx('rp_chat_peers').insert(unique.map((peer) => ({ chat_row_id: id, peer })));
    });
  }

  async remove(id: number): Promise<void> {
    const n = await this.db('rp_chats').where({ id }).delete();
    if (!n) throw new ReportChatsError('No such chat.', 'not_found');
  }

  /** Records a refused attempt (the page lists the latest); keeps the last 1 000. */
  async logRefusal(r: Omit<Refusal, 'at'>): Promise<void> {
    const [row] = await this.db('rp_refusals').insert({ chat_id: r.chatId, bot_id: r.botId, user: r.user.slice(0, 128), what: r.what.slice(0, 64), at: this.now() }).returning('id');
    const id = typeof row === 'object' ? Number((row as { id: number }).id) : Number(row);
    if (id % 100 === 0) await this.db('rp_refusals').where('id', '<=', id - 1000).delete();
  }

  async refusals(limit = 20): Promise<Refusal[]> {
    const rows = await this.db('rp_refusals').orderBy('id', 'desc').limit(limit);
    return rows.map((r: Record<string, unknown>) => ({ chatId: String(r.chat_id), botId: String(r.bot_id), user: String(r.user), what: String(r.what), at: Number(r.at) }));
  }
}

function chatFromRow(r: Record<string, unknown>, peers: string[]): ReportChat {
  return {
    id: Number(r.id),
    chatId: String(r.chat_id),
    botId: String(r.bot_id),
    title: String(r.title ?? ''),
    status: r.status === 'approved' ? 'approved' : 'pending',
    peers,
    createdAt: Number(r.created_at),
    approvedAt: r.approved_at == null ? null : Number(r.approved_at),
  };
}
