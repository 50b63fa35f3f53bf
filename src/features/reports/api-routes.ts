import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { SettingsStore } from '../../settings/settings-store.js';
import { requireAdminToken } from '../../web/api-auth.js';
import { chatInput, deckKind, limitInput, pathId, peerList, peerName, problemText, rateInput } from './admin-input.js';
import { importDeck } from './deck-import.js';
import type { Reports } from './index.js';
import { LossControlError, type PeerBlock } from './loss-control.js';
import type { LossLimit } from './loss-limits.js';
import { formatMoney } from './money.js';
import { requestedSpan } from './periods.js';
import type { ProfitReport } from './profit.js';
import { ReportChatsError, type ReportChat } from './report-chats.js';

export interface ReportsApiDeps {
  reports: Reports;
  settings: SettingsStore;
  adminToken: string | null;
  /** The largest deck file accepted, in bytes. */
  deckBodyLimit: number;
}

/** Money in JSON: exact micro-units and a decimal string. */
const money = (micro: number) => ({ micro, value: formatMoney(micro, 6) });

function refuse(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof LossControlError || err instanceof ReportChatsError) return reply.code(err.kind === 'not_found' ? 404 : 400).send({ error: err.message });
  throw err;
}

export function chatJson(c: ReportChat) {
  return { id: c.id, chat_id: c.chatId, bot_id: c.botId, title: c.title, status: c.status, peers: c.peers, created_at: c.createdAt, approved_at: c.approvedAt };
}

export function limitJson(l: LossLimit, open: PeerBlock | undefined, stillOverLimit?: boolean) {
  return {
    id: l.id,
    peer: l.peer,
    period: l.period,
    max_loss: money(l.maxLossMicro),
    min_margin_percent: l.minMarginBp === null ? null : l.minMarginBp / 100,
    alert_chat: l.alertChatRowId,
    enabled: l.enabled,
    // still_over_limit false: this period's figures (after a re-rating, say) are no longer over the limit; the block stays until unblocked.
    blocked: open ? { ...blockJson(open), still_over_limit: stillOverLimit ?? true } : null,
  };
}

export function blockJson(b: PeerBlock) {
  return {
    id: b.id,
    limit_id: b.limitId,
    peer: b.peer,
    period: b.period,
    period_start: b.periodStart,
    until: b.until,
    blocked_at: b.blockedAt,
    reason: b.reason,
    cost: money(b.costMicro),
    revenue: money(b.revenueMicro),
    profit: money(b.profitMicro),
    ended_at: b.endedAt,
    ended_by: b.endedBy,
  };
}

export function profitJson(r: ProfitReport) {
  const row = (x: ProfitReport['totals']) => ({ calls: x.calls, billed_seconds: x.seconds, revenue: money(x.revenueMicro), cost: money(x.costMicro), profit: money(x.profitMicro), margin_percent: x.margin });
  return { peer: r.peer, from: r.from, to: r.to, rows: r.rows.map((x) => ({ code: x.code, destination: x.destination, ...row(x) })), totals: row(r.totals) };
}

/**
 * Reports over REST, under /api/v1/reports (bearer token): peers, rate decks (CSV import
 * with the rejected lines, single rates), re-rating a period, the profit report, report
 * chats, loss limits and blocks (with unblock). Money is given as exact micro-units plus
 * a decimal string.
 */
