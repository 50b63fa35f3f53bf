import type { Database } from '../storage/database.js';
import type { AmiEvent } from './ami.js';

/**
 * Stores every AMI `Cdr` event (sent when cdr_manager.conf has `enabled = yes`) as a raw
 * row: one per dialed leg, tied to the call by Linkedid (the caller's UniqueID when the
 * Cdr lacks one). Billing reports read these rows.
 */
export class CdrRecorder {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** True for the events this recorder stores. */
  static wants(e: AmiEvent): boolean {
    return e.event === 'Cdr';
  }

  async record(e: AmiEvent): Promise<void> {
    const f = e.fields;
    const int = (v: string | undefined) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
    await this.db('cdr_records').insert({
      linkedid: f.linkedid ?? f.uniqueid ?? null,
      uniqueid: f.uniqueid ?? null,
      source: f.source ?? null,
      destination: f.destination ?? null,
      destination_context: f.destinationcontext ?? null,
      channel: f.channel ?? null,
      destination_channel: f.destinationchannel ?? null,
      last_application: f.lastapplication ?? null,
      disposition: f.disposition ?? null,
      start_time: f.starttime ?? null,
      answer_time: f.answertime ?? null,
      end_time: f.endtime ?? null,
      duration: int(f.duration),
      billable_seconds: int(f.billableseconds),
      account_code: f.accountcode ?? null,
      raw: JSON.stringify(f),
      received_at: this.now(),
    });
  }
}
