/**
 * Asterisk's side of an AGI conversation, for tests: what res_agi does when the dialplan
 * runs AGI(). Over TCP it is the FastAGI client (`agi_network: yes`, `agi_network_script`),
 * over a child's stdin/stdout it is the local AGI launcher. It sends the `agi_*`
 * environment (in setup_env's order), then executes each command line on an emulated
 * channel the way res_agi answers:
 *
 * - GET VARIABLE <name>: `200 result=1 (value)`, or `200 result=0` when unset; a name
 *   ending in `)` is a dialplan function (PJSIP_HEADER(read,X) on PJSIP channels,
 *   SIP_HEADER(X) on SIP channels, CALLERID(num|name), CHANNEL(linkedid|uniqueid|name)).
 * - SET VARIABLE <name> <value>: `200 result=1` (functions CALLERID(num|name) change the caller ID).
 * - EXEC <app> <args>: `200 result=<app result>` (-2 for an unknown application; Hangup
 *   ends the channel, then `HANGUP` follows on FastAGI).
 * - VERBOSE <msg> <level>: `200 result=1`; HANGUP: `200 result=1`; NOOP: `200 result=0`.
 * - an unknown command: `510 Invalid or unknown command`; wrong arguments:
 *   `520-Invalid command syntax.  Proper usage follows:` ... `520 End of proper usage.`;
 *   a command not allowed once the channel is dead: `511 Command Not Permitted on a dead
 *   channel or intercept routine`.
 * - when the channel hangs up: `HANGUP` on FastAGI, SIGHUP to a local script.
 *
 * Arguments are split like res_agi's parse_args: spaces separate, double quotes group,
 * a backslash makes the next character literal.
 */
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';

/** The call the emulated channel carries. */
export interface AgiCallSpec {
  channel?: string;
  uniqueid?: string;
  linkedid?: string;
  /** Channel technology (`agi_type`): PJSIP (default), SIP, Local... */
  type?: string;
  callerId?: string;
  callerIdName?: string;
  context?: string;
  extension?: string;
  priority?: number;
  /** The INVITE's SIP headers (names compared case-insensitively). */
  headers?: Record<string, string>;
  /** Channel variables set before the AGI. */
  variables?: Record<string, string>;
  /** AGI(script,arg1,arg2...) arguments: `agi_arg_1`... */
  args?: string[];
  /** AGISIGHUP=no: no HANGUP notice / SIGHUP when the channel hangs up. */
  agiSigHup?: boolean;
}

/** Ways the emulated Asterisk misbehaves, to test that tgpbx survives them. */
export interface AgiPeerBehaviour {
  /** Write everything in chunks of this many bytes, yielding to the event loop between chunks. */
  chunkSize?: number;
  /** Send only this many bytes of the environment, then nothing more (a stalled peer). */
  stallEnvironmentAfter?: number;
  /** Never answer commands. */
  silent?: boolean;
  /** Replace the reply to a command (return the raw text to send, with its newlines). */
  replyOverride?: (command: string, index: number) => string | undefined;
  /** Hang the channel up after answering this many commands (HANGUP notice / SIGHUP). */
  hangupAfterCommands?: number;
  /** Close the connection instead of answering command number n (1-based). */
  closeAtCommand?: number;
}

/** What the peer saw, for assertions. */
export interface AgiTranscript {
  /** The command lines tgpbx sent, in order. */
  commands: string[];
  /** The reply text sent for each command. */
  replies: string[];
  /** True when tgpbx ended the conversation (end of its stream). */
  endedByTgpbx: boolean;
}

const USAGE: Record<string, string> = {
  'get variable': ' Usage: GET VARIABLE <variablename>\n\tReturns 0 if <variablename> is not set.',
  'set variable': ' Usage: SET VARIABLE <variablename> <value>',
  exec: ' Usage: EXEC <application> <options>',
  verbose: ' Usage: VERBOSE <message> <level>',
};

