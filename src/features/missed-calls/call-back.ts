import type { CallBackDialer } from '../../pbx/call-back.js';
import { CallBackError } from '../../pbx/call-back.js';
import type { Database } from '../../storage/database.js';
import { groupsWithFlags } from './notifier.js';
import type { MissedCallStore } from './store.js';

/** How long a second press of "Call back" by the same chat for the same call is ignored. */
export const CALL_BACK_GUARD_MS = 10_000;

/** What pressing "Call back" led to. */
export type CallBackOutcome =
  | { kind: 'calling'; extension: string; number: string }
  | { kind: 'choose_extension'; extensions: string[] }
  | { kind: 'refused'; reason: 'not_subscriber' | 'unknown_call' | 'double_press' | 'failed'; detail?: string };

/**
 * The "Call back" button of a missed-call notice: only a chat subscribed to something
 * the call concerns may use it; the PBX rings the subscriber's own extension (the one of
 * his subscription, or the one he chose once among his group's members), then the caller.
 */
export class CallBackFromNotice {
  constructor(private readonly deps: { db: Database; store: MissedCallStore; dialer: CallBackDialer }) {}

  async press(callId: number, chatId: string, chosenExtension?: string): Promise<CallBackOutcome> {
    const { db, store, dialer } = this.deps;
    const call = await db('calls').where({ id: callId }).first('caller_number', 'linkedid');
    if (!call) return { kind: 'refused', reason: 'unknown_call' };
    const missedFor = new Set<string>((await db('call_missed').where({ call_id: callId, kind: 'extension' }).pluck('target')) as string[]);
    const groups = await groupsWithFlags(db);
    const subscriptions = (await store.subscriptionsOf(chatId)).filter((s) => s.status === 'on');
    const ownExtension = subscriptions.find((s) => s.scope.kind === 'extension' && missedFor.has(s.scope.id))?.scope.id;
    const viaGroups = groups.filter((g) => subscriptions.some((s) => s.scope.kind === 'group' && s.scope.id === String(g.id)) && g.members.some((m) => missedFor.has(m)));
    if (!ownExtension && !viaGroups.length) return { kind: 'refused', reason: 'not_subscriber' };

    const groupMembers = [...new Set(viaGroups.flatMap((g) => g.members))].sort();
    if (chosenExtension) {
      if (!groupMembers.includes(chosenExtension) && chosenExtension !== ownExtension) return { kind: 'refused', reason: 'not_subscriber' };
      await store.setExtensionOfChat(chatId, chosenExtension);
    }
    const remembered = await store.extensionOfChat(chatId);
    const extension = ownExtension ?? chosenExtension ?? (remembered && groupMembers.includes(remembered) ? remembered : undefined);
    if (!extension) return { kind: 'choose_extension', extensions: groupMembers };

    if (!(await store.claimCallBack(callId, chatId, CALL_BACK_GUARD_MS))) return { kind: 'refused', reason: 'double_press' };
    try {
      await dialer.callBack({ extension, number: call.caller_number as string, label: `Call back ${call.caller_number as string}`, requestId: `mc:${call.linkedid as string}:${chatId}` });
    } catch (err) {
      return { kind: 'refused', reason: 'failed', detail: err instanceof CallBackError ? err.message : (err as Error).message };
    }
    return { kind: 'calling', extension, number: call.caller_number as string };
  }
}
