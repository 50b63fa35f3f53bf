import { lineEndpoint, type TelegramLine } from './telegram-lines.js';

/** Gosub targets of the hooks: `callerid` and `route-guard`. */
export const HOOKS_CONTEXT = 'tgpbx-hooks';
/** Where calls from the Telegram lines arrive (the endpoints' `context`). */
export const FROM_TELEGRAM_CONTEXT = 'tgpbx-from-telegram';
/** Where an outbound route sends calls to Telegram; adds the `+`. */
export const TO_TELEGRAM_CONTEXT = 'tgpbx-to-telegram';
/** Call-back, first leg: rings the PBX's agent, extension or queue. */
export const CALLBACK_AGENT_CONTEXT = 'tgpbx-callback-agent';
/** Call-back, second leg: the customer. */
export const CALLBACK_CONTEXT = 'tgpbx-callback';
/** Campaign calls to customers. */
export const CAMPAIGN_CONTEXT = 'tgpbx-campaign';

/** Every context the include defines, in file order. */
export const DIALPLAN_CONTEXTS = [HOOKS_CONTEXT, FROM_TELEGRAM_CONTEXT, TO_TELEGRAM_CONTEXT, CALLBACK_AGENT_CONTEXT, CALLBACK_CONTEXT, CAMPAIGN_CONTEXT] as const;

/** What the generated dialplan depends on. */
export interface DialplanOptions {
  /** `agi://127.0.0.1:4573`: the FastAGI server as the dialplan reaches it. */
  fastAgiUrl: string;
  /** The Telegram lines (none yet is fine: outgoing calls to Telegram are then refused). */
  lines: readonly TelegramLine[];
  /** The PBX's incoming routing, where Telegram calls continue after the hooks (plain Asterisk: often `from-trunk`). */
  incomingContext: string;
  /** The PBX's internal context, where a call-back first rings the agent (`from-internal`). */
  internalContext: string;
  /** The PBX's outbound routes, through which call-backs and campaigns reach customers (`from-internal`). */
  outgoingContext: string;
  /** Names the generator in the header, e.g. `tgpbx 0.1.0`. */
  generator?: string;
}

/** The dialplan name of a FastAGI server: 0.0.0.0 and :: become 127.0.0.1 (the PBX runs on the same host). */
export function fastAgiUrlFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `agi://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** An extension being written: first priority `1`, then `n`, optionally labelled. */
class Extension {
  private readonly out: string[] = [];

  constructor(private readonly name: string) {}

  /** Adds the next priority; `label` makes it `n(label)`. */
  step(app: string, label?: string): this {
    if (this.out.length === 0) this.out.push(`exten => ${this.name},1${label ? `(${label})` : ''},${app}`);
    else this.out.push(` same => n${label ? `(${label})` : ''},${app}`);
    return this;
  }

  lines(): string[] {
    return this.out;
  }
}

function context(name: string, comments: string[], extensions: Extension[]): string {
  return [`[${name}]`, ...comments.map((c) => `; ${c}`), ...extensions.flatMap((e) => e.lines())].join('\n');
}

/**
 * The hooks themselves: Gosub targets every route can call, so that the FastAGI URL lives
 * in one place. `route-guard` takes (direction, peer, campaign).
 */
function hooksContext(agi: string): string {
  return context(
    HOOKS_CONTEXT,
    [
      'Gosub(tgpbx-hooks,callerid,1): caller ID of a Telegram call from X-TG-Phone > X-TG-Username > X-TG-ID.',
      'Gosub(tgpbx-hooks,route-guard,1(<in|out|callback|campaign>,<peer>,<campaign>)): may this call proceed?',
      'A blocked call is hung up by the hook with a cause; if tgpbx is down both hooks are skipped and the call goes on.',
    ],
    [
      new Extension('callerid')
        .step('NoOp(tgpbx: caller ID from the X-TG-* headers)')
        .step(`AGI(${agi}/tg-callerid?line=\${TGPBX_LINE})`)
        .step('Return()'),
      new Extension('route-guard')
        .step('NoOp(tgpbx: route guard, ${ARG1})')
        .step(`AGI(${agi}/route-guard?direction=\${ARG1}&peer=\${ARG2}&campaign=\${ARG3})`)
        .step('Return()'),
    ],
  );
}

/** Calls from the Telegram lines: caller ID, route guard, then the PBX's own incoming routing. */
function fromTelegramContext(incoming: string): string {
  const inbound = (exten: string, target: string) =>
    new Extension(exten)
      .step('NoOp(tgpbx: Telegram call on line ${TGPBX_LINE} to ${EXTEN})')
      .step(`Gosub(${HOOKS_CONTEXT},callerid,1)`)
      .step(`Gosub(${HOOKS_CONTEXT},route-guard,1(in,tgpbx-line-\${TGPBX_LINE}))`)
      .step(`Goto(${incoming},${target},1)`);
  return context(
    FROM_TELEGRAM_CONTEXT,
    [`Calls from the Telegram lines (endpoints tgpbx-line-<id>): the hooks, then the PBX's incoming routing (${incoming}).`],
    [inbound('_[+0-9a-zA-Z].', '${EXTEN}'), inbound('s', 's')],
  );
}

/**
 * Calls to Telegram: an outbound route sends the number here. The + rule: the gateway
 * dials E.164 with a plus, so `79990001122` and `0079990001122` become `+79990001122`.
 * Without `TGPBX_LINE` the lines are tried in order while one is unavailable.
 */
