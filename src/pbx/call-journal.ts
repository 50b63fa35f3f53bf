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

/**
 * At most this many rows per INSERT statement (5 bound values each: 25,000, under the
 * 32,766 of the SQLite that sqlite3 bundles and the 65,535 of PostgreSQL). A write is one
 * statement, whatever its size: when an AMI flood keeps the event loop busy, the writer
 * gets few turns (about 14 per second in bench/call-journal.ts) and must write much in each.
 * The statement is a plain multi-row VALUES (standard SQL): knex writes SQLite inserts as
 * UNION ALL selects, which SQLite limits to 500 rows.
 */
const ROWS_PER_INSERT = 5_000;

/**
 * Fields of AMI events the call rules never read (for the event's own channel and for the
 * Dest/Transferer/... sides): the journal leaves them out, about half of each event. The
 * restore test (test/unit/call-journal-restore.test.ts) replays every recording cut
 * after any event from the journal: a rule that starts reading one of them fails it.
 */
const UNREAD_FIELD = /^(?:privilege|systemname|(?:dest|transferer|transferee|origtransferer|secondtransferer|target)?(?:channelstatedesc|connectedlinenum|connectedlinename|language|accountcode|context|priority))$/;

/** The journal text of an event: its name and the fields the call rules read (they read nothing else). */
export function encodeEvent(e: AmiEvent): string {
  const fields: Record<string, string> = {};
  for (const key in e.fields) if (!UNREAD_FIELD.test(key)) fields[key] = e.fields[key]!;
  return JSON.stringify({ e: e.event, f: fields });
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
  /** The last row appended for each call not yet stored, to know whether it is written. */
  private readonly lastSeqOf = new Map<string, number>();
  private readonly flushMs: number;
  private readonly maxBatch: number;
  /** Rows written since start (bench and tests read it). */
  rowsWritten = 0;
  /** Batches written since start. */
  batchesWritten = 0;
  /** Characters of event JSON written since start. */
  bytesWritten = 0;
  /**
   * The longest time an event waited between its append and the end of its write: the
   * crash window actually seen (events that young are lost with a kill -9).
   */
  maxLagMs = 0;
  /** When the oldest event of the buffer was appended (performance.now()). */
  private bufferSince = 0;

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
    if (!this.buffer.length) this.bufferSince = performance.now();
    this.buffer.push({ seq: ++this.seq, linkedid: entry.linkedid, at: entry.at, received_at: entry.receivedAt, event: encodeEvent(entry.event) });
    this.lastSeqOf.set(entry.linkedid, this.seq);
    if (this.buffer.length >= this.maxBatch) this.kick();
    else if (!this.timer && !this.writing) this.timer = setTimeout(() => this.kick(), this.flushMs);
  }

  /**
   * Resolves once every event appended so far is written (or its write failed: the
   * caller wants order, and must not wait forever on a broken database). Starts the
   * write now instead of waiting for the batch timer.
   */
  flushed(): Promise<void> {
    return this.writtenThrough(this.seq);
  }

  /**
   * Resolves once every event of this call is written. The call engine stores an ended
   * call only then, so a crash before the storing transaction commits finds the whole call
   * in the journal. With a settle time longer than `flushMs` the rows are written already
   * and this costs nothing.
   */
  flushedFor(linkedid: string): Promise<void> {
    return this.writtenThrough(this.lastSeqOf.get(linkedid) ?? 0);
  }

  private writtenThrough(seq: number): Promise<void> {
    if (this.done >= seq) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push({ seq, resolve }));
    this.kick();
    return p;
  }

  /** Deletes a call's rows; CallHistory runs it in the transaction that stores the call. */
  async deleteCall(trx: Knex.Transaction, linkedid: string): Promise<void> {
    await trx('call_journal').where({ linkedid }).delete();
    this.lastSeqOf.delete(linkedid);
  }

  /** Writes everything appended (SIGTERM keeps calls in progress too) and stops the timer. */
  async stop(): Promise<void> {
    await this.flushed();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Rows in the journal table now (written ones), for tests. */
  async count(): Promise<number> {
    const [row] = await this.db('call_journal').count({ n: '*' });
    return Number(row?.n ?? 0);
  }

  private async insert(rows: JournalRow[]): Promise<void> {
    const values: (string | number)[] = [];
    for (const r of rows) values.push(r.seq, r.linkedid, r.at, r.received_at, r.event);
    await this.db.raw(`insert into call_journal ("seq", "linkedid", "at", "received_at", "event") values ${rows.map(() => '(?, ?, ?, ?, ?)').join(', ')}`, values);
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

  /**
   * Writes batches while someone waits for them or a full batch is ready; a partial batch
   * waits for the timer. Each batch is one INSERT (atomic by itself; batches are written
   * in order, so the journal on disk is always a prefix of what was appended).
   */
  private async drain(): Promise<void> {
    do {
      const batch = this.buffer.length > ROWS_PER_INSERT ? this.buffer.splice(0, ROWS_PER_INSERT) : this.buffer;
      if (batch === this.buffer) this.buffer = [];
      const since = this.bufferSince; // rows left for the next batch keep it: their wait is over-counted, never under
      try {
        await this.insert(batch);
        this.rowsWritten += batch.length;
        this.batchesWritten++;
        for (const row of batch) this.bytesWritten += row.event.length;
        this.maxLagMs = Math.max(this.maxLagMs, performance.now() - since);
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
}
