/** Telegram's sending limits for one bot. */
export interface SendLimits {
  globalPerSecond: number;
  privateChatPerSecond: number;
  groupPerMinute: number;
}

/** Group, supergroup and channel ids are negative; private chats (users) are positive. */
export function isGroupChat(chatId: string): boolean {
  return chatId.startsWith('-');
}

/**
 * Sliding-window accounting of one bot's sends, pure (time is passed in): tells when a
 * message to a chat may go out without exceeding the global, per-chat or per-group limit.
 * Windows are stretched by `margin` (5% by default) so that network jitter between our
 * send and Telegram's arrival never turns a permitted send into a 429.
 */
export class SendRateLimiter {
  private readonly global: number[] = [];
  private readonly perChat = new Map<string, number[]>();

  constructor(
    private limits: SendLimits,
    private readonly margin = 1.05,
  ) {}

  /** Replaces the limits (the admin changed a setting); history is kept. */
  setLimits(limits: SendLimits): void {
    this.limits = limits;
  }

  /** The earliest time (ms, >= now) at which a message to `chatId` may be sent. */
  availableAt(chatId: string, now: number): number {
    const [limit, window] = this.chatRule(chatId);
    const chat = this.perChat.get(chatId) ?? [];
    return Math.max(now, slotAt(this.global, this.limits.globalPerSecond, 1000 * this.margin), slotAt(chat, limit, window * this.margin));
  }

  /** Records a send to `chatId` at `now`. */
  record(chatId: string, now: number): void {
    this.global.push(now);
    let chat = this.perChat.get(chatId);
    if (!chat) this.perChat.set(chatId, (chat = []));
    chat.push(now);
    prune(this.global, this.limits.globalPerSecond);
    prune(chat, this.chatRule(chatId)[0]);
  }

  private chatRule(chatId: string): [limit: number, windowMs: number] {
    return isGroupChat(chatId) ? [this.limits.groupPerMinute, 60_000] : [this.limits.privateChatPerSecond, 1000];
  }
}

/** With `times` the sorted send times, when may the next one go so that no window of `windowMs` holds more than `limit`? */
function slotAt(times: number[], limit: number, windowMs: number): number {
  if (times.length < limit) return 0;
  return times[times.length - limit]! + windowMs;
}

/** Only the last `limit` send times matter for the next decision. */
function prune(times: number[], limit: number): void {
  if (times.length > limit) times.splice(0, times.length - limit);
}
