import { HOOKS_CONTEXT, TO_TELEGRAM_CONTEXT } from './dialplan.js';
import { pjsipSnippets } from './pjsip-snippets.js';
import type { TelegramLine } from './telegram-lines.js';

/** A MikoPBX dialplan hook a thin adapter answers with tgpbx's text. */
export interface MikopbxHook {
  /** The method of MikoPBX's module class (ConfigClass) the adapter implements. */
  readonly hook: string;
  /** What the text does, for module.json and the Dialplan page. */
  readonly returns: string;
}

/** The hooks tgpbx fills, in the order MikoPBX calls them when it writes its configuration. */
export const MIKOPBX_HOOKS: readonly MikopbxHook[] = [
  { hook: 'extensionGenContexts', returns: 'the contexts of extensions_tgpbx.conf (tgpbx-hooks, tgpbx-from-telegram, tgpbx-to-telegram, call-back and campaign contexts), pasted into extensions.conf' },
  { hook: 'generateIncomingRoutBeforeDial', returns: 'two priorities run on every incoming route before Dial: Gosub(tgpbx-hooks,callerid,1) (caller ID from X-TG-* headers; no effect on other calls) and Gosub(tgpbx-hooks,route-guard,1(in,<endpoint>))' },
  { hook: 'generateOutRoutContext', returns: 'for an outbound route through a Telegram line: Gosub(tgpbx-hooks,route-guard,1(out,<endpoint>)); give the route the prefix "+" (the + rule) or point it at tgpbx-to-telegram' },
  { hook: 'generatePeersPj', returns: 'the pjsip.conf sections (endpoint, aor, identify) of each Telegram line not set up as a MikoPBX provider' },
  { hook: 'overrideProviderPJSIPOptions', returns: 'for a provider pointing at 127.0.0.1:30000+id: allow opus, no from_user, set_var TGPBX_LINE=<id>' },
];

/**
 * The text of each hook for the current lines and generated dialplan: what a MikoPBX
 * adapter returns from the method of the same name (it can fetch them from
 * GET /api/v1/dialplan). Pure. `contexts` is the generated include.
 */
export function mikopbxHookTexts(contexts: string, lines: readonly TelegramLine[]): Record<string, string> {
  const body = contexts
    .split('\n')
    .filter((l, i, all) => !(l.startsWith(';') && all.slice(0, i).every((p) => p.startsWith(';'))))
    .join('\n')
    .trim();
  return {
    extensionGenContexts: body + '\n',
    generateIncomingRoutBeforeDial: [
      `\tsame => n,Gosub(${HOOKS_CONTEXT},callerid,1)`,
      `\tsame => n,Gosub(${HOOKS_CONTEXT},route-guard,1(in,\${CHANNEL(endpoint)}))`,
      '',
    ].join('\n'),
    generateOutRoutContext: [`\tsame => n,Gosub(${HOOKS_CONTEXT},route-guard,1(out,\${CHANNEL(endpoint)}))`, ''].join('\n'),
    generatePeersPj: pjsipSnippets(lines),
    overrideProviderPJSIPOptions: [
      '; for each provider whose contact is 127.0.0.1:30000+<id>:',
      'allow = opus,alaw,ulaw',
      'from_user = (unset)',
      'set_var = TGPBX_LINE=<id>',
      `; outbound routes to Telegram may instead Goto(${TO_TELEGRAM_CONTEXT},\${EXTEN},1)`,
      '',
    ].join('\n'),
  };
}
