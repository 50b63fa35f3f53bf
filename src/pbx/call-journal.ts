import type { Knex } from 'knex';
import type { Logger } from '../log/logger.js';
import type { Database } from '../storage/database.js';
import type { AmiEvent } from './ami.js';

/**
 * One event the call tracker folded into a call: the call's Linkedid (usually the event's
 * own; for a Hangup the tracker also applied to another call that knew the channel, that
 * call's), the event, its time as the tracker used it (`at`, ms) and when tgpbx received
 * it (`receivedAt`, ms on the tracker's clock).
 */
export interface JournalEntry {
  linkedid: string;
  event: AmiEvent;
  at: number;
  receivedAt: number;
}

/** Where the call tracker hands every event it folded (see CallTracker's `journal` option). */
export interface JournalSink {
  append(entry: JournalEntry): void;
}

/** A row of `call_journal`. */
interface JournalRow {
  seq: number;
  linkedid: string;
  at: number;
  received_at: number;
  event: string;
}

export interface CallJournalOptions {
  /** Write what was appended at most this long after the first unwritten event (default 100 ms). */
  flushMs?: number;
  /** Write at once when this many events wait (default 500). */
  maxBatch?: number;
}

/** Rows per INSERT statement: 5 columns each, under SQLite's oldest limit of 999 bound values. */
const ROWS_PER_INSERT = 180;

/** The journal row of an entry (without its seq). The event keeps its name and fields: the fold reads nothing else. */
export function encodeEvent(e: AmiEvent): string {
  return JSON.stringify({ e: e.event, f: e.fields });
}

/** The event of a journal row, as the tracker folds it. */
export function decodeEvent(text: string): AmiEvent {
  const parsed = JSON.parse(text) as { e?: unknown; f?: unknown };
  if (typeof parsed.e !== 'string' || typeof parsed.f !== 'object' || parsed.f === null) throw new Error('not a journaled AMI event');
  return { event: parsed.e, fields: parsed.f as Record<string, string>, variables: {} };
}

/**
 * The journal of calls in progress: every event the call tracker folds is appended here
 * and written to `call_journal` in batches (one multi-row INSERT per batch, at most
 * `flushMs` after the first event of the batch, at once when `maxBatch` wait or when a
 * call ended and waits to be stored: see `flushed`). A call's rows are deleted in the
 * transaction that stores it (`deleteCall`). After a crash, `load` gives back the events
 * of the calls that were in progress, for the tracker to replay.
 *
 * The crash window: events appended but not yet written (at most `flushMs` plus one
 * write) are lost with the process, as if tgpbx had stopped that much earlier.
 */
export class CallJournal implements JournalSink {
  private buffer: JournalRow[] = [];
  private seq = 0;
  /** Every row up to this seq was written (or its write failed). */
  private done = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private readonly flushMs: number;
  private readonly maxBatch: number;
  /** Rows written since start (bench and tests read it). */
  rowsWritten = 0;
  /** Batches written since start. */
  batchesWritten = 0;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    opts: CallJournalOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 100;
    this.maxBatch = opts.maxBatch ?? 500;
  }

  /**
   * Reads the journal at start, before any event is appended: first deletes the rows of
   * calls already stored (a crash between storing a call and deleting its rows cannot
   * happen, they share a transaction; this catches rows of calls stored by an older
   * version or written after their call), then returns the rest in the order they were
   * folded. Rows that cannot be read are deleted and logged.
   */
  async load(): Promise<JournalEntry[]> {
    await this.db('call_journal')
      .whereExists(this.db('calls').select(this.db.raw('1')).whereRaw('calls.linkedid = call_journal.linkedid'))
      .delete();
    const rows: JournalRow[] = await this.db('call_journal').orderBy('seq').select('seq', 'linkedid', 'at', 'received_at', 'event');
    const entries: JournalEntry[] = [];
    const unreadable: number[] = [];
    for (const r of rows) {
      const seq = Number(r.seq);
      this.seq = Math.max(this.seq, seq);
      try {
        entries.push({ linkedid: r.linkedid, event: decodeEvent(r.event), at: Number(r.at), receivedAt: Number(r.received_at) });
      } catch {
        unreadable.push(seq);
      }
    }
    if (unreadable.length) {
      await this.db('call_journal').whereIn('seq', unreadable).delete();
      this.logger.warn({ rows: unreadable.length }, 'call journal: unreadable rows deleted');
    }
    this.done = this.seq;
    return entries;
  }

  /** Appends one folded event; it is written with the next batch. */
  append(entry: JournalEntry): void {
    this.buffer.push({ seq: ++this.seq, linkedid: entry.linkedid, at: entry.at, received_at: entry.receivedAt, event: encodeEvent(entry.event) });
    if (this.buffer.length >= this.maxBatch) this.kick();
    else if (!this.timer && !this.writing) this.timer = setTimeout(() => this.kick(), this.flushMs);
  }

  /**
   * Resolves once every event appended so far is written (or its write failed: the
   * caller wants order, and must not wait forever on a broken database). Starts the
   * write now instead of waiting for the batch timer.
   */
  flushed(): Promise<void> {
    const seq = this.seq;
    if (this.done >= seq) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push({ seq, resolve }));
    this.kick();
    return p;
  }

  /** Deletes a call's rows; CallHistory runs it in the transaction that stores the call. */
  async deleteCall(trx: Knex.Transaction, linkedid: string): Promise<void> {
    await trx('call_journal').where({ linkedid }).delete();
  }

  /** Writes everything appended (SIGTERM keeps calls in progress too) and stops the timer. */
  async stop(): Promise<void> {
    await this.flushed();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Calls in the journal now (written or not), for the status page and tests. */
  async count(): Promise<number> {
    const [row] = await this.db('call_journal').count({ n: '*' });
    return Number(row?.n ?? 0);
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.writing || !this.buffer.length) return;
    this.writing = this.drain().finally(() => {
      this.writing = null;
      if (this.buffer.length && !this.timer) this.timer = setTimeout(() => this.kick(), this.flushMs);
    });
  }

  /** Writes batches while someone waits for them or a full batch is ready; a partial batch waits for the timer. */
  private async drain(): Promise<void> {
    do {
      const batch = this.buffer;
      this.buffer = [];
      try {
        await this.write(batch);
        this.rowsWritten += batch.length;
        this.batchesWritten++;
      } catch (err) {
        // Live calls go on (they are in memory); only their recovery after a crash would be partial.
        this.logger.error({ err: (err as Error).message, rows: batch.length }, 'call journal: could not write events of calls in progress');
      }
      this.done = batch[batch.length - 1]!.seq;
      const ready = this.waiters.filter((w) => w.seq <= this.done);
      if (ready.length) {
        this.waiters = this.waiters.filter((w) => w.seq > this.done);
        for (const w of ready) w.resolve();
      }
    } while (this.buffer.length && (this.waiters.length || this.buffer.length >= this.maxBatch));
  }

  private async write(rows: JournalRow[]): Promise<void> {
    if (rows.length <= ROWS_PER_INSERT) {
      await this.db('call_journal').insert(rows);
      return;
    }
    await this.db.transaction(async (trx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await trx('call_journal').insert(rows.slice(i, i + ROWS_PER_INSERT));
    });
  }
}
