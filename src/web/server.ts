import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import ejs from 'ejs';
import type { Logger } from '../log/logger.js';
import type { SecretScrubber } from '../log/secret-scrubber.js';
import type { SettingsStore } from '../settings/settings-store.js';
import type { Metrics } from '../status/metrics.js';
import type { HealthReport } from '../status/health.js';
import type { StatusBoard } from '../status/status-board.js';
import { AdminAuth } from './admin-auth.js';
import { authRoutes, SESSION_COOKIE } from './auth-routes.js';
import { apiRoutes } from './api-routes.js';
import { statusRoutes } from './status-routes.js';
import { NAVIGATION, unsignedCookie } from './page.js';
import { settingsRoutes } from './settings-routes.js';
import { dialplanApiRoutes } from './dialplan-api-routes.js';
import { dialplanRoutes, type DialplanDeps } from './dialplan-routes.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Everything the web layer needs; features add their route plugins to `features`. */
export interface WebDeps {
  logger: Logger;
  scrubber: SecretScrubber;
  settings: SettingsStore;
  status: StatusBoard;
  metrics: Metrics;
  auth: AdminAuth;
  health: () => Promise<HealthReport>;
  adminToken: string | null;
  /** Secret for signing cookies (kept in the database, created on first start). */
  cookieSecret: string;
  /** Set the Secure flag on cookies (when the PBX serves tgpbx over HTTPS). */
  secureCookies?: boolean;
  features?: { prefix: string; plugin: FastifyPluginAsync }[];
  /** The dialplan hooks (Dialplan page, GET /api/v1/dialplan). */
  dialplan?: DialplanDeps;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** True when the request carries a valid admin session cookie. */
    isAdmin: boolean;
  }
}

/** Pages anyone may open: the login and first-visit pages, static files, probes for supervisors; /api has its own token. */
function isPublic(url: string): boolean {
  const p = url.split('?')[0]!;
  return ['/login', '/setup'].includes(p) || needsNoSession(p);
}

/** Requests that never look at the admin session (no page around them): no session lookup for them. */
function needsNoSession(path: string): boolean {
  return path === '/health' || path === '/metrics' || path.startsWith('/static/') || path.startsWith('/api/');
}

/**
 * Builds the HTTP server: security headers (helmet), cookies, CSRF on every form POST,
 * admin login for pages, bearer token for /api/v1, EJS views from views/, static files
 * from public/, and the route plugins of the web layer and the features.
 */
export async function createWebServer(deps: WebDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, trustProxy: '127.0.0.1', bodyLimit: 1_048_576 });
  app.decorateRequest('isAdmin', false);

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      // No upgrade-insecure-requests: PBX web UIs are often plain HTTP on a LAN address.
      directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], formAction: ["'self'"], upgradeInsecureRequests: null },
    },
  });
  await app.register(fastifyCookie, { secret: deps.cookieSecret });
  await app.register(fastifyFormbody);
  await app.register(fastifyCsrf, {
    cookieOpts: { signed: true, httpOnly: true, sameSite: 'strict', path: '/', secure: deps.secureCookies ?? false },
    getToken: (req: FastifyRequest) => (req.body as Record<string, string> | undefined)?._csrf,
  });
  await app.register(fastifyView, { engine: { ejs }, root: path.join(projectRoot, 'views'), defaultContext: { nav: NAVIGATION } });
  await app.register(fastifyStatic, { root: path.join(projectRoot, 'public'), prefix: '/static/' });

  app.addHook('onRequest', async (req, reply) => {
    if (needsNoSession(req.url.split('?')[0]!)) return;
    req.isAdmin = await deps.auth.validSession(unsignedCookie(req, SESSION_COOKIE));
    if (req.isAdmin || isPublic(req.url)) return;
    if (!deps.auth.hasPassword()) return reply.redirect('/setup');
    if (req.method === 'GET' && !req.url.startsWith('/status/events')) return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`);
    return reply.code(401).send({ error: 'log in first' });
  });
  // Every state-changing form is checked for its CSRF token (the REST API uses a bearer token instead).
  app.addHook('preHandler', (req, reply, done) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.url.startsWith('/api/')) return done();
    app.csrfProtection(req, reply, done);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const code = err.statusCode ?? 500;
    if (err.code?.startsWith('FST_CSRF')) {
      return reply.code(403).type('text/plain').send('This form has expired or was not sent by tgpbx. Reload the page and try again.');
    }
    if (code >= 500) deps.logger.error({ err: deps.scrubber.scrub(err.message), url: req.routeOptions.url }, 'web request failed');
    return reply.code(code).type('text/plain').send(code >= 500 ? 'Internal error: see the tgpbx log.' : deps.scrubber.scrub(err.message));
  });

  await app.register(authRoutes, { auth: deps.auth, secureCookies: deps.secureCookies ?? false });
  await app.register(statusRoutes, deps);
  await app.register(settingsRoutes, { settings: deps.settings });
  await app.register(apiRoutes, { prefix: '/api/v1', ...deps });
  if (deps.dialplan) await app.register(dialplanRoutes, deps.dialplan).register(dialplanApiRoutes, { prefix: '/api/v1', adminToken: deps.adminToken, ...deps.dialplan });
  for (const feature of deps.features ?? []) await app.register(feature.plugin, { prefix: feature.prefix });
  return app;
}

/** A random secret for signing cookies, created once per installation. */
export function newCookieSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}
