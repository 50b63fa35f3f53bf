/**
 * Sliding-window flood control for sending methods, per bot.
 */
import type { BotApiLimits, RateLimitEvent } from './types.js';

/** Why a send was refused and how long the sender must wait (whole seconds, at least 1). */
export interface Refusal {
  retryAfter: number;
  scope: Exclude<RateLimitEvent['scope'], 'injected'>;
}

interface Window {
  size: number;
  limit: number;
  scope: Refusal['scope'];
  times: number[];
}

/** Counts sends per bot and per chat over sliding windows of arrival times. */
export class SendRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly limits: BotApiLimits) {}

  /** The refusal for a send arriving at `at` ms, or undefined when it may go. Records nothing. */
  check(botId: number, chatId: number, isGroup: boolean, at: number): Refusal | undefined {
    let worst: Refusal | undefined;
    for (const w of this.windowsFor(botId, chatId, isGroup)) {
      while (w.times.length > 0 && (w.times[0] as number) <= at - w.size) w.times.shift();
      if (w.times.length < w.limit) continue;
      const freeAt = w.limit > 0 ? (w.times[w.times.length - w.limit] as number) + w.size : at + w.size;
      const retryAfter = Math.max(1, Math.ceil((freeAt - at) / 1000));
      if (!worst || retryAfter > worst.retryAfter) worst = { retryAfter, scope: w.scope };
    }
    return worst;
  }

  /** Records an accepted send. */
  record(botId: number, chatId: number, isGroup: boolean, at: number): void {
    for (const w of this.windowsFor(botId, chatId, isGroup)) w.times.push(at);
  }

  private windowsFor(botId: number, chatId: number, isGroup: boolean): Window[] {
    const global = this.window(`${botId}`, 1000, this.limits.globalPerSecond, 'global');
    const chat = isGroup
      ? this.window(`${botId}/${chatId}`, 60_000, this.limits.groupPerMinute, 'group')
      : this.window(`${botId}/${chatId}`, 1000, this.limits.privateChatPerSecond, 'private');
    return [global, chat];
  }

  private window(key: string, size: number, limit: number, scope: Refusal['scope']): Window {
    let w = this.windows.get(key);
    if (!w) {
      w = { size, limit, scope, times: [] };
      this.windows.set(key, w);
    }
    return w;
  }
}
