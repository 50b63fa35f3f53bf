import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { mask } from '../../log/secret-scrubber.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { StatusBoard } from '../../status/status-board.js';
import type { BotRegistry } from '../../telegram/bots.js';
import { customBotId, CustomBotError, CustomBotStore, type CustomBot, type TokenCheck } from '../../telegram/custom-bots.js';
import { DEFAULT_BOT_ID } from '../../telegram/outbox.js';
import { requireAdminToken } from '../../web/api-auth.js';
import { renderPage } from '../../web/page.js';

/** What the Bots page and its REST API need. */
export interface BotsRoutesDeps {
  customBots: CustomBotStore;
  bots: Pick<BotRegistry, 'get'>;
  status: StatusBoard;
  settings: SettingsStore;
  adminToken: string | null;
  /** getMe against the configured Bot API root. */
  checkToken: (token: string) => Promise<TokenCheck>;
  /** The bot that sends missed-call notices now. */
  servingBotId: () => string;
}

type Light = 'green' | 'orange' | 'red' | 'off';

/** A bot as the page and the API show it: the token only masked. */
interface BotView {
  id: number | null;
  bot_id: string;
  name: string;
  username: string | null;
  token_masked: string;
  active: boolean;
  serving: boolean;
  light: Light;
  detail: string;
}

function defaultView(deps: BotsRoutesDeps): BotView {
  const token = deps.settings.get('telegram.bot_token');
  const light = deps.status.get(`bot:${DEFAULT_BOT_ID}`);
  return {
    id: null,
    bot_id: DEFAULT_BOT_ID,
    name: 'default',
    username: deps.bots.get(DEFAULT_BOT_ID)?.me?.username ?? null,
    token_masked: mask(token),
    active: Boolean(token),
    serving: deps.servingBotId() === DEFAULT_BOT_ID,
    light: token ? ((light?.light as Light | undefined) ?? 'orange') : 'off',
    detail: token ? (light?.detail ?? 'starting') : 'no token set (Settings)',
  };
}

function customView(deps: BotsRoutesDeps, b: CustomBot): BotView {
  const botId = customBotId(b.id);
  const light = b.active ? deps.status.get(`bot:${botId}`) : undefined;
  return {
    id: b.id,
    bot_id: botId,
    name: b.name,
    username: b.username || null,
    token_masked: mask(b.token),
    active: b.active,
    serving: deps.servingBotId() === botId,
    light: b.active ? ((light?.light as Light | undefined) ?? 'orange') : 'off',
    detail: b.active ? (light?.detail ?? 'starting') : 'switched off',
  };
}

/** Adds a bot after Telegram accepted its token; throws CustomBotError with the reason. */
async function addBot(deps: BotsRoutesDeps, body: unknown): Promise<CustomBot> {
  const input = (body ?? {}) as Record<string, unknown>;
  const { name, token } = CustomBotStore.validate({ name: input.name, token: input.token });
  if (token === deps.settings.get('telegram.bot_token')) throw new CustomBotError('token: this is the default bot (Settings)');
  if (deps.customBots.list().some((b) => b.token === token)) throw new CustomBotError('token: this bot is already in the list');
  const check = await deps.checkToken(token);
  if (!check.ok) throw new CustomBotError(`token: ${check.reason}`);
  return deps.customBots.add({ name, token, username: check.username });
}

function idOf(req: FastifyRequest): number | null {
  const raw = (req.params as { id: string }).id;
  return /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : null;
}

/**
 * The Bots page of missed-call notices (GET /missed-calls/bots): the default bot from
 * Settings with its light, the admin's own bots (name, @username, masked token, Active/Off,
 * light and reason), forms to add (token checked with getMe), activate, switch off and
 * remove (CSRF, POST-redirect-GET). At most one custom bot is active; it sends the notices
 * while its light is green, else the default bot does. REST under /api/v1/missed-calls/bots.
 */
export const botsRoutes: FastifyPluginAsync<BotsRoutesDeps> = async (app, deps) => {
  const page = (req: FastifyRequest, reply: FastifyReply, trouble: { problem?: string; add?: { name: string; problem: string } } = {}) =>
    renderPage(req, reply, 'missed-calls/bots.ejs', {
      title: 'Telegram bots',
      currentPath: '/missed-calls',
      defaultBot: defaultView(deps),
      customBots: deps.customBots.list().map((b) => customView(deps, b)),
      saved: 'saved' in (req.query as object),
      problem: trouble.problem ?? null,
      add: trouble.add ?? { name: '', problem: '' },
    });

  const action = (verb: 'activate' | 'deactivate' | 'remove') => async (req: FastifyRequest, reply: FastifyReply) => {
    const id = idOf(req);
    try {
      if (id === null) throw new CustomBotError('No such bot.', 'not_found');
      await deps.customBots[verb](id);
    } catch (err) {
      if (err instanceof CustomBotError) return page(req, reply.code(err.kind === 'not_found' ? 404 : 400), { problem: err.message });
      throw err;
    }
    return reply.redirect('/missed-calls/bots?saved');
  };

  app.get('/missed-calls/bots', async (req, reply) => page(req, reply));
  app.post('/missed-calls/bots', async (req, reply) => {
    try {
      await addBot(deps, req.body);
    } catch (err) {
      const name = String(((req.body ?? {}) as Record<string, unknown>).name ?? '');
      if (err instanceof CustomBotError) return page(req, reply.code(400), { add: { name, problem: err.message } });
      throw err;
    }
    return reply.redirect('/missed-calls/bots?saved');
  });
  app.post('/missed-calls/bots/:id/activate', action('activate'));
  app.post('/missed-calls/bots/:id/deactivate', action('deactivate'));
  app.post('/missed-calls/bots/:id/remove', action('remove'));

  await app.register(
    async (api) => {
      api.addHook('onRequest', requireAdminToken(deps.adminToken));
      const refuse = (reply: FastifyReply, err: unknown) => {
        if (err instanceof CustomBotError) return reply.code(err.kind === 'not_found' ? 404 : 400).send({ error: err.message });
        throw err;
      };
      const one = (id: number) => customView(deps, deps.customBots.get(id)!);
      api.get('/missed-calls/bots', async () => ({
        serving: deps.servingBotId(),
        default: defaultView(deps),
        bots: deps.customBots.list().map((b) => customView(deps, b)),
      }));
      api.post('/missed-calls/bots', async (req, reply) => {
        try {
          const bot = await addBot(deps, req.body);
          return reply.code(201).send(one(bot.id));
        } catch (err) {
          return refuse(reply, err);
        }
      });
      for (const verb of ['activate', 'deactivate'] as const) {
        api.post(`/missed-calls/bots/:id/${verb}`, async (req, reply) => {
          const id = idOf(req);
          try {
            if (id === null) throw new CustomBotError('No such bot.', 'not_found');
            await deps.customBots[verb](id);
            return one(id);
          } catch (err) {
            return refuse(reply, err);
          }
        });
      }
      api.delete('/missed-calls/bots/:id', async (req, reply) => {
        const id = idOf(req);
        try {
          if (id === null) throw new CustomBotError('No such bot.', 'not_found');
          await deps.customBots.remove(id);
          return reply.code(204).send();
        } catch (err) {
          return refuse(reply, err);
        }
      });
    },
    { prefix: '/api/v1' },
  );
};
