import type { Knex } from 'knex';
import type { Logger } from '../log/logger.js';
import { fitColumn, type Database } from '../storage/database.js';
import type { Call, CallLeg, MissedTarget } from './call-model.js';

/**
 * Something a feature does with every finished call, inside the transaction that stores
 * it (e.g. enqueue missed-call notices in the outbox): the call and its consequences are
 * written together or not at all.
 */
export type CallEndedHook = (call: Call, trx: Knex.Transaction, callId: number) => Promise<void>;

/** A stored call as the history page and REST API list it. */
export interface CallRow {
  id: number;
  linkedid: string;
  direction: string;
  originated: boolean;
  started_at: number;
  answered_at: number | null;
  ended_at: number;
  caller_number: string;
  caller_name: string;
  dialed: string;
  trunk: string | null;
  answered_by: string | null;
  ring_seconds: number;
  talk_seconds: number;
  voicemail_left: boolean;
  disposition: string;
  partial: boolean;
  missed_for: string;
}

/** Filters of the call history. Times are ms since the epoch. */
export interface CallQuery {
  from?: number;
  to?: number;
  extension?: string;
  /** Calls that rang any member of this group. */
  groupId?: number;
  disposition?: string;
  limit?: number;
  /** Paging: only calls that started before this one (`<started_at>_<id>` of the last row shown). */
  before?: string;
}

/**
 * The call history: stores every finished call once (by Linkedid) with its legs and
 * missed targets, runs the features' hooks in the same transaction, and answers queries.
 */
export class CallHistory {
  private readonly hooks: CallEndedHook[] = [];

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /** Registers a feature's hook, run for each newly stored call. */
  onCallEnded(hook: CallEndedHook): void {
    this.hooks.push(hook);
  }

  /**
   * Stores a finished call; a call already stored (same Linkedid) is left alone and its hooks do not run again.
   * `before` runs in the same transaction before anything else, whether the call is new or not (the call
   * engine deletes the call's journal rows there).
   */
  async record(call: Call, before?: (trx: Knex.Transaction) => Promise<void>): Promise<number | null> {
    return this.db.transaction(async (trx) => {
      if (before) await before(trx);
      const inserted = await trx('calls')
        .insert({
          linkedid: call.linkedid,
          direction: call.direction,
          originated: call.originated,
          started_at: call.startedAt,
          answered_at: call.answeredAt,
          ended_at: call.endedAt,
          caller_number: fitColumn(call.caller.number, 64),
          caller_name: fitColumn(call.caller.name, 128),
          dialed: fitColumn(call.dialed, 64),
          trunk: fitColumn(call.trunk, 64),
          answered_by: fitColumn(call.answeredBy, 64),
          ring_seconds: call.ringSeconds,
          talk_seconds: call.talkSeconds,
          voicemail_left: call.voicemailLeft,
          disposition: call.disposition,
          partial: call.partial,
          detail: JSON.stringify({ caller: call.caller, queues: call.queues, transfers: call.transfers }),
        })
        .onConflict('linkedid')
        .ignore()
        .returning('id');
      const first = inserted[0] as { id: number } | number | undefined;
      if (first === undefined) return null;
      const callId = typeof first === 'object' ? first.id : first;
      if (call.legs.length) await trx('call_legs').insert(call.legs.map((l) => legRow(callId, l)));
      if (call.missed.length) await trx('call_missed').insert(call.missed.map((m) => missedRow(callId, m)));
      for (const hook of this.hooks) await hook(call, trx, callId);
      return callId;
    });
  }

