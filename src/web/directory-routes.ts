import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DirectoryError, type PbxDirectory } from '../pbx/pbx-directory.js';
import { requireAdminToken } from './api-auth.js';
import { renderPage } from './page.js';

const groupSchema = z.object({
  name: z.string().default(''),
  /** Members as a list, or as the page's text field: extensions separated by commas or spaces. */
  members: z.union([z.array(z.string()), z.string().transform((s) => s.split(/[\s,;]+/).filter(Boolean))]).default([]),
});
const endpointSchema = z.object({
  endpoint: z.string().default(''),
  kind: z.enum(['extension', 'trunk'], { message: 'kind must be extension or trunk' }),
  name: z.string().max(128).default(''),
});

/**
 * Extensions, trunks and user groups: a page to name extensions, tell trunks from phones
 * and keep departments with their members; the same through /api/v1/endpoints and
 * /api/v1/groups.
 */
export const directoryRoutes: FastifyPluginAsync<{ directory: PbxDirectory; adminToken: string | null }> = async (app, { directory, adminToken }) => {
  const page = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply, problem: string | null = null) =>
    renderPage(req, reply, 'directory/directory.ejs', {
      title: 'Extensions & groups',
      endpoints: await directory.endpoints(),
      groups: await directory.groups(),
      problem,
      saved: 'saved' in (req.query as object),
    });

  app.get('/directory', async (req, reply) => page(req, reply));

  app.post('/directory/endpoints', async (req, reply) => {
    const parsed = endpointSchema.safeParse(req.body);
    if (!parsed.success) return page(req, reply.code(400), parsed.error.issues[0]!.message);
    try {
      await directory.saveEndpoint(parsed.data.endpoint.trim(), parsed.data.kind, parsed.data.name);
    } catch (err) {
      if (err instanceof DirectoryError) return page(req, reply.code(400), err.message);
      throw err;
    }
    return reply.redirect('/directory?saved');
  });

  app.post('/directory/groups', async (req, reply) => {
    const body = req.body as Record<string, string>;
    const parsed = groupSchema.safeParse(body);
    if (!parsed.success) return page(req, reply.code(400), parsed.error.issues[0]!.message);
    try {
      const id = body.id ? Number(body.id) : undefined;
      if (body.delete && id) await directory.deleteGroup(id);
      else await directory.saveGroup({ id, name: parsed.data.name, members: parsed.data.members });
    } catch (err) {
      if (err instanceof DirectoryError) return page(req, reply.code(400), err.message);
      throw err;
    }
    return reply.redirect('/directory?saved');
  });

  await app.register(async (api) => {
    api.addHook('onRequest', requireAdminToken(adminToken));
    const fail = (reply: import('fastify').FastifyReply, err: unknown) => {
      if (err instanceof DirectoryError) return reply.code(400).send({ error: err.message });
      throw err;
    };
    api.get('/endpoints', async () => ({ endpoints: await directory.endpoints() }));
    api.put('/endpoints/:endpoint', async (req, reply) => {
      const parsed = endpointSchema.safeParse({ ...(req.body as object), endpoint: (req.params as { endpoint: string }).endpoint });
      if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues[0]!.message });
      try {
        await directory.saveEndpoint(parsed.data.endpoint, parsed.data.kind, parsed.data.name);
      } catch (err) {
        return fail(reply, err);
      }
      return { endpoints: await directory.endpoints() };
    });
    api.get('/groups', async () => ({ groups: await directory.groups() }));
    api.post('/groups', async (req, reply) => {
      const parsed = groupSchema.safeParse(req.body ?? {});
      if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues[0]!.message });
      try {
        const id = await directory.saveGroup(parsed.data);
        return reply.code(201).send({ id, groups: await directory.groups() });
      } catch (err) {
        return fail(reply, err);
      }
    });
    api.put('/groups/:id', async (req, reply) => {
      const parsed = groupSchema.safeParse(req.body ?? {});
      if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues[0]!.message });
      try {
        await directory.saveGroup({ id: Number((req.params as { id: string }).id), ...parsed.data });
      } catch (err) {
        return fail(reply, err);
      }
      return { groups: await directory.groups() };
    });
    api.delete('/groups/:id', async (req, reply) => {
      const deleted = await directory.deleteGroup(Number((req.params as { id: string }).id));
      return deleted ? reply.code(204).send() : reply.code(404).send({ error: 'no such group' });
    });
  }, { prefix: '/api/v1' });
};
