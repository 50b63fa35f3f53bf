import { fitColumn, type Database } from '../storage/database.js';
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
      source: fitColumn(f.source ?? null, 64),
      destination: fitColumn(f.destination ?? null, 64),
      destination_context: fitColumn(f.destinationcontext ?? null, 64),
      channel: fitColumn(f.channel ?? null, 128),
      destination_channel: fitColumn(f.destinationchannel ?? null, 128),
      last_application: fitColumn(f.lastapplication ?? null, 64),
      disposition: fitColumn(f.disposition ?? null, 32),
      start_time: fitColumn(f.starttime ?? null, 32),
      answer_time: fitColumn(f.answertime ?? null, 32),
      end_time: fitColumn(f.endtime ?? null, 32),
      duration: int(f.duration),
      billable_seconds: int(f.billableseconds),
      account_code: fitColumn(f.accountcode ?? null, 64),
      raw: JSON.stringify(f),
      received_at: this.now(),
    });
  }
}