/** Commands res_agi allows on a dead channel (those tgpbx may send). */
const DEAD_OK = new Set(['get variable', 'get full variable', 'set variable', 'exec', 'verbose', 'noop']);

/** Splits a command line like res_agi's parse_args. */
export function parseAgiArgs(line: string): string[] {
  const argv: string[] = [];
  let cur: string | null = null;
  let quoted = false;
  let escaped = false;
  for (const ch of line) {
    if (escaped) {
      cur = (cur ?? '') + ch;
      escaped = false;
    } else if (ch === '\\') {
      escaped = true;
      cur ??= '';
    } else if (ch === '"') {
      quoted = !quoted;
      cur ??= '';
    } else if ((ch === ' ' || ch === '\t') && !quoted) {
      if (cur !== null) argv.push(cur);
      cur = null;
    } else {
      cur = (cur ?? '') + ch;
    }
  }
  if (cur !== null) argv.push(cur);
  return argv;
}

/** The emulated channel and its side of the conversation. */
export class AsteriskAgiPeer {
  readonly transcript: AgiTranscript = { commands: [], replies: [], endedByTgpbx: false };
  readonly variables = new Map<string, string>();
  callerIdNum: string;
  callerIdName: string;
  /** True once the channel hung up (Hangup executed, HANGUP command, or {@link hangup}). */
  dead = false;
  /** The cause given to an executed Hangup(), if any. */
  hangupCause: string | null = null;
  /** Applications executed with EXEC, in order. */
  readonly executed: { app: string; args: string }[] = [];
  /** Resolves when tgpbx ended the conversation or the connection closed. */
  readonly finished: Promise<AgiTranscript>;

  private input!: Readable;
  private output!: Writable;
  private buffer = '';
  private answered = 0;
  private closed = false;
  private notifyHangup: () => void = () => undefined;
  private writing: Promise<void> = Promise.resolve();
  private resolveFinished!: (t: AgiTranscript) => void;
  private commandWaiters: { n: number; resolve(): void }[] = [];

  constructor(
    readonly spec: AgiCallSpec = {},
    readonly behaviour: AgiPeerBehaviour = {},
  ) {
    this.callerIdNum = spec.callerId ?? 'trunk';
    this.callerIdName = spec.callerIdName ?? 'Telegram';
    for (const [k, v] of Object.entries(spec.variables ?? {})) this.variables.set(k, v);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  get channelName(): string {
    return this.spec.channel ?? `${this.spec.type ?? 'PJSIP'}/tgpbx-line-1-0000000e`;
  }

  get uniqueid(): string {
    return this.spec.uniqueid ?? '1795331409.14';
  }

  /** The environment block as res_agi writes it (launch_netscript's two lines first for FastAGI). */
  environment(request: string, network?: { script: string }): string {
    const s = this.spec;
    const lines: string[] = [];
    if (network) {
      lines.push('agi_network: yes');
      if (network.script) lines.push(`agi_network_script: ${network.script}`);
    }
    lines.push(
      `agi_request: ${request}`,
      `agi_channel: ${this.channelName}`,
      'agi_language: en',
      `agi_type: ${s.type ?? 'PJSIP'}`,
      `agi_uniqueid: ${this.uniqueid}`,
      'agi_version: 20.20.1',
      `agi_callerid: ${this.callerIdNum || 'unknown'}`,
      `agi_calleridname: ${this.callerIdName || 'unknown'}`,
      'agi_callingpres: 0',
      'agi_callingani2: 0',
      'agi_callington: 0',
      'agi_callingtns: 0',
      `agi_dnid: ${s.extension ?? '400'}`,
      'agi_rdnis: unknown',
      `agi_context: ${s.context ?? 'tgpbx-from-telegram'}`,
      `agi_extension: ${s.extension ?? '400'}`,
      `agi_priority: ${s.priority ?? 2}`,
      'agi_enhanced: 0.0',
      'agi_accountcode: ',
      'agi_threadid: 140562018412288',
    );
    (s.args ?? []).forEach((a, i) => lines.push(`agi_arg_${i + 1}: ${a}`));
    return lines.join('\n') + '\n\n';
  }

  /**
   * Connects to a FastAGI server as AGI(agi://127.0.0.1:<port>/<script>) does and starts
   * the conversation. `script` is the part after `host:port/` (path and query).
   */
  static async fastAgi(port: number, script: string, spec: AgiCallSpec = {}, behaviour: AgiPeerBehaviour = {}): Promise<AsteriskAgiPeer> {
    const peer = new AsteriskAgiPeer(spec, behaviour);
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    peer.attach(socket, socket, peer.environment(`agi://127.0.0.1:${port}/${script}`, { script }), () => peer.send('HANGUP\n'));
    return peer;
  }

  /**
   * Runs the conversation over a local script's pipes: `fromScript` is its stdout,
   * `toScript` its stdin; `sighup` delivers the hang-up signal.
   */
  static local(fromScript: Readable, toScript: Writable, request: string, sighup: () => void, spec: AgiCallSpec = {}, behaviour: AgiPeerBehaviour = {}): AsteriskAgiPeer {
    const peer = new AsteriskAgiPeer(spec, behaviour);
    peer.attach(fromScript, toScript, peer.environment(request), sighup);
    return peer;
  }

  /** Hangs the channel up now, as a caller who puts the phone down (HANGUP notice / SIGHUP unless AGISIGHUP=no). */
  hangup(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.spec.agiSigHup !== false) this.notifyHangup();
  }