export const reportsApiRoutes: FastifyPluginAsync<ReportsApiDeps> = async (api, { reports, settings, adminToken, deckBodyLimit }) => {
  api.addHook('onRequest', requireAdminToken(adminToken));
  api.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: deckBodyLimit }, (_req, body, done) => done(null, body));
  const tz = () => settings.get('general.timezone');

  api.get('/reports/peers', async () => ({ peers: await reports.peers() }));

  api.get('/reports/decks', async () => ({
    decks: (await reports.decks.list()).map((d) => ({ peer: d.peer, kind: d.kind, version: d.version, updated_at: d.updatedAt, rates: d.rates })),
  }));

  const deckParams = (params: unknown) => {
    const p = params as { peer: string; kind: string };
    const peer = peerName.safeParse(p.peer);
    const kind = deckKind.safeParse(p.kind);
    return peer.success && kind.success ? { peer: peer.data, kind: kind.data } : undefined;
  };

  api.get('/reports/decks/:peer/:kind/rates', async (req, reply) => {
    const deck = deckParams(req.params);
    if (!deck) return reply.code(404).send({ error: 'No such deck.' });
    const q = req.query as { prefix?: string; limit?: string; offset?: string };
    const rates = await reports.decks.rates(deck.peer, deck.kind, { prefix: q.prefix?.replace(/\D/g, ''), limit: Number(q.limit) || 200, offset: Number(q.offset) || 0 });
    return {
      rates: rates.map((r) => ({ id: r.id, prefix: r.prefix, name: r.name, rate: money(r.rateMicro), increments: `${r.firstIncrement}/${r.nextIncrement}`, connection_fee: money(r.connectionFeeMicro), effective_from: r.effectiveFrom })),
    };
  });

  // The whole deck from CSV (text/csv body, or JSON {"csv": "...", "partial": true}). All or
  // nothing: a file with a rejected line stores nothing, unless ?partial=1 (or "partial": true) asks
  // to store its good lines anyway.
  api.put('/reports/decks/:peer/:kind', { bodyLimit: deckBodyLimit }, async (req, reply) => {
    const deck = deckParams(req.params);
    if (!deck) return reply.code(400).send({ error: 'The path is /reports/decks/<peer>/<cost|sell>.' });
    const json = typeof req.body === 'object' && req.body !== null ? (req.body as { csv?: unknown; partial?: unknown }) : undefined;
    const csv = typeof req.body === 'string' ? req.body : typeof json?.csv === 'string' ? json.csv : undefined;
    if (csv === undefined) return reply.code(400).send({ error: 'Send the deck as text/csv, or JSON {"csv": "..."}.' });
    const flag = (req.query as { partial?: string }).partial;
    const partial = json?.partial === true || flag === '1' || flag === 'true' || flag === 'yes';
    const r = await importDeck(reports.decks, { peer: deck.peer, kind: deck.kind, csv, partial, timeZone: tz() });
    const common = { peer: r.peer, kind: r.kind, accepted: r.accepted, rejected: r.rejected, rejected_total: r.rejectedTotal, change: r.change };
    if (r.stored) return { ...common, stored: true, version: r.version, partial: r.partial };
    const error =
      r.why === 'no_lines'
        ? 'No line of the file could be imported; the deck is unchanged.'
        : `${r.rejectedTotal} line(s) rejected: nothing was imported, the deck is unchanged. Fix them, or send again with ?partial=1 to store the ${r.accepted} good line(s) anyway.`;
    return reply.code(400).send({ error, ...common, stored: false });
  });

  api.post('/reports/decks/:peer/:kind/rates', async (req, reply) => {
    const deck = deckParams(req.params);
    if (!deck) return reply.code(400).send({ error: 'The path is /reports/decks/<peer>/<cost|sell>/rates.' });
    const parsed = rateInput(tz()).safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: problemText(parsed.error) });
    const r = parsed.data;
    const replaces = (req.body as { replaces?: unknown } | undefined)?.replaces;
    if (replaces !== undefined && replaces !== null && !(Number.isSafeInteger(replaces) && (replaces as number) > 0)) return reply.code(400).send({ error: 'replaces is the id of the rate being edited.' });
    await reports.decks.putRate(deck.peer, deck.kind, { prefix: r.prefix, name: r.name, rateMicro: r.rate, firstIncrement: r.increments.first, nextIncrement: r.increments.next, connectionFeeMicro: r.connection_fee, effectiveFrom: r.from }, (replaces as number | null | undefined) ?? undefined);
    return reply.code(201).send({ ok: true });
  });

  api.delete('/reports/decks/:peer/:kind/rates/:id', async (req, reply) => {
    const deck = deckParams(req.params);
    const id = pathId((req.params as { id: string }).id);
    if (!deck || id === undefined || !(await reports.decks.removeRate(deck.peer, deck.kind, id))) return reply.code(404).send({ error: 'No such rate.' });
    return reply.code(204).send();
  });

  api.delete('/reports/decks/:peer/:kind', async (req, reply) => {
    const deck = deckParams(req.params);
    if (!deck || !(await reports.decks.remove(deck.peer, deck.kind))) return reply.code(404).send({ error: 'No such deck.' });
    return reply.code(204).send();
  });

  // Re-rates the calls of a period with the decks as they are now.
  api.post('/reports/rerate', async (req, reply) => {
    const body = (req.body ?? {}) as { interval?: string; from?: string; to?: string; peer?: string };
    const span = requestedSpan(body, reports.now(), tz());
    if (!span) return reply.code(400).send({ error: 'from and to are dates like 2026-11-01.' });
    const peer = body.peer ? peerName.safeParse(body.peer) : undefined;
    if (peer && !peer.success) return reply.code(400).send({ error: problemText(peer.error) });
    const result = await reports.rerate({ from: span.from, to: span.to, peer: peer?.data });
    return {
      from: span.from,
      to: span.to,
      peer: peer?.data ?? null,
      rated: result.rated,
      replaced: result.removed,
      loss_control: { blocked: result.lossControl.blocked.map(blockJson), still_blocked_below_limit: result.lossControl.belowLimit.map(blockJson) },
    };
  });

  api.get('/reports/profit', async (req, reply) => {
    const q = req.query as { peer?: string; interval?: string; from?: string; to?: string };
    const peer = peerName.safeParse(q.peer ?? '');
    if (!peer.success) return reply.code(400).send({ error: problemText(peer.error) });
    const span = requestedSpan(q, reports.now(), tz());
    if (!span) return reply.code(400).send({ error: 'from and to are dates like 2026-11-01.' });
    return profitJson(await reports.profit({ peer: peer.data, from: span.from, to: span.to }));
  });

  api.get('/reports/chats', async () => ({ chats: (await reports.chats.list()).map(chatJson), refused_recently: await reports.chats.refusals(20) }));

  api.post('/reports/chats', async (req, reply) => {
    const parsed = chatInput.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: problemText(parsed.error) });
    const id = await reports.chats.register({ chatId: parsed.data.chat_id, botId: parsed.data.bot_id, title: parsed.data.title, peers: parsed.data.peers });
    return reply.code(201).send({ chat: chatJson((await reports.chats.get(id))!) });
  });

  api.patch('/reports/chats/:id', async (req, reply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return reply.code(404).send({ error: 'No such chat.' });
    const body = (req.body ?? {}) as { peers?: unknown; approve?: unknown };
    try {
      if (body.peers !== undefined) {
        const peers = peerList.safeParse(body.peers);
        if (!peers.success) return reply.code(400).send({ error: problemText(peers.error) });
        await reports.chats.setPeers(id, peers.data);
      }
      if (body.approve === true) await reports.chats.approve(id);
      const chat = await reports.chats.get(id);
      if (!chat) return reply.code(404).send({ error: 'No such chat.' });
      return { chat: chatJson(chat) };
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.delete('/reports/chats/:id', async (req, reply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return reply.code(404).send({ error: 'No such chat.' });
    try {
      await reports.chats.remove(id);
      return reply.code(204).send();
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.get('/reports/limits', async () => {
    const open = reports.lossControl.openBlocks();
    const limits = [];
    for (const l of reports.lossControl.listLimits()) {
      const block = open.find((b) => b.limitId === l.id);
      limits.push(limitJson(l, block, block ? await reports.lossControl.stillOverLimit(block) : undefined));
    }
    return { limits };
  });

  api.post('/reports/limits', async (req, reply) => {
    const parsed = limitInput.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: problemText(parsed.error) });
    const d = parsed.data;
    try {
      const id = await reports.lossControl.saveLimit({ peer: d.peer, period: d.period, maxLossMicro: d.max_loss, minMarginBp: d.min_margin, alertChatRowId: d.alert_chat, enabled: d.enabled });
      const limit = reports.lossControl.listLimits().find((l) => l.id === id)!;
      return reply.code(201).send({ limit: limitJson(limit, undefined) });
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.delete('/reports/limits/:id', async (req, reply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return reply.code(404).send({ error: 'No such limit.' });
    try {
      await reports.lossControl.removeLimit(id);
      return reply.code(204).send();
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.get('/reports/blocks', async () => ({ blocks: (await reports.lossControl.recentBlocks(100)).map(blockJson) }));

  api.post('/reports/blocks/:id/unblock', async (req, reply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return reply.code(404).send({ error: 'No such block.' });
    try {
      const ended = await reports.lossControl.unblock(id, { via: 'api' });
      return { id, unblocked: ended, already_ended: !ended };
    } catch (err) {
      return refuse(reply, err);
    }
  });
};
