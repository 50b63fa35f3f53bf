/**
 * The emulator's state: bots with their update queues and long polls, simulated
 * users and groups, every chat's messages as each bot sees them, and files.
 */
import type { BotCommand, CallbackQuery, Chat, Message, Update, User, UserFromGetMe } from 'grammy/types';
import { ApiError, Errors, forbidden } from './errors.js';
import { FileStore } from './media.js';
import type { BotRef, BotSpec, CallbackAnswer, PressedButton, UserSpec } from './types.js';

/** One stored message in a chat, as one bot sees it. */
export interface StoredMessage {
  message: Message;
  /** Sent by the bot (true) or received by it (false). */
  outgoing: boolean;
  /** Global order of storing, for inboxes. */
  seq: number;
  /** Emulator clock (ms) when it was stored. */
  at: number;
}

/** A chat as one bot sees it: message ids increase per chat. */
export interface ChatView {
  chat: Chat;
  isGroup: boolean;
  messages: Map<number, StoredMessage>;
  nextMessageId: number;
}

/** A callback query waiting for answerCallbackQuery. */
export interface PendingCallback {
  answered: boolean;
  resolve: (answer: CallbackAnswer) => void;
}

interface PendingPoll {
  finish(updates: Update[]): void;
  fail(error: ApiError): void;
  wake(): void;
}

/** A registered bot. */
export interface BotState {
  token: string;
  me: UserFromGetMe;
  updates: Update[];
  nextUpdateId: number;
  /** undefined: Telegram's default (everything but chat_member and reactions). */
  allowedUpdates: ReadonlySet<string> | undefined;
  webhook: { url: string; params: Record<string, unknown> } | undefined;
  poll: PendingPoll | undefined;
  commands: Map<string, BotCommand[]>;
  descriptions: Map<string, string>;
  shortDescriptions: Map<string, string>;
  chats: Map<number, ChatView>;
  callbacks: Map<string, PendingCallback>;
}

/** A simulated user. */
export interface UserRecord {
  user: User;
  startedByDefault: boolean;
  /** Bots this user wrote to. */
  started: Set<number>;
  /** Bots this user blocked. */
  blocked: Set<number>;
}

/** A simulated group and each bot's membership in it. */
export interface GroupRecord {
  chat: Chat.GroupChat | Chat.SupergroupChat;
  members: Map<number, 'member' | 'left' | 'kicked'>;
  /** The last bot that sent a message here (gets commands without @username under privacy mode). */
  lastBotId: number | undefined;
}

const NOT_BY_DEFAULT = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

/** The private Chat object Telegram shows for a user. */
export function privateChat(user: User): Chat.PrivateChat {
  return {
    id: user.id,
    first_name: user.first_name,
    ...(user.last_name !== undefined ? { last_name: user.last_name } : {}),
    ...(user.username !== undefined ? { username: user.username } : {}),
    type: 'private',
  };
}

/** The User object of a bot as it appears in `from` fields. */
export function botUser(bot: BotState): User {
  return { id: bot.me.id, is_bot: true, first_name: bot.me.first_name, username: bot.me.username };
}

/** Deep copy, so callers never hold the emulator's own objects. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** All mutable state of one emulator instance. */
export class World {
  readonly bots = new Map<string, BotState>();
  readonly users = new Map<number, UserRecord>();
  readonly groups = new Map<number, GroupRecord>();
  readonly files = new FileStore();
  private readonly listeners = new Set<() => void>();
  private readonly waiters = new Set<(error: Error) => void>();
  private closed = false;
  private seq = 0;
  private queryCounter = 0;

  constructor(readonly now: () => number) {}

  /** Unix seconds for a time on the emulator clock. */
  date(at = this.now()): number {
    return Math.floor(at / 1000);
  }

  /** Registers a bot; returns its getMe result. */
  addBot(spec: BotSpec): UserFromGetMe {
    if (this.bots.has(spec.token)) throw new Error(`bot @${spec.username} is already registered`);
    const id = spec.id ?? Number(/^(\d+):/.exec(spec.token)?.[1] ?? 7_000_000_000 + this.bots.size);
    const me: UserFromGetMe = {
      id,
      is_bot: true,
      first_name: spec.first_name ?? spec.username,
      username: spec.username,
      can_join_groups: spec.can_join_groups ?? true,
      can_read_all_group_messages: spec.can_read_all_group_messages ?? false,
      supports_inline_queries: spec.supports_inline_queries ?? false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
      allows_users_to_create_topics: false,
      can_manage_bots: false,
      supports_join_request_queries: false,
    };
    this.bots.set(spec.token, {
      token: spec.token, me, updates: [], nextUpdateId: 1, allowedUpdates: undefined, webhook: undefined,
      poll: undefined, commands: new Map(), descriptions: new Map(), shortDescriptions: new Map(),
      chats: new Map(), callbacks: new Map(),
    });
    return clone(me);
  }

