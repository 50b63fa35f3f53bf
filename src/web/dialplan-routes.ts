import type { FastifyPluginAsync } from 'fastify';
import type { AgiHandlerRegistry } from '../pbx/agi-handlers/agi-handler.js';
import type { DialplanPublisher } from '../pbx/dialplan-publisher.js';
import { MIKOPBX_HOOKS, mikopbxHookTexts } from '../pbx/mikopbx-hooks.js';
import { pjsipLineSnippet } from '../pbx/pjsip-snippets.js';
import { EXAMPLE_LINE, effectiveTelegramLines, gatewayPort, lineEndpoint, type TelegramLine } from '../pbx/telegram-lines.js';
import type { SettingsStore } from '../settings/settings-store.js';
import type { Light, StatusBoard } from '../status/status-board.js';
import { renderPage } from './page.js';

/** What the Dialplan page and GET /api/v1/dialplan read. */
export interface DialplanDeps {
  publisher: DialplanPublisher;
  handlers: AgiHandlerRegistry;
  settings: SettingsStore;
  status: StatusBoard;
  /** `agi://host:port` as the dialplan reaches the FastAGI server. */
  fastAgiUrl: () => string;
  /** The absolute path of tgpbx's agi/ folder (for `AGI(/path/agi/<handler>)`). */
  agiDir: string;
  /** The Telegram provider's numbers as lines; when there are none, the interim setting names the lines. */
  providerLines: () => TelegramLine[];
}

/** Everything an admin needs to wire tgpbx into Asterisk, as the page and the API show it. */
export interface DialplanOverview {
  path: string;
  includeLine: string;
  text: string;
  reloadPending: boolean;
  problem: string | null;
  fastAgi: { url: string; light: Light; detail: string };
  lines: TelegramLine[];
  lineProblems: string[];
  pjsip: { lineId: number; phone: string; endpoint: string; gateway: string; text: string }[];
  /** The sections of line 1, shown while there is no line yet. */
  pjsipTemplate: string;
  hooks: { name: string; summary: string; fastAgi: string; script: string }[];
  mikopbxHooks: { hook: string; returns: string; text: string }[];
}

/** Collects the overview from the publisher's last text, the settings and the status board. */
export function describeDialplan(deps: DialplanDeps): DialplanOverview {
  const state = deps.publisher.current;
  const { lines, problems } = effectiveTelegramLines(deps.settings.get('dialplan.telegram_lines'), deps.providerLines());
  const url = deps.fastAgiUrl();
  const light = deps.status.get('fastagi');
  const texts = mikopbxHookTexts(state.text, lines);
  return {
    path: state.path,
    includeLine: `#include ${state.path}`,
    text: state.text,
    reloadPending: state.reloadPending,
    problem: state.problem,
    fastAgi: { url, light: light?.light ?? 'off', detail: light?.detail ?? 'not started' },
    lines,
    lineProblems: problems,
    pjsip: lines.map((l) => ({
      lineId: l.id,
      phone: l.phone,
      endpoint: lineEndpoint(l.id),
      gateway: `127.0.0.1:${gatewayPort(l.id)}`,
      text: pjsipLineSnippet(l),
    })),
    pjsipTemplate: pjsipLineSnippet(EXAMPLE_LINE),
    hooks: deps.handlers.list().map((h) => ({ name: h.name, summary: h.summary, fastAgi: `${url}/${h.name}`, script: `${deps.agiDir}/${h.name}` })),
    mikopbxHooks: MIKOPBX_HOOKS.map((h) => ({ ...h, text: texts[h.hook] ?? '' })),
  };
}

/**
 * The Dialplan page: the FastAGI hooks, the generated include with the line that wires it
 * into extensions.conf, the PJSIP provider sections of each Telegram line (or the template
 * of line 1 while there is none), the MikoPBX hooks, each with a copy button; and a form
 * that writes the include again and asks Asterisk to reload it.
 */
export const dialplanRoutes: FastifyPluginAsync<DialplanDeps> = async (app, deps) => {
  app.get('/dialplan', async (req, reply) => {
    const query = req.query as Record<string, string | undefined>;
    return renderPage(req, reply, 'dialplan/dialplan.ejs', {
      title: 'Dialplan',
      overview: describeDialplan(deps),
      published: 'published' in query,
    });
  });

  app.post('/dialplan/publish', async (_req, reply) => {
    await deps.publisher.publish();
    return reply.redirect('/dialplan?published');
  });
};
