import type { FastifyPluginAsync } from 'fastify';
import { SettingsValidationError, type SettingsStore } from '../settings/settings-store.js';
import type { HealthReport } from '../status/health.js';
import { requireAdminToken } from './api-auth.js';

interface ApiDeps {
  settings: SettingsStore;
  health: () => Promise<HealthReport>;
  adminToken: string | null;
}

/**
 * The JSON REST API under /api/v1 (see docs/API.md). Every request carries
 * `Authorization: Bearer <TGPBX_ADMIN_TOKEN>`; with no token configured the API is off.
 */
export const apiRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.addHook('onRequest', requireAdminToken(deps.adminToken));

  app.get('/status', async () => deps.health());

  app.get('/settings', async () => ({ settings: deps.settings.list() }));

  app.patch('/settings', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return reply.code(400).send({ error: 'send a JSON object of setting keys and values' });
    try {
      const changed = await deps.settings.update(body as Record<string, unknown>);
      return { changed, settings: deps.settings.list() };
    } catch (err) {
      if (err instanceof SettingsValidationError) return reply.code(400).send({ error: 'invalid settings', problems: err.problems });
      throw err;
    }
  });
};
