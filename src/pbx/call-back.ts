import type { AmiClient } from './ami.js';
import { CALLBACK_AGENT_CONTEXT, CALLBACK_CONTEXT } from './dialplan.js';

/** A call-back: ring `extension` first; when it answers, the PBX dials `number`. */
export interface CallBackRequest {
  extension: string;
  number: string;
  /** Shown on the extension's phone while it rings. */
  label: string;
  /** Tags the call (Originate variable TGPBX_REQUEST) so it can be found in the history. */
  requestId: string;
}

/** A call-back that cannot be placed: the message is fit to show the user. */
export class CallBackError extends Error {}

/**
 * Places call-backs through AMI Originate, using the contexts of tgpbx's generated
 * dialplan: the first leg rings `Local/<extension>@tgpbx-callback-agent`, the second
 * dials the number from `tgpbx-callback` (route guard, then the PBX's outbound routes).
 */
export class CallBackDialer {
  constructor(private readonly ami: AmiClient | null) {}

  async callBack(req: CallBackRequest): Promise<void> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(req.extension)) throw new CallBackError(`"${req.extension}" is not an extension`);
    if (!/^\+?[0-9]{3,20}$/.test(req.number)) throw new CallBackError('the caller number is hidden or not a phone number');
    if (!this.ami) throw new CallBackError('the PBX is not connected (AMI)');
    const label = req.label.replace(/["<>\r\n]/g, '').slice(0, 40);
    await this.ami.action({
      action: 'Originate',
      channel: `Local/${req.extension}@${CALLBACK_AGENT_CONTEXT}`,
      context: CALLBACK_CONTEXT,
      exten: req.number,
      priority: 1,
      callerid: `"${label}" <${req.number}>`,
      timeout: 30_000,
      async: 'true',
      variable: { TGPBX_CALLBACK: req.number, TGPBX_REQUEST: req.requestId },
    });
  }
}