  /** Registers a simulated user (or returns the existing record). */
  addUser(spec: UserSpec): UserRecord {
    const existing = this.users.get(spec.id);
    if (existing) return existing;
    if (spec.id <= 0) throw new Error('user ids are positive');
    const { started, ...fields } = spec;
    const record: UserRecord = {
      user: { ...fields, is_bot: false },
      startedByDefault: started ?? true,
      started: new Set(),
      blocked: new Set(),
    };
    this.users.set(spec.id, record);
    return record;
  }

  /** A bot by token, username (with or without @) or id; the only bot when ref is omitted. */
  botByRef(ref?: BotRef): BotState {
    const all = [...this.bots.values()];
    if (ref === undefined) {
      if (all.length === 1) return all[0] as BotState;
      throw new Error(all.length === 0 ? 'no bot registered' : 'several bots registered: say which one ({ bot })');
    }
    const name = typeof ref === 'string' ? ref.replace(/^@/, '').toLowerCase() : undefined;
    const found = all.find(
      (b) => b.token === ref || b.me.id === ref || (name !== undefined && b.me.username.toLowerCase() === name),
    );
    if (!found) throw new Error(`unknown bot ${typeof ref === 'string' && ref.includes(':') ? '(token)' : String(ref)}`);
    return found;
  }

  /** A bot by its user id. */
  botById(id: number | undefined): BotState | undefined {
    return [...this.bots.values()].find((b) => b.me.id === id);
  }

  // ------------------------------------------------------------ updates

  /** Queues an update unless the bot's allowed_updates filter drops it. */
  enqueue(bot: BotState, update: Omit<Update, 'update_id'>): boolean {
    const type = Object.keys(update)[0] ?? '';
    const allowed = bot.allowedUpdates ? bot.allowedUpdates.has(type) : !NOT_BY_DEFAULT.has(type);
    if (!allowed) return false;
    bot.updates.push({ update_id: bot.nextUpdateId++, ...clone(update) } as Update);
    bot.poll?.wake();
    return true;
  }

