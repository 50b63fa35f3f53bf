import type { Logger } from '../log/logger.js';
import type { SettingsStore } from '../settings/settings-store.js';
import type { Database } from '../storage/database.js';
import type { Metrics } from '../status/metrics.js';
import type { AmiClient, AmiEvent } from './ami.js';
import { CallHistory } from './call-history.js';
import { CallJournal, type CallJournalOptions } from './call-journal.js';
import type { Call } from './call-model.js';
import { CallTracker } from './calls.js';
import { CdrRecorder } from './cdr-recorder.js';
import type { Clock } from './clock.js';
import { PbxDirectory } from './pbx-directory.js';

export interface CallEngineOptions {
  db: Database;
  ami: AmiClient | null;
  settings: SettingsStore;
  logger: Logger;
  metrics: Metrics;
  clock?: Clock;
  settleMs?: number;
  /** Batching of the journal of calls in progress (defaults suit a PBX). */
  journal?: CallJournalOptions;
}

/**
 * Everything that turns AMI events into stored calls: the PBX directory (extensions,
 * trunks, groups), the CallTracker, the call history and the raw CDR recorder, wired to
 * the AMI client. After each (re)connect it re-reads the endpoints and reconciles the
 * calls in progress with the channels Asterisk still has. Calls in progress are journaled
 * (CallJournal) and restored at start, so a crash or restart loses none of their events
 * but the last batch's.
 */
export class CallEngine {
  readonly directory: PbxDirectory;
  readonly tracker: CallTracker;
  readonly history: CallHistory;
  readonly journal: CallJournal;
  private readonly cdr: CdrRecorder;
  private readonly writes = new Set<Promise<unknown>>();

  constructor(private readonly opts: CallEngineOptions) {
    this.directory = new PbxDirectory(opts.db);
    this.history = new CallHistory(opts.db, opts.logger);
    this.cdr = new CdrRecorder(opts.db);
    this.journal = new CallJournal(opts.db, opts.logger, opts.journal);
    this.tracker = new CallTracker({
      classify: this.directory.classifier(),
      policy: () => ({ ivrHangupIsMissed: opts.settings.get('calls.ivr_hangup_is_missed') === 'yes' }),
      logger: opts.logger,
      metrics: opts.metrics,
      clock: opts.clock,
      settleMs: opts.settleMs,
      journal: this.journal,
    });
    this.tracker.on('call.ended', (call: Call) => {
      // The call's journal rows are written before it is stored, and deleted in the storing transaction:
      // a crash in between finds the whole call in the journal, never half of it.
      const stored = this.journal.flushedFor(call.linkedid).then(() => this.history.record(call, (trx) => this.journal.deleteCall(trx, call.linkedid)));
      this.track(stored, (err) => opts.logger.error({ linkedid: call.linkedid, err: err.message }, 'could not store a call'));
      this.track(this.directory.learnNames(call.legs.filter((l) => l.kind === 'extension')), (err) => opts.logger.warn({ err: err.message }, 'could not learn extension names'));
    });
  }

  /** Loads the directory, restores the calls in progress from the journal, and starts listening to AMI. */
  async start(): Promise<void> {
    await this.directory.load();
    this.tracker.restore(await this.journal.load());
    this.tracker.start();
    const { ami } = this.opts;
    if (!ami) return;
    ami.on('event', (e: AmiEvent) => {
      this.tracker.handle(e);
      if (CdrRecorder.wants(e)) this.track(this.cdr.record(e), (err) => this.opts.logger.error({ err: err.message }, 'could not store a CDR'));
    });
    ami.on('connected', () => void this.afterConnect(ami));
  }

  /** Stops the tracker, writes the journal (calls in progress resume at the next start) and waits for the calls being stored. */
  async stop(): Promise<void> {
    this.tracker.stop();
    await this.journal.stop();
    await Promise.allSettled([...this.writes]);
  }

  private async afterConnect(ami: AmiClient): Promise<void> {
    try {
      const { events } = await ami.listAction({ action: 'CoreShowChannels' });
      this.tracker.reconcile(new Set(events.map((e) => e.fields.uniqueid ?? '').filter(Boolean)));
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'CoreShowChannels failed; calls in progress are not reconciled');
    }
    // PJSIP first; chan_sip PBXs answer SIPpeers instead.
    for (const action of ['PJSIPShowEndpoints', 'SIPpeers']) {
      try {
        const { events } = await ami.listAction({ action });
        const added = await this.directory.importFromAsterisk(events.map((e) => e.fields.objectname ?? ''));
        if (added) this.opts.logger.info({ added, action }, 'new endpoints read from Asterisk');
        return;
      } catch (err) {
        this.opts.logger.debug({ err: (err as Error).message, action }, 'could not list endpoints');
      }
    }
  }

  private track(p: Promise<unknown>, onError: (err: Error) => void): void {
    const tracked = p.catch(onError).finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
  }
}