  /** Resolves once tgpbx has sent at least `n` commands. */
  waitForCommands(n: number): Promise<void> {
    if (this.transcript.commands.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.commandWaiters.push({ n, resolve }));
  }

  /** Writes raw text to tgpbx (for malformed-input tests). */
  writeRaw(text: string | Buffer): Promise<void> {
    return this.send(text);
  }

  /** Closes the connection from Asterisk's side (the channel went away abruptly). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.output.destroy();
    this.input.destroy();
  }

  private attach(input: Readable, output: Writable, env: string, notifyHangup: () => void): void {
    this.input = input;
    this.output = output;
    this.notifyHangup = notifyHangup;
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => this.receive(chunk));
    input.on('end', () => {
      this.transcript.endedByTgpbx = true;
      this.finish();
    });
    input.on('close', () => this.finish());
    input.on('error', () => this.finish());
    output.on('error', () => undefined);
    const stall = this.behaviour.stallEnvironmentAfter;
    void this.send(stall !== undefined ? env.slice(0, stall) : env);
  }

  private finish(): void {
    if (!this.closed) {
      this.closed = true;
      if (!this.output.destroyed) this.output.end();
    }
    this.resolveFinished(this.transcript);
  }

  private send(text: string | Buffer): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.output.destroyed || this.output.writableEnded) return;
      const size = this.behaviour.chunkSize;
      const bytes = typeof text === 'string' ? Buffer.from(text) : text;
      if (!size) {
        this.output.write(bytes);
        return;
      }
      for (let i = 0; i < bytes.length; i += size) {
        if (this.output.destroyed) return;
        this.output.write(bytes.subarray(i, i + size));
        await new Promise((r) => setImmediate(r));
      }
    });
    return this.writing;
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.command(line);
    }
  }

  private command(line: string): void {
    if (this.closed) return;
    const index = this.transcript.commands.length;
    this.transcript.commands.push(line);
    this.commandWaiters = this.commandWaiters.filter((w) => (w.n <= this.transcript.commands.length ? (w.resolve(), false) : true));
    if (this.behaviour.closeAtCommand === index + 1) return this.close();
    if (this.behaviour.silent) return;
    const reply = this.behaviour.replyOverride?.(line, index) ?? this.execute(line);
    this.transcript.replies.push(reply);
    void this.send(reply);
    this.answered++;
    if (this.behaviour.hangupAfterCommands === this.answered) this.hangup();
  }

  /** res_agi's agi_handle_command over the emulated channel. */
  private execute(line: string): string {
    const argv = parseAgiArgs(line);
    const words = argv.map((a) => a.toLowerCase());
    const key = ['get full variable'].find((k) => words.slice(0, 3).join(' ') === k)
      ?? ['get variable', 'set variable', 'channel status'].find((k) => words.slice(0, 2).join(' ') === k)
      ?? ['exec', 'verbose', 'hangup', 'noop', 'answer'].find((k) => words[0] === k);
    if (!key) return '510 Invalid or unknown command\n';
    if (this.dead && !DEAD_OK.has(key)) return '511 Command Not Permitted on a dead channel or intercept routine\n';
    const usage = () => `520-Invalid command syntax.  Proper usage follows:\n${USAGE[key] ?? ''}\n520 End of proper usage.\n`;
    switch (key) {
      case 'get variable': {
        if (argv.length !== 3) return usage();
        const value = this.read(argv[2]!);
        return value === null ? '200 result=0\n' : `200 result=1 (${value})\n`;
      }
      case 'get full variable': {
        if (argv.length !== 4 && argv.length !== 5) return usage();
        const expanded = argv[3]!.replace(/\$\{([^}]+)\}/g, (_, name: string) => this.read(name) ?? '');
        return `200 result=1 (${expanded})\n`;
      }
      case 'set variable': {
        if (argv.length !== 4) return usage();
        this.write(argv[2]!, argv[3]!);
        return '200 result=1\n';
      }
      case 'exec': {
        if (argv.length < 2) return usage();
        const app = argv[1]!;
        const args = argv.slice(2).join(',');
        this.executed.push({ app, args });
        if (app.toLowerCase() === 'hangup') {
          this.hangupCause = args;
          this.dead = true;
          // Hangup returns -1; res_agi answers, then notices the hang-up.
          queueMicrotask(() => {
            if (this.spec.agiSigHup !== false) this.notifyHangup();
          });
          return '200 result=-1\n';
        }
        if (['set', 'noop', 'verbose', 'wait'].includes(app.toLowerCase())) return '200 result=0\n';
        return '200 result=-2\n';
      }
      case 'verbose':
        return argv.length < 2 ? usage() : '200 result=1\n';
      case 'hangup':
        this.dead = true;
        return '200 result=1\n';
      case 'channel status':
        return `200 result=${this.dead ? 0 : 6}\n`;
      case 'answer':
        return '200 result=0\n';
      default:
        return '200 result=0\n';
    }
  }

  /** A variable or dialplan function's value, null when unset (as pbx_retrieve_variable / ast_func_read). */
  private read(name: string): string | null {
    const fn = /^([A-Z_]+)\((.*)\)$/i.exec(name);
    if (!fn) return this.variables.get(name) ?? null;
    const [, func, arg] = fn as unknown as [string, string, string];
    const type = (this.spec.type ?? 'PJSIP').toUpperCase();
    const header = (h: string) => {
      const found = Object.entries(this.spec.headers ?? {}).find(([k]) => k.toLowerCase() === h.toLowerCase());
      return found ? found[1] : null;
    };
    switch (func.toUpperCase()) {
      case 'PJSIP_HEADER': {
        const [action, h] = arg.split(',');
        return type === 'PJSIP' && action === 'read' && h ? header(h) : null;
      }
      case 'SIP_HEADER':
        return type === 'SIP' ? header(arg) : null;
      case 'CALLERID':
        return arg === 'num' ? this.callerIdNum : arg === 'name' ? this.callerIdName : null;
      case 'CHANNEL':
        return arg === 'linkedid' ? (this.spec.linkedid ?? this.uniqueid) : arg === 'uniqueid' ? this.uniqueid : arg === 'name' ? this.channelName : null;
      default:
        return null;
    }
  }

  private write(name: string, value: string): void {
    if (name === 'CALLERID(num)') this.callerIdNum = value;
    else if (name === 'CALLERID(name)') this.callerIdName = value;
    else this.variables.set(name.replace(/^_{1,2}/, ''), value);
  }
}
