import type { AgiChannel } from '../agi-channel.js';
import type { AgiEnvironment } from '../agi-protocol.js';

/** One request from the dialplan, as a handler sees it. */
export interface AgiRequest {
  /** The `agi_*` block: channel, uniqueid, technology, caller ID, context... */
  readonly env: AgiEnvironment;
  /**
   * The request's parameters: the query of the FastAGI URL (`agi://…/route-guard?direction=in`)
   * and every `key=value` argument of AGI() (`AGI(…/route-guard,direction=in)`).
   */
  readonly params: URLSearchParams;
  /** The conversation with Asterisk: GET/SET VARIABLE, EXEC, VERBOSE, HANGUP. */
  readonly channel: AgiChannel;
}

/**
 * A dialplan hook served over FastAGI (`agi://127.0.0.1:4573/<name>`) and by the AGI
 * script `agi/<name>`. One file per handler, one line in the registry.
 *
 * A handler throws to end the conversation early; the session logs the failure once and
 * Asterisk goes on with the dialplan, so every handler must leave the call in a safe
 * state whatever it managed to do (a caller ID not set, a route allowed).
 */
export interface AgiHandler {
  /** The route name: the last path segment of the FastAGI URL and the script's name. */
  readonly name: string;
  /** One sentence for the admin: what the hook does to the call. */
  readonly summary: string;
  handle(request: AgiRequest): Promise<void>;
}

/** The handlers by name (case-insensitive). */
export class AgiHandlerRegistry {
  private readonly byName = new Map<string, AgiHandler>();

  constructor(handlers: AgiHandler[]) {
    for (const h of handlers) this.byName.set(h.name.toLowerCase(), h);
  }

  /** The handler named `name`, or undefined. */
  get(name: string): AgiHandler | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Every handler, in registration order. */
  list(): AgiHandler[] {
    return [...this.byName.values()];
  }
}
