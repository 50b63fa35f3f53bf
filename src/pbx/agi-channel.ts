import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { AgiClosedError, AgiCommandError, AgiError, AgiHangupError, AgiProtocolError, AgiTimeoutError } from './agi-errors.js';
import {
  agiEnvironment,
  isAgiHangupNotice,
  isAgiUsageStart,
  parseAgiEnvironmentLine,
  parseAgiReplyLine,
  quoteAgiArgument,
  type AgiEnvironment,
  type AgiReply,
} from './agi-protocol.js';

/** Time and size limits of one AGI conversation; every one ends it with a typed AgiError. */
export interface AgiLimits {
  /** The whole `agi_*` block must arrive within this time (default 2 s). */
  environmentTimeoutMs: number;
  /** Each command must be answered within this time (default 3 s). */
  replyTimeoutMs: number;
  /** No line may be longer (default 8 KiB; Asterisk's own command buffer is 2 KiB). */
  maxLineBytes: number;
  /** The environment block may not be larger (default 64 KiB). */
  maxEnvironmentBytes: number;
}

/** Limits that suit a production PBX. */
export const DEFAULT_AGI_LIMITS: AgiLimits = {
  environmentTimeoutMs: 2_000,
  replyTimeoutMs: 3_000,
  maxLineBytes: 8_192,
  maxEnvironmentBytes: 65_536,
};

interface PendingCommand {
  command: string;
  resolve(reply: AgiReply): void;
  reject(err: AgiError): void;
  timer: NodeJS.Timeout;
  usage: string[] | null;
}

const NEWLINE = 0x0a;
const VARIABLE_NAME = /^[A-Za-z0-9_.()\-,]+$/;

/**
 * tgpbx's side of one AGI conversation, over any pair of streams: a FastAGI socket, or a
 * script's stdin/stdout. Reads the `agi_*` environment, then sends one command at a time
 * and waits for its reply. Notices `HANGUP` (FastAGI's hang-up notification) at any time;
 * once the channel hung up, new commands are refused with AgiHangupError.
 *
 * Emits `hangup` once when the channel hangs up, `failed` once with the AgiError that ended
 * the conversation (timeout, bad input, closed connection).
 */
export class AgiChannel extends EventEmitter {
  private partial: Buffer = Buffer.alloc(0);
  private phase: 'environment' | 'commands' = 'environment';
  private envVars: Record<string, string> = {};
  private envBytes = 0;
  private envWaiter: { resolve(env: AgiEnvironment): void; reject(err: AgiError): void; timer: NodeJS.Timeout } | null = null;
  private env: AgiEnvironment | null = null;
  private pending: PendingCommand | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: AgiError | null = null;
  private _hungUp = false;
  private readonly limits: AgiLimits;
  private readonly onData = (chunk: Buffer | string) => this.receive(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  private readonly onEnd = () => this.fail(new AgiClosedError(this.phase === 'environment' ? 'the connection closed before the AGI environment ended' : 'the connection closed'));
  private readonly onError = (err: Error & { code?: string }) => this.fail(new AgiClosedError(`connection error ${err.code ?? err.message}`));

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    limits: Partial<AgiLimits> = {},
  ) {
    super();
    this.limits = { ...DEFAULT_AGI_LIMITS, ...limits };
    input.on('data', this.onData);
    input.on('end', this.onEnd);
    input.on('close', this.onEnd);
    input.on('error', this.onError);
    if (output !== (input as unknown)) output.on('error', this.onError);
  }

  /** True once Asterisk said the channel hung up (HANGUP notice, SIGHUP, or a 511 reply). */
  get hungUp(): boolean {
    return this._hungUp;
  }

  /** The environment, once read. */
  get environment(): AgiEnvironment | null {
    return this.env;
  }

