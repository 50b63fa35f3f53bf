/**
 * Simulated Telegram users and groups: they write to bots, press inline
 * buttons, block bots, add bots to groups, and read what bots sent them.
 */
import type { ChatMember, Message, User } from 'grammy/types';
import { formatText, type FormattedText } from './format.js';
import type { BotRef, PressedButton } from './types.js';
import {
  type BotState, type ChatView, type GroupRecord, type UserRecord, type World, botUser, clone, privateChat,
} from './world.js';

const DEFAULT_WAIT_MS = 10_000;

/** Options of `waitForMessage()`. */
export interface WaitOptions {
  /** Only messages from this bot (token, username or id). */
  bot?: BotRef;
  /** Reject after this long (default 10 s) instead of hanging until mocha's timeout. */
  timeoutMs?: number;
}

/** What a user types, as Telegram stores it: trimmed, with automatic entities (bot_command, mention, url). */
function typed(text: string): FormattedText {
  const f = formatText(text, undefined);
  if (f.text === '') throw new Error('Telegram clients do not send empty messages');
  return f;
}

function textMessage(f: FormattedText, reply: Message | undefined): Partial<Message> {
  const replied = reply ? (({ reply_to_message: _nested, ...rest }) => rest)(reply) : undefined;
  return {
    text: f.text,
    ...(f.entities.length > 0 ? { entities: f.entities } : {}),
    ...(replied ? { reply_to_message: clone(replied) as NonNullable<Message['reply_to_message']> } : {}),
  };
}

/** Stores an incoming message in the bot's view of the chat and queues it as a `message` update. */
function receive(world: World, bot: BotState, view: ChatView, from: User, content: Partial<Message>): Message {
  const at = world.now();
  const message = world.store(
    view,
    (message_id) => ({ message_id, from, chat: view.chat, date: world.date(at), ...content }) as Message,
    false,
    at,
  );
  world.enqueue(bot, { message: message as Message & { from: User; chat: never } });
  return clone(message);
}

function memberUpdate(world: World, bot: BotState, view: ChatView, from: User, old: ChatMember, now: ChatMember): void {
  world.enqueue(bot, {
    my_chat_member: { chat: view.chat, from, date: world.date(), old_chat_member: old, new_chat_member: now },
  });
}

/** What simulated users and groups share: the messages bots sent to their chat. */
abstract class SimChat {
  constructor(protected readonly world: World) {}

  /** The chat id. */
  abstract get id(): number;

  /** Messages bots sent to this chat, in order, as they are now (edited, deleted ones gone). */
  inbox(opts: { bot?: BotRef } = {}): Message[] {
    const bot = opts.bot === undefined ? undefined : this.world.botByRef(opts.bot);
    return this.world.outgoing(this.id, bot);
  }

  /** The first inbox message matching `predicate` (any message without one), now or when it arrives. */
  waitForMessage(predicate?: (m: Message) => boolean, opts: WaitOptions = {}): Promise<Message> {
    return this.world.waitFor(
      () => this.inbox(opts).find((m) => !predicate || predicate(m)),
      opts.timeoutMs ?? DEFAULT_WAIT_MS,
      `a message to chat ${this.id}`,
    );
  }
}

/** A simulated Telegram user (create with `BotApiServer.user()`). */
export class SimUser extends SimChat {
  /** @internal */
  constructor(
    world: World,
    /** @internal */ readonly record: UserRecord,
  ) {
    super(world);
  }

  /** The user's id (= the id of the private chat with him). */
  get id(): number {
    return this.record.user.id;
  }

  /** The User object bots see in `from`. */
  get user(): User {
    return clone(this.record.user);
  }

  /**
   * Writes to a bot (the only registered bot unless `bot` says which): queues a
   * `message` update. A leading `/command` gets a bot_command entity, as Telegram does.
   * Returns the Message as the bot will receive it.
   */
  send(text: string, opts: { bot?: BotRef; replyTo?: Message | number } = {}): Message {
    const bot = this.world.botByRef(opts.bot);
    if (this.record.blocked.has(bot.me.id)) {
      throw new Error(`${this.record.user.first_name} has blocked @${bot.me.username}: unblock() first`);
    }
    this.record.started.add(bot.me.id);
    const view = this.world.view(bot, privateChat(this.record.user), false);
    const replyId = typeof opts.replyTo === 'number' ? opts.replyTo : opts.replyTo?.message_id;
    const reply = replyId === undefined ? undefined : view.messages.get(replyId)?.message;
    if (replyId !== undefined && !reply) throw new Error(`message ${replyId} not found in the chat with @${bot.me.username}`);
    return receive(this.world, bot, view, this.record.user, textMessage(typed(text), reply));
  }

  /**
   * Presses an inline button: queues a `callback_query` referencing the bot's message.
   * Throws when the message (current state) has no button with this callback_data.
   */
  pressButton(message: Message | number, data: string, opts: { bot?: BotRef } = {}): PressedButton {
    const bot = typeof message === 'number' ? this.world.botByRef(opts.bot) : this.world.botById(message.from?.id);
    if (!bot) throw new Error('pressButton: the message was not sent by a registered bot');
    const view = this.world.view(bot, privateChat(this.record.user), false);
    const id = typeof message === 'number' ? message : message.message_id;
    return this.world.pressButton(bot, this.record.user, view, id, data);
  }

