/**
 * The AGI wire format, as Asterisk's res_agi speaks it, in pure functions: the `agi_*`
 * environment block, reply lines (`200 result=1 (value)`, `510`, `511`, `520`), quoting
 * of command arguments, and the handler route of a FastAGI URL. No I/O here.
 */

/** The `agi_*` block Asterisk sends before the first command, with the fields tgpbx reads named. */
export interface AgiEnvironment {
  /** Every `agi_*` line as sent (key without the `agi_` prefix, e.g. `channel`, `arg_1`). */
  readonly vars: Readonly<Record<string, string>>;
  /** True for FastAGI (`agi_network: yes`). */
  readonly network: boolean;
  /** `agi_request`: the script path or the whole `agi://host:port/path?query` URL. */
  readonly request: string;
  /** `agi_network_script`: the part of the FastAGI URL after `host:port/` (path and query), '' when absent. */
  readonly networkScript: string;
  /** `agi_channel`, e.g. `PJSIP/tgpbx-line-1-0000000e`. */
  readonly channel: string;
  /** `agi_uniqueid`. */
  readonly uniqueid: string;
  /** `agi_type`: the channel technology (`PJSIP`, `SIP`, `Local`...). */
  readonly type: string;
  /** `agi_callerid` (`unknown` when Asterisk has none). */
  readonly callerId: string;
  /** `agi_calleridname` (`unknown` when Asterisk has none). */
  readonly callerIdName: string;
  readonly context: string;
  readonly extension: string;
  readonly priority: string;
  /** `agi_arg_1`..`agi_arg_n` in order (the arguments after the script in `AGI(script,arg1,arg2)`). */
  readonly args: readonly string[];
}

/** One final reply to a command: `200 result=1 (value) endpos=0`, `510 Invalid or unknown command`... */
export interface AgiReply {
  /** 200 success; 510 unknown command; 511 not permitted on a dead channel; 520 bad syntax. */
  readonly code: number;
  /** The `result=` value as text (`1`, `-1`, `0`...), null when the line has none. */
  readonly result: string | null;
  /** The text in parentheses after the result (the value of GET VARIABLE), null when absent. */
  readonly value: string | null;
  /** Whatever follows (e.g. `endpos=1234`), or the message of an error reply. */
  readonly rest: string;
  /** The whole reply as received (for 520: every line of the usage text joined by `\n`). */
  readonly text: string;
}

/** Splits one environment line `agi_key: value` into key (without `agi_`) and value; null when it is not one. */
export function parseAgiEnvironmentLine(line: string): [string, string] | null {
  const m = /^agi_([A-Za-z0-9_]+):(?: (.*))?$/.exec(line);
  if (!m) return null;
  return [m[1]!, m[2] ?? ''];
}

/** Builds the environment from the collected `agi_*` lines. */
export function agiEnvironment(vars: Record<string, string>): AgiEnvironment {
  const args: string[] = [];
  for (let i = 1; vars[`arg_${i}`] !== undefined; i++) args.push(vars[`arg_${i}`]!);
  return {
    vars,
    network: (vars.network ?? '').toLowerCase() === 'yes',
    request: vars.request ?? '',
    networkScript: vars.network_script ?? '',
    channel: vars.channel ?? '',
    uniqueid: vars.uniqueid ?? '',
    type: vars.type ?? '',
    callerId: vars.callerid ?? '',
    callerIdName: vars.calleridname ?? '',
    context: vars.context ?? '',
    extension: vars.extension ?? '',
    priority: vars.priority ?? '',
    args,
  };
}

const REPLY = /^(\d{3})(?: (.*))?$/;

/**
 * Parses one reply line. `200 result=1 (hello world) endpos=3` gives code 200, result `1`,
 * value `hello world` (everything up to the last `)` before the rest), rest `endpos=3`.
 * Returns null for a line that is not a reply (`HANGUP`, garbage) and for the `520-` first
 * line of a multi-line usage reply (see {@link isAgiUsageStart}).
 */
export function parseAgiReplyLine(line: string): AgiReply | null {
  const m = REPLY.exec(line);
  if (!m) return null;
  const code = Number(m[1]);
  const body = m[2] ?? '';
  if (code !== 200 && code !== 100) return { code, result: null, value: null, rest: body, text: line };
  const r = /^result=(\S*)(.*)$/.exec(body);
  if (!r) return { code, result: null, value: null, rest: body, text: line };
  const tail = r[2]!;
  const paren = /^ \((.*)\)(?: (.*))?$/.exec(tail);
  if (paren) return { code, result: r[1]!, value: paren[1]!, rest: paren[2] ?? '', text: line };
  return { code, result: r[1]!, value: null, rest: tail.trim(), text: line };
}

/** True for the first line of a multi-line usage reply (`520-Invalid command syntax.  Proper usage follows:`). */
export function isAgiUsageStart(line: string): boolean {
  return /^\d{3}-/.test(line);
}

/** True for the notification Asterisk writes to a FastAGI socket when the channel hangs up. */
export function isAgiHangupNotice(line: string): boolean {
  return line.trim() === 'HANGUP';
}

/**
 * Quotes a value as one command argument the way res_agi's parse_args reads it: in double
 * quotes, with `"` and `\` escaped by a backslash. Line breaks and NULs would end or cut the
 * command, so they become spaces.
 */
export function quoteAgiArgument(value: string): string {
  const clean = value.replace(/[\r\n\0]/g, ' ');
  return `"${clean.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The handler a FastAGI or AGI request names, and its parameters. */
export interface AgiRoute {
  /** The last path segment, lower-cased (`tg-callerid`); '' when the request names none. */
  readonly handler: string;
  /** The query string parameters (`?direction=in&line=1`). */
  readonly params: URLSearchParams;
}

/**
 * The route of a request: from `agi_network_script` (`tg-callerid?line=1`) when present,
 * else from `agi_request` (an `agi://host:port/tg-callerid?line=1` URL, or a script path
 * such as `/var/lib/asterisk/agi-bin/tg-callerid`).
 */
export function agiRoute(env: Pick<AgiEnvironment, 'networkScript' | 'request'>): AgiRoute {
  let target = env.networkScript;
  if (!target) {
    const request = env.request;
    target = /^h?agi:\/\//i.test(request) ? request.replace(/^h?agi:\/\/[^/]*\/?/i, '') : request;
  }
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  const query = q >= 0 ? target.slice(q + 1) : '';
  const segments = path.split('/').filter((s) => s !== '');
  const handler = (segments[segments.length - 1] ?? '').toLowerCase();
  return { handler, params: new URLSearchParams(query) };
}
