import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { SettingsValidationError, type SettingsStore } from '../../settings/settings-store.js';
import { eventStreams } from '../../web/event-stream.js';
import { renderPage } from '../../web/page.js';
import { providerApiRoutes } from './api-routes.js';
import { NumberInputError } from './numbers-store.js';
import type { NumberView, Provider } from './provider.js';
import { ACCOUNT_KINDS } from './session-dirs.js';
import { findNumber, loginStepOf, providerState, runLoginStep } from './provider-actions.js';
import { defaultTexts } from './texts.js';

export interface ProviderRoutesDeps {
  provider: Provider;
  settings: SettingsStore;
  adminToken: string | null;
}

interface PageTrouble {
  problem?: string;
  settingsProblems?: Record<string, string>;
  addProblem?: string;
  addValue?: string;
}

/**
 * The Telegram provider page (GET /provider): App credentials, bot token and texts; the
 * numbers with their SIP line and the three components (gateway, client, bot), each with
 * its light, what Telegram asks next and the form to answer; add and remove numbers.
 * Every action is a form (CSRF, POST-redirect-GET); /provider/events keeps the lights live
 * (server-sent events). Registers the REST API too (./api-routes.ts).
 */
export const providerRoutes: FastifyPluginAsync<ProviderRoutesDeps> = async (app, deps) => {
  const { provider, settings } = deps;
  const streams = eventStreams(app);

  const page = async (req: FastifyRequest, reply: FastifyReply, trouble: PageTrouble = {}) => {
    reply.header('cache-control', 'no-store');
    const language = settings.get('general.language');
    const numbers = provider.list();
    return renderPage(req, reply, 'provider/provider.ejs', {
      title: 'Telegram provider',
      currentPath: '/provider',
      settings: settings.list().filter((s) => s.section === 'provider'),
      defaults: defaultTexts(language),
      summary: provider.summary(),
      numbers,
      qrCodes: await qrCodesOf(numbers),
      saved: (req.query as Record<string, string>).saved ?? null,
      ...trouble,
    });
  };

  app.get('/provider', (req, reply) => page(req, reply));

  app.get('/provider/events', (req, reply) =>
    streams.open(req, reply, (send) => {
      const changed = () => send('provider', providerState(provider));
      changed();
      provider.on('change', changed);
      return () => provider.off('change', changed);
    }),
  );

  app.post('/provider/settings', async (req, reply) => {
    const body = { ...(req.body as Record<string, string>) };
    delete body._csrf;
    const clear = Object.keys(body).filter((k) => k.startsWith('clear:')).map((k) => k.slice('clear:'.length));
    for (const k of Object.keys(body)) if (k.startsWith('clear:')) delete body[k];
    const foreign = Object.keys(body).filter((k) => !k.startsWith('provider.'));
    if (foreign.length) return page(req, reply.code(400), { problem: `not a provider setting: ${foreign.join(', ')}` });
    try {
      await settings.update(body);
      for (const key of clear) if (key.startsWith('provider.')) await settings.clear(key as never);
    } catch (err) {
      if (!(err instanceof SettingsValidationError)) throw err;
      return page(req, reply.code(400), { settingsProblems: err.problems });
    }
    return reply.redirect('/provider?saved=settings');
  });

  app.post('/provider/numbers', async (req, reply) => {
    const phone = String((req.body as Record<string, string>).phone ?? '');
    try {
      const number = await provider.addNumber(phone);
      return reply.redirect(`/provider?saved=added#line-${number.id}`);
    } catch (err) {
      if (!(err instanceof NumberInputError)) throw err;
      return page(req, reply.code(400), { addProblem: err.message, addValue: phone });
    }
  });

  /** Without JavaScript the Remove button leads here: a page that asks before it removes. */
  app.get('/provider/numbers/:id/remove', async (req, reply) => {
    const number = findNumber(provider, req.params as { id: string });
    if (!number) return page(req, reply.code(404), { problem: 'no such Telegram number' });
    return renderPage(req, reply, 'provider/remove.ejs', { title: 'Remove a Telegram number', currentPath: '/provider', number });
  });

  app.post('/provider/numbers/:id/remove', async (req, reply) => {
    const number = findNumber(provider, req.params as { id: string });
    if (!number) return page(req, reply.code(404), { problem: 'no such Telegram number' });
    await provider.removeNumber(number.id);
    return reply.redirect('/provider?saved=removed');
  });

  app.post('/provider/bot/restart', async (_req, reply) => {
    await provider.restartBot();
    return reply.redirect('/provider#bot');
  });

  app.post('/provider/numbers/:id/:kind/:step', async (req, reply) => {
    const params = req.params as { id: string; kind: string; step: string };
    const number = findNumber(provider, params);
    const step = loginStepOf(params.step);
    if (!number || !step || (params.kind !== 'client' && params.kind !== 'gateway')) return page(req, reply.code(404), { problem: 'no such Telegram number or step' });
    await runLoginStep(provider.account(number.id, params.kind), step, req.body as Record<string, string>);
    return reply.redirect(`/provider#line-${number.id}-${params.kind}`);
  });

  await app.register(providerApiRoutes, { prefix: '/api/v1', provider, settings, adminToken: deps.adminToken });
};

/** The QR codes of the components waiting for one to be scanned ("<line>-<kind>" -> SVG), drawn server-side. */
async function qrCodesOf(numbers: NumberView[]): Promise<Record<string, string>> {
  const codes: Record<string, string> = {};
  for (const n of numbers) {
    for (const kind of ACCOUNT_KINDS) {
      const c = n.components[kind];
      if (c.phase === 'qr' && c.prompt) codes[`${n.id}-${kind}`] = await QRCode.toString(c.prompt, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
    }
  }
  return codes;
}