  /**
   * getUpdates: confirms updates below `offset`, then answers at once when
   * updates are pending (or timeout is 0), else waits up to `timeout` seconds.
   * A newer call terminates a pending one with 409, as on Telegram.
   */
  getUpdates(
    bot: BotState,
    opts: { offset?: number; limit: number; timeout: number; allowed?: string[] },
    onClose: (cb: () => void) => void,
  ): Promise<Update[]> {
    if (bot.webhook) throw Errors.webhookConflict();
    bot.poll?.fail(Errors.pollConflict());
    if (opts.offset !== undefined && opts.offset > 0) {
      const offset = opts.offset;
      bot.updates = bot.updates.filter((u) => u.update_id >= offset);
    } else if (opts.offset !== undefined && opts.offset < 0) {
      bot.updates = bot.updates.slice(opts.offset);
    }
    if (opts.allowed) bot.allowedUpdates = opts.allowed.length > 0 ? new Set(opts.allowed) : undefined;
    const ready = (): Update[] => clone(bot.updates.slice(0, opts.limit));
    if (bot.updates.length > 0 || opts.timeout <= 0) return Promise.resolve(ready());
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        if (bot.poll === poll) bot.poll = undefined;
      };
      const poll: PendingPoll = {
        finish: (updates) => {
          done();
          resolve(updates);
        },
        fail: (error) => {
          done();
          reject(error);
        },
        // let updates queued in the same tick travel together
        wake: () => queueMicrotask(() => bot.poll === poll && poll.finish(ready())),
      };
      const timer = setTimeout(() => poll.finish([]), opts.timeout * 1000);
      bot.poll = poll;
      onClose(() => bot.poll === poll && poll.finish([]));
    });
  }

  /** Shutdown: pending long polls answer with no updates, pending waits reject. */
  close(): void {
    this.closed = true;
    for (const bot of this.bots.values()) bot.poll?.finish([]);
    for (const reject of [...this.waiters]) reject(new Error('Bot API emulator stopped'));
  }

  // ------------------------------------------------------------ chats and messages

  /**
   * The chat a bot names by chat_id, with Telegram's refusals: unknown chats,
   * bots, blocked users, users who never started the bot (for sends), groups
   * the bot was kicked from or is not in.
   */
  resolveChat(bot: BotState, raw: string | undefined, purpose: 'send' | 'read'): ChatView {
    if (raw === undefined || raw.trim() === '') throw Errors.chatIdEmpty();
    const id = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(id)) throw Errors.chatNotFound();
    if (id > 0) {
      if (this.botById(id) && purpose === 'send') throw Errors.toBot();
      const rec = this.users.get(id);
      if (!rec) throw Errors.chatNotFound();
      if (purpose === 'send' && rec.blocked.has(bot.me.id)) throw Errors.blocked();
      if (purpose === 'send' && !rec.startedByDefault && !rec.started.has(bot.me.id)) throw Errors.cantInitiate();
      return this.view(bot, privateChat(rec.user), false);
    }
    const group = this.groups.get(id);
    const status = group?.members.get(bot.me.id);
    if (!group || !status) throw Errors.chatNotFound();
    const kind = group.chat.type === 'supergroup' ? 'supergroup' : 'group';
    if (status === 'kicked') throw forbidden(`bot was kicked from the ${kind} chat`);
    if (status === 'left') throw forbidden(`bot is not a member of the ${kind} chat`);
    return this.view(bot, group.chat, true);
  }

  /** A bot's view of a chat, created on first use. */
  view(bot: BotState, chat: Chat, isGroup: boolean): ChatView {
    let view = bot.chats.get(chat.id);
    if (!view) {
      view = { chat, isGroup, messages: new Map(), nextMessageId: 1 };
      bot.chats.set(chat.id, view);
    }
    return view;
  }

  /** Stores a new message with the chat's next message id. */
  store(view: ChatView, build: (messageId: number) => Message, outgoing: boolean, at = this.now()): Message {
    const message = build(view.nextMessageId++);
    view.messages.set(message.message_id, { message, outgoing, seq: ++this.seq, at });
    this.notify();
    return message;
  }

  /** Messages bots sent to a chat, current state, in sending order. */
  outgoing(chatId: number, bot?: BotState): Message[] {
    const bots = bot ? [bot] : [...this.bots.values()];
    return bots
      .flatMap((b) => [...(b.chats.get(chatId)?.messages.values() ?? [])])
      .filter((s) => s.outgoing)
      .sort((a, b) => a.seq - b.seq)
      .map((s) => clone(s.message));
  }

  /** A fresh callback query id (numeric string, like Telegram's). */
  nextQueryId(): string {
    this.queryCounter += 1;
    return String(4_000_000_000_000_000 + this.queryCounter);
  }

  /** Queues a callback_query for a button press and returns its id and answer promise. */
  pressButton(bot: BotState, from: User, view: ChatView, messageId: number, data: string): PressedButton {
    const stored = view.messages.get(messageId);
    if (!stored?.outgoing) throw new Error(`message ${messageId} from @${bot.me.username} not found in chat ${view.chat.id}`);
    const buttons = (stored.message.reply_markup?.inline_keyboard ?? []).flat();
    const datas = buttons.flatMap((b) => ('callback_data' in b ? [b.callback_data] : []));
    if (!datas.includes(data)) {
      throw new Error(`message ${messageId} has no button with callback_data ${JSON.stringify(data)} (has ${JSON.stringify(datas)})`);
    }
    const query: CallbackQuery = {
      id: this.nextQueryId(),
      from,
      message: stored.message,
      chat_instance: String(-(Math.abs(view.chat.id) * 31 + bot.me.id)),
      data,
    };
    let resolve: (answer: CallbackAnswer) => void = () => undefined;
    const answer = new Promise<CallbackAnswer>((r) => (resolve = r));
    bot.callbacks.set(query.id, { answered: false, resolve });
    this.enqueue(bot, { callback_query: query });
    return { id: query.id, answer };
  }

  // ------------------------------------------------------------ change notification

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Signals a change to the waiters. */
  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves with the first defined value of `probe`, checked now and after every change. */
  waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const first = probe();
    if (first !== undefined) return Promise.resolve(first);
    if (this.closed) return Promise.reject(new Error('Bot API emulator stopped'));
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        off();
        this.waiters.delete(fail);
      };
      const fail = (error: Error): void => {
        settle();
        reject(error);
      };
      const off = this.onChange(() => {
        const value = probe();
        if (value === undefined) return;
        settle();
        resolve(value);
      });
      const timer = setTimeout(
        () => fail(new Error(`Bot API emulator: timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      this.waiters.add(fail);
    });
  }
}