function toTelegramContext(lines: readonly TelegramLine[]): string {
  const plus = new Extension('_+X.')
    .step('NoOp(tgpbx: call to ${EXTEN} on Telegram)')
    .step(`Gosub(${HOOKS_CONTEXT},route-guard,1(out,telegram))`);
  if (lines.length === 0) {
    plus.step('NoOp(tgpbx: no Telegram line yet)').step('Hangup(34)');
  } else {
    plus.step('GotoIf($["${TGPBX_LINE}" != ""]?chosen)');
    for (const line of lines) {
      plus
        .step(`Dial(PJSIP/\${EXTEN}@${lineEndpoint(line.id)},120)`)
        .step('GotoIf($["${DIALSTATUS}" != "CHANUNAVAIL" & "${DIALSTATUS}" != "CONGESTION"]?done)');
    }
    plus
      .step('Hangup(34)')
      .step('Dial(PJSIP/${EXTEN}@tgpbx-line-${TGPBX_LINE},120)', 'chosen')
      .step('Hangup()', 'done');
  }
  return context(
    TO_TELEGRAM_CONTEXT,
    [
      'Calls to Telegram: point an outbound route here with Goto(tgpbx-to-telegram,${EXTEN},1).',
      'The + rule: numbers are dialled in E.164 with a plus (79990001122 and 0079990001122 become +79990001122).',
      lines.length ? `Lines: ${lines.map((l) => `${l.id} (${l.phone})`).join(', ')}; set TGPBX_LINE to choose one.` : 'No Telegram line yet: calls are refused with cause 34.',
    ],
    [
      new Extension('_X.').step(`Goto(${TO_TELEGRAM_CONTEXT},+\${EXTEN},1)`),
      new Extension('_00X.').step(`Goto(${TO_TELEGRAM_CONTEXT},+\${EXTEN:2},1)`),
      plus,
    ],
  );
}

/** A customer leg of a call-back or campaign: route guard, then the PBX's outbound routes or a Telegram line (TGPBX_VIA=telegram). */
function customerLeg(name: string, direction: 'callback' | 'campaign', outgoing: string, comment: string): string {
  const leg = (exten: string) =>
    new Extension(exten)
      .step(`NoOp(tgpbx: ${direction} call to \${EXTEN}${direction === 'campaign' ? ', campaign ${TGPBX_CAMPAIGN}' : ''})`)
      .step(`Gosub(${HOOKS_CONTEXT},route-guard,1(${direction},\${TGPBX_VIA},\${TGPBX_CAMPAIGN}))`)
      .step('GotoIf($["${TGPBX_VIA}" = "telegram"]?telegram)')
      .step(`Goto(${outgoing},\${EXTEN},1)`)
      .step(`Goto(${TO_TELEGRAM_CONTEXT},\${EXTEN},1)`, 'telegram');
  return context(name, [comment], [leg('_[+0-9].')]);
}

/**
 * The include file tgpbx writes (`extensions_tgpbx.conf`): the hooks, the Telegram lines'
 * incoming and outgoing contexts, and the contexts call-back and campaign originates use.
 * Pure and deterministic (no timestamp): the same options give the same text, so tgpbx
 * only asks Asterisk to reload when something really changed.
 */
export function generateDialplan(opts: DialplanOptions): string {
  const header = [
    '; extensions_tgpbx.conf: the dialplan of tgpbx (Telegram for the PBX).',
    `; Generated by ${opts.generator ?? 'tgpbx'}. Do not edit: tgpbx rewrites this file; change its settings instead.`,
    '; Plain Asterisk: add the line  #include extensions_tgpbx.conf  to extensions.conf, then "dialplan reload".',
    `; Dialplan hooks: FastAGI at ${opts.fastAgiUrl} (AGI scripts in tgpbx's agi/ folder do the same).`,
  ].join('\n');
  return (
    [
      header,
      hooksContext(opts.fastAgiUrl),
      fromTelegramContext(opts.incomingContext),
      toTelegramContext(opts.lines),
      context(
        CALLBACK_AGENT_CONTEXT,
        ['Call-back, first leg: Originate Channel=Local/<agent, extension or queue>@tgpbx-callback-agent rings the PBX side first.'],
        [new Extension('_[+0-9a-zA-Z].').step('NoOp(tgpbx: call-back, ringing ${EXTEN} first)').step(`Goto(${opts.internalContext},\${EXTEN},1)`)],
      ),
      customerLeg(CALLBACK_CONTEXT, 'callback', opts.outgoingContext, 'Call-back, second leg: Originate Context=tgpbx-callback, Exten=<customer number>.'),
      customerLeg(CAMPAIGN_CONTEXT, 'campaign', opts.outgoingContext, 'Campaign calls: Originate Channel=Local/<customer number>@tgpbx-campaign, variable TGPBX_CAMPAIGN=<id>.'),
    ].join('\n\n') + '\n'
  );
}

/** The lines of one extension in a generated context, e.g. `['exten => callerid,1,NoOp(…)', ' same => n,AGI(…)', …]`; used by tests and pages. */
export function extensionLines(dialplan: string, contextName: string, exten: string): string[] {
  const out: string[] = [];
  let inContext = false;
  let inExten = false;
  for (const line of dialplan.split('\n')) {
    if (line.startsWith('[')) {
      inContext = line === `[${contextName}]`;
      inExten = false;
      continue;
    }
    if (!inContext) continue;
    if (line.startsWith('exten => ')) inExten = line.startsWith(`exten => ${exten},`);
    if (inExten && (line.startsWith('exten => ') || line.startsWith(' same => '))) out.push(line);
  }
  return out;
}
