import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import type { SettingsStore } from '../settings/settings-store.js';
import type { StatusBoard } from '../status/status-board.js';
import type { AmiClient } from './ami.js';
import { generateDialplan, type DialplanOptions } from './dialplan.js';
import { effectiveTelegramLines, type TelegramLine } from './telegram-lines.js';

/** Where the publisher stands, for the Dialplan page and the API. */
export interface DialplanState {
  /** The include file tgpbx writes. */
  path: string;
  /** The text it holds (or would hold, when writing failed). */
  text: string;
  /** When the file was last written by this process (ms), null if it was already current. */
  writtenAt: number | null;
  /** When Asterisk last confirmed a reload (ms), null if not in this process. */
  reloadedAt: number | null;
  /** True while Asterisk has not reloaded the current text. */
  reloadPending: boolean;
  /** The last problem (could not write, reload refused), null when none. */
  problem: string | null;
}

/** What the publisher needs; `options` is asked afresh at every publish. */
export interface DialplanPublisherOptions {
  path: string;
  options: () => DialplanOptions;
  settings: SettingsStore;
  ami: AmiClient | null;
  logger: Logger;
  status: StatusBoard;
}

const RELOADED_HASH_KEY = 'dialplan.reloaded_hash';
const STATUS_ID = 'dialplan';
const STATUS_NAME = 'Dialplan include';

/**
 * Keeps Asterisk's copy of tgpbx's dialplan current: writes the generated include
 * (`extensions_tgpbx.conf`) when its text changed (atomically: a temporary file renamed
 * over it) and asks Asterisk over AMI to reload the dialplan (`Reload`, module
 * pbx_config) until Asterisk confirmed the current text; a reload that could not happen
 * (AMI down) happens when AMI connects. Republishes when a `dialplan.*` setting changes.
 * Light `dialplan`; emits `published` (DialplanState) after each publish and `reloaded`.
 */
export class DialplanPublisher extends EventEmitter {
  private state: DialplanState;
  private running: Promise<DialplanState> | null = null;
  private reloading: Promise<void> | null = null;
  private again = false;
  private readonly onConnected = () => void this.reloadIfPending();
  private readonly onSettings = (keys: string[]) => {
    if (keys.some((k) => k.startsWith('dialplan.'))) void this.publish();
  };

  constructor(private readonly opts: DialplanPublisherOptions) {
    super();
    this.state = { path: opts.path, text: '', writtenAt: null, reloadedAt: null, reloadPending: false, problem: null };
  }

  /** The current state (text generated at the last publish). */
  get current(): DialplanState {
    return { ...this.state };
  }

  /** Publishes once and follows AMI connections and setting changes. */
  async start(): Promise<void> {
    this.opts.ami?.on('connected', this.onConnected);
    this.opts.settings.on('change', this.onSettings);
    await this.publish();
  }

  /** Stops following AMI and the settings; waits for a publish in progress. */
  async stop(): Promise<void> {
    this.opts.ami?.off('connected', this.onConnected);
    this.opts.settings.off('change', this.onSettings);
    await this.running?.catch(() => undefined);
  }

  /** Generates the text, writes it if it changed, and reloads Asterisk if it has not got it yet. Never throws. */
  publish(): Promise<DialplanState> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.publishOnce().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.publish();
      }
    });
    return this.running;
  }

  private async publishOnce(): Promise<DialplanState> {
    const text = generateDialplan(this.opts.options());
    this.state.text = text;
    this.state.problem = null;
    try {
      const onDisk = await fs.readFile(this.opts.path, 'utf8').catch(() => null);
      if (onDisk !== text) {
        await writeAtomically(this.opts.path, text);
        this.state.writtenAt = Date.now();
        this.opts.logger.info({ path: this.opts.path }, 'dialplan include written');
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.state.problem = `cannot write ${this.opts.path}: ${e.code ?? e.message}`;
      this.opts.logger.error({ path: this.opts.path, err: e.code ?? e.message }, 'could not write the dialplan include');
      this.light();
      this.emit('published', this.current);
      return this.current;
    }
    this.state.reloadPending = this.opts.settings.getInternal(RELOADED_HASH_KEY) !== hashOf(text);
    await this.reloadIfPending();
    this.light();
    this.emit('published', this.current);
    return this.current;
  }

  private reloadIfPending(): Promise<void> {
    // One Reload at a time: an AMI connection during a publish must not send a second one.
    this.reloading ??= this.reload().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async reload(): Promise<void> {
    const ami = this.opts.ami;
    if (!this.state.reloadPending || !ami || ami.state !== 'connected') return this.light();
    const text = this.state.text;
    try {
      await ami.action({ action: 'Reload', module: 'pbx_config' });
      await this.opts.settings.setInternal(RELOADED_HASH_KEY, hashOf(text));
      if (this.state.text === text) this.state.reloadPending = false;
      this.state.reloadedAt = Date.now();
      this.state.problem = null;
      this.opts.logger.info('Asterisk reloaded the dialplan');
      this.emit('reloaded', this.current);
    } catch (err) {
      this.state.problem = `Asterisk did not reload the dialplan: ${(err as Error).message}`;
      this.opts.logger.warn({ err: (err as Error).message }, 'Asterisk did not reload the dialplan; trying again at the next AMI connection');
    }
    this.light();
  }

  private light(): void {
    const { status } = this.opts;
    const file = path.basename(this.opts.path);
    if (this.state.problem) status.set(STATUS_ID, STATUS_NAME, 'red', this.state.problem);
    else if (!this.state.reloadPending) status.set(STATUS_ID, STATUS_NAME, 'green', `${file} is current in Asterisk (${this.opts.path})`);
    else if (!this.opts.ami) status.set(STATUS_ID, STATUS_NAME, 'orange', `${file} written; no AMI to reload it: run "dialplan reload" in Asterisk`);
    else status.set(STATUS_ID, STATUS_NAME, 'orange', `${file} written; Asterisk reloads it when AMI connects`);
  }
}

/**
 * The generator's inputs: the Telegram lines (the provider's numbers, else the interim
 * setting) and the PBX's context names. `fastAgiUrl` is where the FastAGI server really listens.
 */
export function dialplanOptionsFromSettings(settings: SettingsStore, fastAgiUrl: string, generator: string, providerLines: readonly TelegramLine[] = []): DialplanOptions {
  return {
    fastAgiUrl,
    lines: effectiveTelegramLines(settings.get('dialplan.telegram_lines'), providerLines).lines,
    incomingContext: settings.get('dialplan.incoming_context'),
    internalContext: settings.get('dialplan.internal_context'),
    outgoingContext: settings.get('dialplan.outgoing_context'),
    generator,
  };
}

function hashOf(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** Writes through a temporary file in the same folder and renames it: Asterisk never reads half a file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o644 });
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
