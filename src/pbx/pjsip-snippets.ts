import { gatewayPort, lineEndpoint, type TelegramLine } from './telegram-lines.js';
import { FROM_TELEGRAM_CONTEXT } from './dialplan.js';

/**
 * The pjsip.conf sections of one Telegram line: an IP-authenticated provider pointing at
 * the tgpbx gateway on 127.0.0.1:30000+id (an aor with a static contact, an identify that
 * matches the gateway's address and port, an endpoint with Opus allowed, no from_user,
 * calls landing in the generated `tgpbx-from-telegram` context with `TGPBX_LINE` set).
 * Pure: the same line always gives the same text.
 */
export function pjsipLineSnippet(line: TelegramLine, gatewayHost = '127.0.0.1'): string {
  const name = lineEndpoint(line.id);
  const address = `${gatewayHost}:${gatewayPort(line.id)}`;
  return [
    `; Telegram line ${line.id} (${line.phone}): the tgpbx gateway at ${address}.`,
    '; An IP-authenticated provider: no registration, no password, no from_user ("fromuser" off); Opus allowed.',
    `[${name}]`,
    'type = endpoint',
    `context = ${FROM_TELEGRAM_CONTEXT}`,
    `aors = ${name}`,
    'identify_by = ip',
    'disallow = all',
    'allow = opus,alaw,ulaw',
    'direct_media = no',
    'rtp_symmetric = yes',
    'rewrite_contact = yes',
    `set_var = TGPBX_LINE=${line.id}`,
    '',
    `[${name}]`,
    'type = aor',
    `contact = sip:${address}`,
    'qualify_frequency = 60',
    '',
    `[${name}]`,
    'type = identify',
    `endpoint = ${name}`,
    `match = ${address}`,
    '',
  ].join('\n');
}

/** The sections of every line, one after the other (what a `pjsip_tgpbx.conf` include would hold). */
export function pjsipSnippets(lines: readonly TelegramLine[], gatewayHost = '127.0.0.1'): string {
  return lines.map((l) => pjsipLineSnippet(l, gatewayHost)).join('\n');
}
