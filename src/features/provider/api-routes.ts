import type { FastifyPluginAsync } from 'fastify';
import { SettingsValidationError, type SettingsStore } from '../../settings/settings-store.js';
import { requireAdminToken } from '../../web/api-auth.js';
import { NumberInputError } from './numbers-store.js';
import { findNumber, loginStepOf, providerState, runLoginStep } from './provider-actions.js';
import type { Provider } from './provider.js';
import { providerText } from './texts.js';

export interface ProviderApiDeps {
  provider: Provider;
  settings: SettingsStore;
  adminToken: string | null;
}

/**
 * The Telegram provider over REST, under /api/v1/provider (bearer token): the state of
 * every number and component (the page's data), the provider settings (secrets masked),
 * add and remove numbers, and the login steps of a client or gateway.
 */
export const providerApiRoutes: FastifyPluginAsync<ProviderApiDeps> = async (api, { provider, settings, adminToken }) => {
  api.addHook('onRequest', requireAdminToken(adminToken));

  const settingsJson = () => ({
    settings: settings.list().filter((s) => s.section === 'provider'),
    texts: { keyboard: providerText(settings, 'keyboard'), business_card: providerText(settings, 'business_card'), auto_reply: providerText(settings, 'auto_reply') },
  });

  api.get('/provider', async () => providerState(provider));

  api.get('/provider/settings', async () => settingsJson());

  api.put('/provider/settings', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const foreign = Object.keys(body).filter((k) => !k.startsWith('provider.'));
    if (foreign.length) return reply.code(400).send({ error: `not a provider setting: ${foreign.join(', ')}` });
    try {
      const changed = await settings.update(body);
      return { changed, ...settingsJson() };
    } catch (err) {
      if (err instanceof SettingsValidationError) return reply.code(400).send({ error: 'invalid settings', problems: err.problems });
      throw err;
    }
  });

  api.post('/provider/numbers', async (req, reply) => {
    const phone = (req.body as { phone?: unknown } | null)?.phone;
    try {
      const number = await provider.addNumber(typeof phone === 'string' ? phone : '');
      return reply.code(201).send(number);
    } catch (err) {
      if (err instanceof NumberInputError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });

  api.get('/provider/numbers/:id', async (req, reply) => findNumber(provider, req.params as { id: string }) ?? reply.code(404).send({ error: 'no such Telegram number' }));

  api.delete('/provider/numbers/:id', async (req, reply) => {
    const number = findNumber(provider, req.params as { id: string });
    if (!number) return reply.code(404).send({ error: 'no such Telegram number' });
    await provider.removeNumber(number.id);
    return reply.code(204).send();
  });

  api.post('/provider/numbers/:id/:kind/:step', async (req, reply) => {
    const params = req.params as { id: string; kind: string; step: string };
    const number = findNumber(provider, params);
    const step = loginStepOf(params.step);
    if (!number) return reply.code(404).send({ error: 'no such Telegram number' });
    if (params.kind !== 'client' && params.kind !== 'gateway') return reply.code(404).send({ error: 'the component is client or gateway (the bot has /provider/bot/restart)' });
    if (!step) return reply.code(404).send({ error: 'the step is authorize, code, password, name, cancel or logout' });
    const view = await runLoginStep(provider.account(number.id, params.kind), step, req.body as Record<string, unknown>);
    return reply.code(view.error ? 422 : 200).send({ kind: params.kind, ...view });
  });

  api.post('/provider/bot/restart', async () => {
    await provider.restartBot();
    return providerState(provider);
  });
};
