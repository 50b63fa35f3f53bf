/**
 * What a Bot API method handler of the emulator gets and returns.
 */
import type { Params } from './params.js';
import type { SendRateLimiter } from './rate-limiter.js';
import type { RateLimitEvent, SentRecord } from './types.js';
import type { BotState, World } from './world.js';

/** What a handler gets for one request. */
export interface MethodContext {
  world: World;
  bot: BotState;
  p: Params;
  /** Arrival time on the emulator clock (ms). */
  at: number;
  method: string;
  limiter: SendRateLimiter;
  onSent(record: SentRecord): void;
  onRateLimited(event: RateLimitEvent): void;
  /** Registers a callback for when the client goes away (long polling). */
  onClose(cb: () => void): void;
}

/** A result with the optional top-level `description` Telegram adds to some answers. */
export class Reply {
  constructor(
    readonly result: unknown,
    readonly description?: string,
  ) {}
}

/** A method handler. */
export type Handler = (ctx: MethodContext) => unknown;
