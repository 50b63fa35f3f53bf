import QRCode from 'qrcode';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { PbxDirectory } from '../../pbx/pbx-directory.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { Database } from '../../storage/database.js';
import { renderPage } from '../../web/page.js';
import { MissedCallsAdminError } from './admin.js';
import { addSubscriberForm, enabledForm, flagForm, pathId, problemsByField, problemText, renameForm, scopeBody } from './admin-input.js';
import { activationCommand, deepLink, maskKey, STATUS_WORDS } from './admin-view.js';
import { missedCallsApiRoutes } from './api-routes.js';
import type { MissedCalls } from './index.js';

/** What the Missed calls page and its REST API need. */
export interface MissedCallsRoutesDeps {
  missedCalls: Pick<MissedCalls, 'store' | 'notifier' | 'admin'>;
  directory: PbxDirectory;
  db: Database;
  settings: SettingsStore;
  adminToken: string | null;
  /** The default bot's username once Telegram confirmed its token (null before), for t.me links. */
  botUsername: () => string | null;
}

/** How a page render went wrong: a message at the top, or problems next to the fields of the add form. */
interface PageProblem {
  problem?: string;
  add?: { values: Record<string, string>; problems: Record<string, string> };
}

/**
 * The Missed calls page (GET /missed-calls): groups with their "notify about missed
 * calls" flag and activation key, extensions with theirs, and the subscribers with their
 * status; each action is a small form (CSRF, POST-redirect-GET with "Saved.", 400 with
 * the page on bad input, 404 for ids that name nothing). Registers the REST API as well
 * (./api-routes.ts). Keys show masked; the full key only sits in the copy button's input
 * and in the /activate text and t.me link handed to users.
 */
