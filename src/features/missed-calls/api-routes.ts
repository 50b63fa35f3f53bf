import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { requireAdminToken } from '../../web/api-auth.js';
import { MissedCallsAdminError, type KeyedScope, type MissedCallsAdmin, type SubscriberEntry } from './admin.js';
import { addSubscriberBody, flagBody, patchSubscriberBody, pathId, problemText, scopeBody } from './admin-input.js';
import { activationCommand, deepLink, STATUS_WORDS } from './admin-view.js';

/** What the REST plugin of missed-call notices needs. */
export interface MissedCallsApiDeps {
  admin: MissedCallsAdmin;
  adminToken: string | null;
  /** The default bot's username once Telegram confirmed its token, for t.me links. */
  botUsername: () => string | null;
}

/** A subscriber as the API returns it. */
function subscriberJson(e: SubscriberEntry) {
  const s = e.subscriber;
  return {
    id: s.id,
    name: s.name,
    telegram_name: s.telegramName,
    chat_id: s.chatId,
    scope: { kind: e.scope.kind, id: e.scope.id, label: e.scope.label, exists: e.scope.exists },
    status: s.status,
    status_changed_at: s.statusChangedAt,
    display_status: e.display,
    display_status_text: STATUS_WORDS[e.display],
    display_status_since: e.displaySince,
    refusal: e.refusal,
    created_at: s.createdAt,
  };
}

/** A scope with its full key, the /activate command and the t.me link. */
function keyJson(k: KeyedScope, bot: string | null) {
  return {
    kind: k.scope.kind,
    id: k.scope.id,
    name: k.name,
    label: k.label,
    key: k.key,
    activate: activationCommand(k.key),
    link: bot ? deepLink(bot, k.key) : null,
    subscribers: k.subscribers,
  };
}

/** Answers a refused admin action: 400 with the reason, or 404. */
function refuse(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof MissedCallsAdminError) return reply.code(err.kind === 'not_found' ? 404 : 400).send({ error: err.message });
  throw err;
}

/**
 * Missed-call notices over REST, under /api/v1/missed-calls (bearer token): subscribers
 * (list, add, rename, switch on/off, remove), the activation keys in full (the API is
 * admin-only) and their revocation, and the groups' notify flag.
 */
export const missedCallsApiRoutes: FastifyPluginAsync<MissedCallsApiDeps> = async (api, { admin, adminToken, botUsername }) => {
  api.addHook('onRequest', requireAdminToken(adminToken));

  api.get('/missed-calls/subscribers', async () => ({ subscribers: (await admin.subscribers()).map(subscriberJson) }));

  api.post('/missed-calls/subscribers', async (req, reply) => {
    const parsed = addSubscriberBody.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: problemText(parsed.error) });
    try {
      const id = await admin.addSubscriber({ name: parsed.data.name, chatId: parsed.data.chat_id, scope: parsed.data.scope });
      return reply.code(201).send({ id, subscriber: subscriberJson(await admin.subscriber(id)) });
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.patch('/missed-calls/subscribers/:id', async (req, reply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return reply.code(404).send({ error: 'No such subscriber.' });
    const parsed = patchSubscriberBody.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: problemText(parsed.error) });
    try {
      await admin.subscriber(id);
      if (parsed.data.name !== undefined) await admin.rename(id, parsed.data.name);
      if (parsed.data.enabled !== undefined) await admin.setEnabled(id, parsed.data.enabled);
      return { subscriber: subscriberJson(await admin.subscriber(id)) };
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.delete('/missed-calls/subscribers/:id', async (req, reply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return reply.code(404).send({ error: 'No such subscriber.' });
    try {
      await admin.remove(id);
      return reply.code(204).send();
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.get('/missed-calls/keys', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    const bot = botUsername();
    const [groups, extensions] = await Promise.all([admin.groups(), admin.extensions()]);
    return { keys: [...groups.map((g) => ({ ...keyJson(g, bot), notify: g.notify })), ...extensions.map((e) => keyJson(e, bot))] };
  });

  api.post('/missed-calls/keys/revoke', async (req, reply) => {
    const parsed = scopeBody.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: problemText(parsed.error) });
    try {
      const key = await admin.revokeKey(parsed.data);
      reply.header('cache-control', 'no-store');
      const bot = botUsername();
      return { kind: parsed.data.kind, id: parsed.data.id, key, activate: activationCommand(key), link: bot ? deepLink(bot, key) : null };
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.put('/missed-calls/groups/:id/flag', async (req, reply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return reply.code(404).send({ error: 'No such group.' });
    const parsed = flagBody.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: problemText(parsed.error) });
    try {
      const changed = await admin.setGroupFlag(id, parsed.data.notify);
      return { id, notify: parsed.data.notify, changed };
    } catch (err) {
      return refuse(reply, err);
    }
  });
};
