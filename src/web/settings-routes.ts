import type { FastifyPluginAsync } from 'fastify';
import { SettingsValidationError, type SettingsStore } from '../settings/settings-store.js';
import { renderPage } from './page.js';

/**
 * The Settings page: every catalogued setting in one form. Secrets show as `••••1234`;
 * leaving a secret field unchanged keeps it. Errors are shown next to their field.
 */
export const settingsRoutes: FastifyPluginAsync<{ settings: SettingsStore }> = async (app, { settings }) => {
  app.get('/settings', async (req, reply) =>
    renderPage(req, reply, 'settings/settings.ejs', { title: 'Settings', settings: settings.list().filter((s) => !s.section), problems: {}, saved: 'saved' in (req.query as object) }),
  );

  app.post('/settings', async (req, reply) => {
    const body = { ...(req.body as Record<string, string>) };
    delete body._csrf;
    const clear = Object.keys(body).filter((k) => k.startsWith('clear:')).map((k) => k.slice('clear:'.length));
    for (const k of Object.keys(body)) if (k.startsWith('clear:')) delete body[k];
    try {
      await settings.update(body);
      for (const key of clear) await settings.clear(key as never);
    } catch (err) {
      if (!(err instanceof SettingsValidationError)) throw err;
      return renderPage(req, reply.code(400), 'settings/settings.ejs', { title: 'Settings', settings: settings.list().filter((s) => !s.section), problems: err.problems, saved: false });
    }
    return reply.redirect('/settings?saved');
  });
};