  /** Blocks a bot: its sends answer 403, and it gets a my_chat_member update (member -> kicked). */
  block(opts: { bot?: BotRef } = {}): void {
    const bot = this.world.botByRef(opts.bot);
    if (this.record.blocked.has(bot.me.id)) return;
    this.record.blocked.add(bot.me.id);
    const view = this.world.view(bot, privateChat(this.record.user), false);
    memberUpdate(this.world, bot, view, this.record.user, { status: 'member', user: botUser(bot) }, {
      status: 'kicked', user: botUser(bot), until_date: 0,
    });
  }

  /** Unblocks a bot (my_chat_member kicked -> member). */
  unblock(opts: { bot?: BotRef } = {}): void {
    const bot = this.world.botByRef(opts.bot);
    if (!this.record.blocked.delete(bot.me.id)) return;
    const view = this.world.view(bot, privateChat(this.record.user), false);
    memberUpdate(this.world, bot, view, this.record.user, { status: 'kicked', user: botUser(bot), until_date: 0 }, {
      status: 'member', user: botUser(bot),
    });
  }

}

/** A simulated group or supergroup (create with `BotApiServer.group()`). */
export class SimGroup extends SimChat {
  /** @internal */
  constructor(
    world: World,
    private readonly record: GroupRecord,
  ) {
    super(world);
  }

  /** The group's (negative) chat id. */
  get id(): number {
    return this.record.chat.id;
  }

  /** Adds a bot to the group: queues my_chat_member (left -> member) and the new_chat_members service message. */
  addBot(byUser: SimUser, opts: { bot?: BotRef } = {}): void {
    const bot = this.world.botByRef(opts.bot);
    if (!bot.me.can_join_groups) throw new Error(`@${bot.me.username} cannot be added to groups (can_join_groups: false)`);
    const before = this.record.members.get(bot.me.id) ?? 'left';
    if (before === 'member') return;
    this.record.members.set(bot.me.id, 'member');
    const view = this.world.view(bot, this.record.chat, true);
    const me = botUser(bot);
    const old: ChatMember = before === 'kicked' ? { status: 'kicked', user: me, until_date: 0 } : { status: 'left', user: me };
    memberUpdate(this.world, bot, view, byUser.record.user, old, { status: 'member', user: me });
    receive(this.world, bot, view, byUser.record.user, { new_chat_members: [me] });
  }

  /** Removes (bans) a bot: my_chat_member member -> kicked; its later sends answer 403. */
  removeBot(byUser: SimUser, opts: { bot?: BotRef } = {}): void {
    const bot = this.world.botByRef(opts.bot);
    if (this.record.members.get(bot.me.id) !== 'member') return;
    this.record.members.set(bot.me.id, 'kicked');
    const view = this.world.view(bot, this.record.chat, true);
    memberUpdate(this.world, bot, view, byUser.record.user, { status: 'member', user: botUser(bot) }, {
      status: 'kicked', user: botUser(bot), until_date: 0,
    });
  }

  /**
   * A user writes in the group. Each member bot gets it if privacy mode lets it:
   * can_read_all_group_messages, /cmd@its_username, a plain /cmd when it is the only
   * bot or the last bot that wrote here, a mention of it, or a reply to its message.
   * Returns the message as each receiving bot sees it.
   */
  send(from: SimUser, text: string, opts: { replyTo?: Message } = {}): Message[] {
    const f = typed(text);
    const members = [...this.world.bots.values()].filter((b) => this.record.members.get(b.me.id) === 'member');
    const command = /^\/[a-zA-Z0-9_]+(?:@([a-zA-Z0-9_]+))?/.exec(f.text);
    const delivered: Message[] = [];
    for (const bot of members) {
      const name = bot.me.username.toLowerCase();
      const forIt = command
        ? command[1]
          ? command[1].toLowerCase() === name
          : members.length === 1 || this.record.lastBotId === bot.me.id
        : false;
      const mentioned = new RegExp(`@${name}(?![a-z0-9_])`, 'i').test(f.text);
      const repliedTo = opts.replyTo?.from?.id === bot.me.id;
      if (!(bot.me.can_read_all_group_messages || forIt || mentioned || repliedTo)) continue;
      const view = this.world.view(bot, this.record.chat, true);
      const reply = repliedTo && opts.replyTo ? view.messages.get(opts.replyTo.message_id)?.message : undefined;
      delivered.push(receive(this.world, bot, view, from.record.user, textMessage(f, reply)));
    }
    return delivered;
  }

  /** A user presses an inline button on a bot's message in the group. */
  pressButton(from: SimUser, message: Message, data: string): PressedButton {
    const bot = this.world.botById(message.from?.id);
    if (!bot) throw new Error('pressButton: the message was not sent by a registered bot');
    return this.world.pressButton(bot, from.record.user, this.world.view(bot, this.record.chat, true), message.message_id, data);
  }

}
