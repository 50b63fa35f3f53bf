import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { MIN_PASSWORD_LENGTH, type AdminAuth } from './admin-auth.js';
import { renderPage, unsignedCookie } from './page.js';

export const SESSION_COOKIE = 'tgpbx_session';
const MAX_FAILURES = 5;
const LOCKOUT_MS = 15 * 60_000;

/** Only same-site paths may be a redirect target after login (no open redirect). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)/.test(next) ? next : '/status';
}

/**
 * First visit (choose the admin password), login and logout. Failed logins are counted
 * per client address; after five in a row the address waits fifteen minutes.
 */
export const authRoutes: FastifyPluginAsync<{ auth: AdminAuth; secureCookies: boolean }> = async (app, { auth, secureCookies }) => {
  const failures = new Map<string, { count: number; until: number }>();
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: secureCookies, signed: true, maxAge: 12 * 3600 };

  const openSession = async (reply: import('fastify').FastifyReply) => {
    reply.setCookie(SESSION_COOKIE, await auth.createSession(), cookieOptions);
  };

  app.get('/setup', async (req, reply) => {
    if (auth.hasPassword()) return reply.redirect('/login');
    return renderPage(req, reply, 'auth/setup.ejs', { title: 'Welcome to tgpbx', error: null, minLength: MIN_PASSWORD_LENGTH });
  });

  app.post('/setup', async (req, reply) => {
    if (auth.hasPassword()) return reply.redirect('/login');
    const body = z.object({ password: z.string().default(''), confirm: z.string().default('') }).parse(req.body ?? {});
    let error: string | null = null;
    if (body.password.length < MIN_PASSWORD_LENGTH) error = `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
    else if (body.password !== body.confirm) error = 'The two passwords differ.';
    if (error) return renderPage(req, reply.code(400), 'auth/setup.ejs', { title: 'Welcome to tgpbx', error, minLength: MIN_PASSWORD_LENGTH });
    await auth.setPassword(body.password);
    await openSession(reply);
    return reply.redirect('/status');
  });

  app.get('/login', async (req, reply) => {
    if (!auth.hasPassword()) return reply.redirect('/setup');
    if (req.isAdmin) return reply.redirect(safeNext((req.query as Record<string, unknown>).next));
    return renderPage(req, reply, 'auth/login.ejs', { title: 'Log in', error: null, next: safeNext((req.query as Record<string, unknown>).next) });
  });

  app.post('/login', async (req, reply) => {
    const body = z.object({ password: z.string().default(''), next: z.string().optional() }).parse(req.body ?? {});
    const next = safeNext(body.next);
    const client = req.ip;
    const record = failures.get(client);
    if (record && record.count >= MAX_FAILURES && record.until > Date.now()) {
      const minutes = Math.ceil((record.until - Date.now()) / 60_000);
      return renderPage(req, reply.code(429), 'auth/login.ejs', { title: 'Log in', error: `Too many wrong passwords. Try again in ${minutes} min.`, next });
    }
    if (!(await auth.verify(body.password))) {
      const count = (record && record.until > Date.now() ? record.count : 0) + 1;
      failures.set(client, { count, until: Date.now() + LOCKOUT_MS });
      return renderPage(req, reply.code(401), 'auth/login.ejs', { title: 'Log in', error: 'Wrong password.', next });
    }
    failures.delete(client);
    await openSession(reply);
    return reply.redirect(next);
  });

  app.post('/logout', async (req, reply) => {
    await auth.endSession(unsignedCookie(req, SESSION_COOKIE));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login');
  });
};