export const missedCallsRoutes: FastifyPluginAsync<MissedCallsRoutesDeps> = async (app, deps) => {
  const admin = deps.missedCalls.admin;

  const page = async (req: FastifyRequest, reply: FastifyReply, trouble: PageProblem = {}) => {
    const timeZone = deps.settings.get('general.timezone');
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' });
    const [groups, extensions, subscribers, choices] = await Promise.all([admin.groups(), admin.extensions(), admin.subscribers(), admin.scopeChoices()]);
    const bot = deps.botUsername();
    const handOut = (key: string) => ({ masked: maskKey(key), activate: activationCommand(key), link: bot ? deepLink(bot, key) : null });
    // The page carries activation keys (for the copy buttons): no caches.
    reply.header('cache-control', 'no-store');
    return renderPage(req, reply, 'missed-calls/missed-calls.ejs', {
      title: 'Missed calls',
      // The sidebar marks this page also when a form's answer (400/404) is rendered at the form's URL.
      currentPath: '/missed-calls',
      groups: groups.map((g) => ({ ...g, ...handOut(g.key) })),
      extensions: extensions.map((e) => ({ ...e, ...handOut(e.key) })),
      subscribers,
      choices,
      botUsername: bot,
      statusWords: STATUS_WORDS,
      time: (ms: number) => fmt.format(new Date(ms)),
      timeZone,
      saved: 'saved' in (req.query as object),
      problem: trouble.problem ?? null,
      add: trouble.add ?? { values: {}, problems: {} },
    });
  };

  /** After a change: back to the page (at the section acted on) with "Saved.". */
  const saved = (reply: FastifyReply, section: string) => reply.redirect(`/missed-calls?saved#${section}`);

  /** A refused action: the page again with the message, 400 or 404. */
  const refused = (req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    if (err instanceof MissedCallsAdminError) return page(req, reply.code(err.kind === 'not_found' ? 404 : 400), { problem: err.message });
    throw err;
  };

  /** The subscriber id of a path, or the page with 404. */
  const subscriberId = (req: FastifyRequest) => pathId((req.params as { id: string }).id);
  const noSuchSubscriber = (req: FastifyRequest, reply: FastifyReply) => page(req, reply.code(404), { problem: 'No such subscriber.' });

  app.get('/missed-calls', async (req, reply) => page(req, reply));

  app.post('/missed-calls/groups/:id/flag', async (req, reply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return page(req, reply.code(404), { problem: 'No such group.' });
    const parsed = flagForm.safeParse(req.body ?? {});
    if (!parsed.success) return page(req, reply.code(400), { problem: problemText(parsed.error) });
    try {
      await admin.setGroupFlag(id, parsed.data.notify);
    } catch (err) {
      return refused(req, reply, err);
    }
    return saved(reply, 'groups');
  });

  // A one-time subscription link with its QR code, shown once (not stored for display).
  app.post('/missed-calls/links', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const scope = { kind: body.kind === 'group' ? 'group' : 'extension', id: String(body.id ?? '') } as const;
    const bot = deps.botUsername();
    const label = (await admin.scopeChoices()).find((c) => c.scope.kind === scope.kind && c.scope.id === scope.id)?.label;
    if (!label) return page(req, reply.code(404), { problem: 'There is no such group or extension.' });
    if (!bot) return page(req, reply.code(400), { problem: 'The bot is not connected yet: a link needs its username.' });
    const { token, expiresAt } = await deps.missedCalls.store.createLinkToken(scope);
    const link = deepLink(bot, token);
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: deps.settings.get('general.timezone'), dateStyle: 'medium', timeStyle: 'short' });
    reply.header('cache-control', 'no-store');
    return renderPage(req, reply, 'missed-calls/link.ejs', {
      title: `Subscription link: ${label}`,
      currentPath: '/missed-calls',
      link,
      qrSvg: await QRCode.toString(link, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }),
      expires: fmt.format(new Date(expiresAt)),
      label,
    });
  });

  app.post('/missed-calls/keys/revoke', async (req, reply) => {
    const parsed = scopeBody.safeParse(req.body ?? {});
    if (!parsed.success) return page(req, reply.code(400), { problem: problemText(parsed.error) });
    try {
      await admin.revokeKey(parsed.data);
    } catch (err) {
      return refused(req, reply, err);
    }
    return saved(reply, parsed.data.kind === 'group' ? 'groups' : 'extensions');
  });

  app.post('/missed-calls/subscribers', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const values = { name: String(body.name ?? ''), chat_id: String(body.chat_id ?? ''), scope: String(body.scope ?? '') };
    const parsed = addSubscriberForm.safeParse(body);
    if (!parsed.success) return page(req, reply.code(400), { add: { values, problems: problemsByField(parsed.error) } });
    try {
      await admin.addSubscriber({ name: parsed.data.name, chatId: parsed.data.chat_id, scope: parsed.data.scope });
    } catch (err) {
      if (err instanceof MissedCallsAdminError) return page(req, reply.code(400), { add: { values, problems: { scope: err.message } } });
      throw err;
    }
    return saved(reply, 'subscribers');
  });

  app.post('/missed-calls/subscribers/:id/name', async (req, reply) => {
    const id = subscriberId(req);
    if (id === undefined) return noSuchSubscriber(req, reply);
    const parsed = renameForm.safeParse(req.body ?? {});
    if (!parsed.success) return page(req, reply.code(400), { problem: problemText(parsed.error) });
    try {
      await admin.rename(id, parsed.data.name);
    } catch (err) {
      return refused(req, reply, err);
    }
    return saved(reply, 'subscribers');
  });

  app.post('/missed-calls/subscribers/:id/enabled', async (req, reply) => {
    const id = subscriberId(req);
    if (id === undefined) return noSuchSubscriber(req, reply);
    const parsed = enabledForm.safeParse(req.body ?? {});
    if (!parsed.success) return page(req, reply.code(400), { problem: problemText(parsed.error) });
    try {
      await admin.setEnabled(id, parsed.data.enabled);
    } catch (err) {
      return refused(req, reply, err);
    }
    return saved(reply, 'subscribers');
  });

  app.post('/missed-calls/subscribers/:id/remove', async (req, reply) => {
    const id = subscriberId(req);
    if (id === undefined) return noSuchSubscriber(req, reply);
    try {
      await admin.remove(id);
    } catch (err) {
      return refused(req, reply, err);
    }
    return saved(reply, 'subscribers');
  });

  await app.register(missedCallsApiRoutes, { prefix: '/api/v1', admin, adminToken: deps.adminToken, botUsername: deps.botUsername });
};
