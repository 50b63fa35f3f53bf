import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { CallHistory, CallQuery } from '../pbx/call-history.js';
import type { PbxDirectory } from '../pbx/pbx-directory.js';
import type { SettingsStore } from '../settings/settings-store.js';
import { requireAdminToken } from './api-auth.js';
import { renderPage } from './page.js';

interface CallHistoryDeps {
  history: CallHistory;
  directory: PbxDirectory;
  settings: SettingsStore;
  adminToken: string | null;
}

const DISPOSITIONS = ['answered', 'missed', 'ended_in_ivr', 'not_answered', 'failed'] as const;

/** The filters of the history, as they arrive in a query string (page form or REST). */
const filterSchema = z.object({
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'from must be a date YYYY-MM-DD').optional().or(z.literal('')),
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'to must be a date YYYY-MM-DD').optional().or(z.literal('')),
  extension: z.string().max(64).optional(),
  group: z.union([z.literal(''), z.coerce.number().int().positive()]).optional(),
  disposition: z.enum(['', ...DISPOSITIONS]).optional(),
  before: z.string().regex(/^\d+_\d+$/, 'before must be a paging cursor').optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

type Filters = z.infer<typeof filterSchema>;

/** Midnight of a calendar day in the PBX time zone, as ms since the epoch. */
function dayStart(date: string, timeZone: string): number {
  const utc = Date.parse(`${date}T00:00:00Z`);
  const shown = new Date(utc).toLocaleString('en-US', { timeZone, hour12: false });
  const offset = Date.parse(`${shown} UTC`) - utc;
  return utc - offset;
}

function toQuery(f: Filters, timeZone: string): CallQuery {
  return {
    from: f.from ? dayStart(f.from, timeZone) : undefined,
    to: f.to ? dayStart(f.to, timeZone) + 86_400_000 : undefined,
    extension: f.extension?.trim() || undefined,
    groupId: typeof f.group === 'number' ? f.group : undefined,
    disposition: f.disposition || undefined,
    before: f.before,
    limit: f.limit ?? 50,
  };
}

/**
 * The call history: a page filtered by date, extension, group and outcome, where a call
 * opens its legs as a timeline; and the same through GET /api/v1/calls[/:id].
 */
export const callHistoryRoutes: FastifyPluginAsync<CallHistoryDeps> = async (app, deps) => {
  const timeZone = () => deps.settings.get('general.timezone');
  const formatTime = () => {
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: timeZone(), dateStyle: 'short', timeStyle: 'medium' });
    return (ms: number | null) => (ms === null || ms === undefined ? '' : fmt.format(new Date(Number(ms))));
  };

  app.get('/calls', async (req, reply) => {
    const parsed = filterSchema.safeParse(req.query);
    const filters: Filters = parsed.success ? parsed.data : {};
    const calls = await deps.history.list(toQuery(filters, timeZone()));
    return renderPage(req, reply.code(parsed.success ? 200 : 400), 'calls/list.ejs', {
      title: 'Calls',
      calls,
      filters,
      problem: parsed.success ? null : parsed.error.issues.map((i) => i.message).join('; '),
      groups: await deps.directory.groups(),
      dispositions: DISPOSITIONS,
      time: formatTime(),
      timeZone: timeZone(),
      olderLink: calls.length === (filters.limit ?? 50) ? olderLink(filters, calls[calls.length - 1]!) : null,
    });
  });

  app.get('/calls/:id', async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const found = Number.isInteger(id) ? await deps.history.get(id) : undefined;
    if (!found) return reply.code(404).type('text/plain').send('No such call.');
    return renderPage(req, reply, 'calls/detail.ejs', { title: `Call ${found.call.caller_number || found.call.linkedid}`, ...found, time: formatTime() });
  });

  await app.register(async (api) => {
    api.addHook('onRequest', requireAdminToken(deps.adminToken));
    api.get('/calls', async (req, reply) => {
      const parsed = filterSchema.safeParse(req.query);
      if (!parsed.success) return reply.code(400).send({ error: 'invalid filters', problems: parsed.error.issues.map((i) => i.message) });
      return { calls: await deps.history.list(toQuery(parsed.data, timeZone())) };
    });
    api.get('/calls/:id', async (req, reply) => {
      const found = await deps.history.get(Number((req.params as { id: string }).id));
      return found ?? reply.code(404).send({ error: 'no such call' });
    });
  }, { prefix: '/api/v1' });
};

function olderLink(f: Filters, last: { started_at: number; id: number }): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '' && k !== 'before') params.set(k, String(v));
  params.set('before', `${last.started_at}_${last.id}`);
  return `/calls?${params}`;
}
