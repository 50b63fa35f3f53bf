import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.js';

/** A call at a route-guard hook: who calls whom, in which direction, over which peer. */
export interface RouteQuestion {
  /** `in` (from a trunk or Telegram line), `out` (to a trunk or Telegram line), `campaign`, `callback`, or what the dialplan passed. */
  readonly direction: string;
  readonly channel: string;
  readonly uniqueid: string;
  /** The caller's number as Asterisk has it (`unknown` when none). */
  readonly callerId: string;
  /** The dialed extension. */
  readonly extension: string;
  readonly context: string;
  /** The peer (trunk, Telegram line) the dialplan named with `peer=`, or null. */
  readonly peer: string | null;
  /** The campaign id the dialplan passed with `campaign=`, or null. */
  readonly campaign: string | null;
}

/** A policy's answer: let the call proceed, or block it with a Q.850 hang-up cause and a reason for the admin. */
export type RouteDecision = { readonly allow: true } | { readonly allow: false; readonly cause: number; readonly reason: string; readonly policy: string };

/** A feature's rule about which calls may proceed (loss control will block peers over their limit). */
export interface RoutePolicy {
  /** Names the policy in logs and in the blocked event. */
  readonly name: string;
  decide(question: RouteQuestion): RouteDecision | Promise<RouteDecision>;
}

/** What `blocked` carries: the question and the decision that blocked it. */
export interface RouteBlocked {
  readonly question: RouteQuestion;
  readonly decision: Extract<RouteDecision, { allow: false }>;
}

/** Q.850 cause 21, "call rejected": the default cause of a blocked call. */
export const CALL_REJECTED = 21;

const ALLOW: RouteDecision = { allow: true };

/**
 * The first blocking decision of the list, else allow: one policy saying no is enough.
 * Pure; the order of `decisions` is the order the policies were added.
 */
export function combineRouteDecisions(decisions: readonly RouteDecision[]): RouteDecision {
  return decisions.find((d) => !d.allow) ?? ALLOW;
}

/**
 * Asks the features whether a call may proceed. Features add their RoutePolicy; with
 * none, every call is allowed. A policy that throws or does not answer within
 * `decisionTimeoutMs` counts as allowing (a fault in tgpbx must never block calls), and
 * the fault is logged once. Emits `blocked` (RouteBlocked) for every blocked call.
 */
export class RouteGuard extends EventEmitter {
  private readonly policies: RoutePolicy[] = [];

  constructor(private readonly opts: { logger: Logger; decisionTimeoutMs?: number }) {
    super();
  }

  /** Adds a policy; returns a function that removes it again. */
  addPolicy(policy: RoutePolicy): () => void {
    this.policies.push(policy);
    return () => {
      const i = this.policies.indexOf(policy);
      if (i >= 0) this.policies.splice(i, 1);
    };
  }

  /** Asks every policy at once and combines their answers. */
  async decide(question: RouteQuestion): Promise<RouteDecision> {
    const timeoutMs = this.opts.decisionTimeoutMs ?? 1_000;
    const decisions = await Promise.all(this.policies.map((p) => this.ask(p, question, timeoutMs)));
    return combineRouteDecisions(decisions);
  }

  /** Announces a blocked call to the features (alerts, reports). */
  reportBlocked(blocked: RouteBlocked): void {
    this.emit('blocked', blocked);
  }

  private async ask(policy: RoutePolicy, question: RouteQuestion, timeoutMs: number): Promise<RouteDecision> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
      const answer = await Promise.race([Promise.resolve().then(() => policy.decide(question)), late]);
      if (answer === 'late') {
        this.opts.logger.warn({ policy: policy.name, timeoutMs }, 'route policy did not answer in time; the call is allowed');
        return ALLOW;
      }
      return answer;
    } catch (err) {
      this.opts.logger.warn({ policy: policy.name, err: (err as Error).message }, 'route policy failed; the call is allowed');
      return ALLOW;
    } finally {
      clearTimeout(timer);
    }
  }
}
