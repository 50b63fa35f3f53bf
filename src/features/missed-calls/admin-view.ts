import type { DeliveryRefusal } from './admin-queries.js';
import type { Subscriber, SubscriberStatus } from './store.js';

/**
 * What the admin sees of a subscription: its stored status, or `bot_blocked` while
 * Telegram refuses to deliver to the chat (the user blocked the bot, or the bot left the
 * group), whatever the stored status says.
 */
export type DisplayStatus = SubscriberStatus | 'bot_blocked';

/** The statuses in words, as the page shows them. */
export const STATUS_WORDS: Record<DisplayStatus, string> = {
  on: 'notifications on',
  muted: 'muted by user',
  disabled: 'disabled by admin',
  bot_blocked: 'bot blocked by user',
};

/** The status to show and since when: a refusal by Telegram overrides the stored status. */
export function displayStatus(subscriber: Subscriber, refusal: DeliveryRefusal | undefined): { status: DisplayStatus; since: number } {
  if (refusal) return { status: 'bot_blocked', since: refusal.since };
  return { status: subscriber.status, since: subscriber.statusChangedAt };
}

/** An activation key as the page shows it: `••••` and its last four characters. */
export function maskKey(key: string): string {
  return `••••${key.slice(-4)}`;
}

/** What a user sends the bot to subscribe with a key. */
export function activationCommand(key: string): string {
  return `/activate ${key}`;
}

/** The t.me link that opens the bot and sends `/start <key>` (the bot reads the payload as a key). */
export function deepLink(botUsername: string, key: string): string {
  return `https://t.me/${botUsername}?start=${key}`;
}

/** `101 (Reception)`, or `101` when the extension has no name. */
export function extensionLabel(extension: string, name: string): string {
  return name ? `${extension} (${name})` : extension;
}
