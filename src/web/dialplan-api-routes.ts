import type { FastifyPluginAsync } from 'fastify';
import { requireAdminToken } from './api-auth.js';
import { describeDialplan, type DialplanDeps } from './dialplan-routes.js';

/**
 * GET /api/v1/dialplan (see docs/API.md): the generated include, the PJSIP sections of the
 * Telegram lines and the text of each MikoPBX hook, as JSON; with `Accept: text/plain`
 * just the include's text. Bearer token as every /api/v1 route.
 */
export const dialplanApiRoutes: FastifyPluginAsync<DialplanDeps & { adminToken: string | null }> = async (app, deps) => {
  app.addHook('onRequest', requireAdminToken(deps.adminToken));

  app.get('/dialplan', async (req, reply) => {
    const overview = describeDialplan(deps);
    const accept = req.headers.accept ?? '';
    if (accept.includes('text/plain') && !accept.includes('application/json')) {
      return reply.type('text/plain; charset=utf-8').send(overview.text);
    }
    return {
      path: overview.path,
      fastAgi: overview.fastAgi.url,
      reloadPending: overview.reloadPending,
      problem: overview.problem,
      dialplan: overview.text,
      lines: overview.lines,
      lineProblems: overview.lineProblems,
      pjsip: overview.pjsip,
      hooks: overview.hooks,
      mikopbxHooks: Object.fromEntries(overview.mikopbxHooks.map((h) => [h.hook, h.text])),
    };
  });
};
