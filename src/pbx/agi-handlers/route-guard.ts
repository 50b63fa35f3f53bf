import type { RouteGuard, RouteQuestion } from '../route-guard.js';
import type { AgiHandler, AgiRequest } from './agi-handler.js';

/**
 * `route-guard`: asks the features (RouteGuard) whether this call may proceed. Allowed:
 * sets `TGPBX_ROUTE=allowed` and the dialplan goes on. Blocked: sets `TGPBX_ROUTE=blocked`
 * and `TGPBX_BLOCK_REASON`, announces the block to the features, then hangs up with the
 * policy's Q.850 cause. Parameters: `direction` (in, out, campaign, callback), `peer`
 * (the trunk or line), `campaign`. If the hook fails or tgpbx is down the dialplan goes
 * on: a fault in tgpbx never blocks calls.
 */
export class RouteGuardHandler implements AgiHandler {
  readonly name = 'route-guard';
  readonly summary = 'Asks tgpbx whether the call may proceed (loss control); blocked calls are hung up with a cause.';

  constructor(private readonly guard: RouteGuard) {}

  async handle({ env, params, channel }: AgiRequest): Promise<void> {
    const question: RouteQuestion = {
      direction: params.get('direction') || 'in',
      channel: env.channel,
      uniqueid: env.uniqueid,
      callerId: env.callerId,
      extension: env.extension,
      context: env.context,
      peer: params.get('peer') || null,
      campaign: params.get('campaign') || null,
    };
    const decision = await this.guard.decide(question);
    if (decision.allow) {
      await channel.setVariable('TGPBX_ROUTE', 'allowed');
      return;
    }
    await channel.setVariable('TGPBX_ROUTE', 'blocked');
    await channel.setVariable('TGPBX_BLOCK_REASON', decision.reason);
    this.guard.reportBlocked({ question, decision });
    await channel.exec('Hangup', String(decision.cause));
  }
}