  /** Calls matching the filters, newest first (at most `limit`, default 50). */
  async list(q: CallQuery = {}): Promise<CallRow[]> {
    const query = this.db('calls as c')
      .select('c.*')
      .orderBy([{ column: 'c.started_at', order: 'desc' }, { column: 'c.id', order: 'desc' }])
      .limit(Math.min(q.limit ?? 50, 500));
    if (q.from !== undefined) query.where('c.started_at', '>=', q.from);
    if (q.to !== undefined) query.where('c.started_at', '<', q.to);
    if (q.disposition) query.where('c.disposition', q.disposition);
    const cursor = /^(\d+)_(\d+)$/.exec(q.before ?? '');
    if (cursor) {
      const [startedAt, id] = [Number(cursor[1]), Number(cursor[2])];
      query.where((w) => w.where('c.started_at', '<', startedAt).orWhere((x) => x.where('c.started_at', startedAt).andWhere('c.id', '<', id)));
    }
    if (q.extension) {
      const ext = q.extension;
      query.where((w) =>
        w
          .where('c.answered_by', ext)
          .orWhere('c.caller_number', ext)
          .orWhereExists(this.db('call_legs as l').whereRaw('l.call_id = c.id').andWhere('l.endpoint', ext)),
      );
    }
    if (q.groupId !== undefined) {
      query.whereExists(
        this.db('call_legs as l')
          .join('user_group_members as m', 'm.extension', 'l.endpoint')
          .whereRaw('l.call_id = c.id')
          .andWhere('m.group_id', q.groupId),
      );
    }
    const rows: Omit<CallRow, 'missed_for'>[] = await query;
    const missed = rows.length
      ? await this.db('call_missed').whereIn('call_id', rows.map((r) => r.id)).select('call_id', 'target')
      : [];
    return rows.map((r) => ({
      ...r,
      originated: Boolean(r.originated),
      voicemail_left: Boolean(r.voicemail_left),
      partial: Boolean(r.partial),
      missed_for: missed.filter((m: { call_id: number }) => m.call_id === r.id).map((m: { target: string }) => m.target).join(', '),
    }));
  }

  /** One call with its legs (a timeline), missed targets and the CDRs Asterisk wrote for it (cdr_manager). */
  async get(id: number): Promise<{ call: CallRow; legs: Record<string, unknown>[]; missed: Record<string, unknown>[]; cdrs: Record<string, unknown>[]; detail: unknown } | undefined> {
    const call = await this.db('calls').where({ id }).first();
    if (!call) return undefined;
    const legs = await this.db('call_legs').where({ call_id: id }).orderBy([{ column: 'started_at' }, { column: 'id' }]); // ties in a fixed order on PostgreSQL too
    const missed = await this.db('call_missed').where({ call_id: id });
    const cdrs = await this.db('cdr_records')
      .where({ linkedid: call.linkedid })
      .orderBy('id')
      .select('source', 'destination', 'channel', 'destination_channel', 'last_application', 'disposition', 'start_time', 'answer_time', 'end_time', 'duration', 'billable_seconds', 'account_code');
    // Booleans as booleans on both databases (SQLite returns 0/1, PostgreSQL true/false).
    const flags = { originated: Boolean(call.originated), voicemail_left: Boolean(call.voicemail_left), partial: Boolean(call.partial) };
    return {
      call: { ...call, ...flags, missed_for: missed.map((m: { target: string }) => m.target).join(', ') },
      legs: legs.map((l: Record<string, unknown>) => ({ ...l, consult: Boolean(l.consult) })),
      missed,
      cdrs,
      detail: JSON.parse(call.detail as string),
    };
  }
}

function legRow(callId: number, l: CallLeg) {
  return {
    call_id: callId,
    uniqueid: l.uniqueid,
    channel: fitColumn(l.channel, 128),
    endpoint: fitColumn(l.endpoint, 64),
    kind: l.kind,
    dial_string: fitColumn(l.dialString, 128),
    queue: fitColumn(l.queue, 64),
    via: fitColumn(l.via, 64),
    episode: l.episode,
    consult: l.consult,
    started_at: l.startedAt,
    answered_at: l.answeredAt,
    ended_at: l.endedAt,
    outcome: l.outcome,
    picked_up_by: fitColumn(l.pickedUpBy, 64),
    hangup_cause: l.hangupCause,
  };
}

function missedRow(callId: number, m: MissedTarget) {
  return { call_id: callId, kind: m.kind, target: fitColumn(m.target, 64), reason: m.reason, ring_seconds: m.ringSeconds };
}