  /** Resolves with the `agi_*` block; rejects on timeout, oversize, a non-`agi_` line, or a closed connection. */
  readEnvironment(): Promise<AgiEnvironment> {
    if (this.env) return Promise.resolve(this.env);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new AgiTimeoutError(`no complete AGI environment within ${this.limits.environmentTimeoutMs} ms`)),
        this.limits.environmentTimeoutMs,
      );
      this.envWaiter = { resolve, reject, timer };
    });
  }

  /**
   * Sends one command line and resolves with its `200` reply. Rejects with AgiHangupError
   * (channel gone, or `511`), AgiCommandError (`510`, `520`), AgiTimeoutError, or
   * AgiClosedError/AgiProtocolError when the conversation broke.
   */
  command(line: string): Promise<AgiReply> {
    const run = this.queue.then(() => this.send(line));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** GET VARIABLE: the value, or null when the variable (or function, e.g. a missing header) is unset. */
  async getVariable(name: string): Promise<string | null> {
    checkName(name);
    const reply = await this.command(`GET VARIABLE ${name}`);
    return reply.result === '1' ? (reply.value ?? '') : null;
  }

  /** SET VARIABLE; `name` may be a dialplan function such as `CALLERID(num)`. */
  async setVariable(name: string, value: string): Promise<void> {
    checkName(name);
    await this.command(`SET VARIABLE ${name} ${quoteAgiArgument(value)}`);
  }

  /** EXEC an application with its argument string; resolves with the application's result (-2: no such application). */
  async exec(application: string, args: string): Promise<number> {
    checkName(application);
    const reply = await this.command(`EXEC ${application} ${quoteAgiArgument(args)}`);
    return Number(reply.result ?? '0');
  }

  /** VERBOSE: a line on the Asterisk console at the given verbosity. */
  async verbose(message: string, level = 1): Promise<void> {
    await this.command(`VERBOSE ${quoteAgiArgument(message)} ${level}`);
  }

  /** HANGUP: hangs up the channel. */
  async hangup(): Promise<void> {
    await this.command('HANGUP');
  }

  /** Marks the channel as hung up (a local AGI script's SIGHUP); emits `hangup` once. */
  markHungUp(): void {
    if (this._hungUp) return;
    this._hungUp = true;
    this.emit('hangup');
  }

  /** Stops reading and ends the output: Asterisk then sees the script completed and goes on with the dialplan. */
  close(): void {
    this.detach();
    if (this.pending) this.settle(this.pending, new AgiClosedError('the conversation was closed'));
    if (!this.output.writableEnded && !this.output.destroyed) this.output.end();
  }

  private send(line: string): Promise<AgiReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.env) return Promise.reject(new AgiProtocolError('a command was sent before the AGI environment was read'));
    if (this._hungUp) return Promise.reject(new AgiHangupError(`the channel hung up before ${verb(line)}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new AgiTimeoutError(`no reply to ${verb(line)} within ${this.limits.replyTimeoutMs} ms`)),
        this.limits.replyTimeoutMs,
      );
      this.pending = { command: line, resolve, reject, timer, usage: null };
      this.output.write(`${line}\n`);
    });
  }

  private receive(chunk: Buffer): void {
    const data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    const max = this.limits.maxLineBytes;
    let start = 0;
    let nl = data.indexOf(NEWLINE, start);
    while (nl >= 0 && !this.failure) {
      const length = nl - start;
      if (length > max) return this.fail(new AgiProtocolError(`a line longer than ${max} bytes`));
      const end = length > 0 && data[nl - 1] === 0x0d ? nl - 1 : nl;
      const line = data.toString('utf8', start, end);
      start = nl + 1;
      this.line(line, length + 1);
      nl = data.indexOf(NEWLINE, start);
    }
    if (this.failure) return;
    const rest = data.subarray(start);
    if (rest.length > max) return this.fail(new AgiProtocolError(`a line longer than ${max} bytes`));
    this.partial = rest.length ? Buffer.from(rest) : Buffer.alloc(0);
  }

  private line(line: string, bytes: number): void {
    if (this.phase === 'environment') return this.environmentLine(line, bytes);
    if (isAgiHangupNotice(line)) return this.markHungUp();
    const pending = this.pending;
    if (!pending) return; // nothing asked: an unsolicited line is ignored
    if (pending.usage) {
      pending.usage.push(line);
      if (/^\d{3} /.test(line)) {
        this.settle(pending, new AgiCommandError(Number(line.slice(0, 3)), verb(pending.command), `Asterisk refused ${verb(pending.command)}: invalid command syntax`));
      }
      return;
    }
    if (isAgiUsageStart(line)) {
      pending.usage = [line];
      return;
    }
    const reply = parseAgiReplyLine(line);
    if (!reply) return this.fail(new AgiProtocolError(`a reply that is not AGI to ${verb(pending.command)}`));
    if (reply.code === 100) return; // "100 result=0 Trying..." precedes the final reply
    if (reply.code === 200) return this.settle(pending, reply);
    if (reply.code === 511) {
      this.markHungUp();
      return this.settle(pending, new AgiHangupError(`the channel hung up (511 to ${verb(pending.command)})`));
    }
    const what = reply.code === 510 ? 'unknown command' : reply.code === 520 ? 'invalid command syntax' : `reply ${reply.code}`;
    this.settle(pending, new AgiCommandError(reply.code, verb(pending.command), `Asterisk refused ${verb(pending.command)}: ${what}`));
  }

  private environmentLine(line: string, bytes: number): void {
    this.envBytes += bytes;
    if (this.envBytes > this.limits.maxEnvironmentBytes) {
      return this.fail(new AgiProtocolError(`an AGI environment larger than ${this.limits.maxEnvironmentBytes} bytes`));
    }
    if (line === '') {
      if (Object.keys(this.envVars).length === 0) return this.fail(new AgiProtocolError('an empty AGI environment'));
      this.phase = 'commands';
      this.env = agiEnvironment(this.envVars);
      const waiter = this.envWaiter;
      this.envWaiter = null;
      if (waiter) {
        clearTimeout(waiter.timer);
        waiter.resolve(this.env);
      }
      return;
    }
    const pair = parseAgiEnvironmentLine(line);
    if (!pair) return this.fail(new AgiProtocolError('a line in the AGI environment that is not an agi_* variable'));
    this.envVars[pair[0]] = pair[1];
  }

  private settle(pending: PendingCommand, outcome: AgiReply | AgiError): void {
    if (this.pending !== pending) return;
    this.pending = null;
    clearTimeout(pending.timer);
    if (outcome instanceof AgiError) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  /** Ends the conversation with `err`: the waiting environment read or command rejects, later ones too. */
  private fail(err: AgiError): void {
    if (this.failure) return;
    this.failure = err;
    this.detach();
    if (this.envWaiter) {
      clearTimeout(this.envWaiter.timer);
      this.envWaiter.reject(err);
      this.envWaiter = null;
    }
    if (this.pending) this.settle(this.pending, err);
    this.emit('failed', err);
  }

  private detach(): void {
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onEnd);
    // Keep a no-op error listener: a late ECONNRESET must not become an uncaught exception.
    this.input.off('error', this.onError);
    this.input.on('error', () => undefined);
    if (this.output !== (this.input as unknown)) {
      this.output.off('error', this.onError);
      this.output.on('error', () => undefined);
    }
  }
}

/**
 * The command as logs may show it (`GET VARIABLE PJSIP_HEADER(read,X-TG-Phone)`, `EXEC Hangup`,
 * `VERBOSE`): verb and variable or application name, never a value, which may hold caller data.
 */
function verb(line: string): string {
  const words = line.split(' ');
  const first = (words[0] ?? '').toUpperCase();
  const second = (words[1] ?? '').toUpperCase();
  if ((first === 'GET' || first === 'SET') && second === 'VARIABLE') return words.slice(0, 3).join(' ');
  if (MULTI_WORD.has(first)) return words.slice(0, 2).join(' ');
  return words[0] ?? '';
}

const MULTI_WORD = new Set(['GET', 'SET', 'EXEC', 'DATABASE', 'CHANNEL', 'STREAM', 'SAY', 'WAIT', 'RECEIVE', 'SEND', 'SPEECH', 'CONTROL', 'ASYNCAGI', 'TDD', 'RECORD']);

function checkName(name: string): void {
  if (!VARIABLE_NAME.test(name)) throw new Error(`not a variable or application name: ${JSON.stringify(name.slice(0, 40))}`);
}
