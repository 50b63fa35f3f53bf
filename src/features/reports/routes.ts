import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { PbxDirectory } from '../../pbx/pbx-directory.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import { customBotId, type CustomBotStore } from '../../telegram/custom-bots.js';
import { DEFAULT_BOT_ID } from '../../telegram/outbox.js';
import { renderPage } from '../../web/page.js';
import { chatInput, deckKind, limitInput, pathId, peerList, peerName, problemText, rateInput } from './admin-input.js';
import { reportsApiRoutes } from './api-routes.js';
import { profitChartSvg } from './chart.js';
import { changeText, countOf, importDeck, type DeckImportResult } from './deck-import.js';
import type { Reports } from './index.js';
import { LossControlError } from './loss-control.js';
import { formatMarginBp, limitCrossed } from './loss-limits.js';
import { formatMoney, formatRate, marginPercent } from './money.js';
import { formatDate, formatSpan, formatTime, INTERVAL_LABELS, periodAt, REPORT_INTERVALS, requestedSpan } from './periods.js';
import { formatMinutes, peerSums, profitCsv } from './profit.js';
import type { DeckKind } from './rate-decks.js';
import { ReportChatsError } from './report-chats.js';

/** What the Reports pages and their REST API need. */
export interface ReportsRoutesDeps {
  reports: Reports;
  directory: PbxDirectory;
  customBots: CustomBotStore;
  settings: SettingsStore;
  adminToken: string | null;
}

/** A deck file of 60 000 prefixes with dates is a few MB; 32 MB is the ceiling. */
const DECK_BODY_LIMIT = 32 * 1024 * 1024;

type Body = Record<string, string | string[] | undefined>;

/**
 * The Reports pages: the profit report with its chart (GET /reports), rate decks with CSV
 * import and re-rating (/reports/decks), report chats with approval (/reports/chats) and
 * loss limits with their state and unblock (/reports/limits). Forms post and redirect
 * with "Saved."; bad input renders the page again with the reason (400) or 404. Registers
 * the REST API under /api/v1/reports too.
 */
export const reportsRoutes: FastifyPluginAsync<ReportsRoutesDeps> = async (app, deps) => {
  const { reports } = deps;
  const tz = () => deps.settings.get('general.timezone');
  const common = (req: FastifyRequest, tab: string) => ({
    tab,
    timeZone: tz(),
    saved: 'saved' in (req.query as object),
    money: (micro: number, digits = 2) => formatMoney(micro, digits),
    time: (ms: number) => formatTime(ms, tz()),
  });
  const botChoices = () => [{ id: DEFAULT_BOT_ID, label: 'default bot (Settings)' }, ...deps.customBots.list().map((b) => ({ id: customBotId(b.id), label: `${b.name}${b.username ? ` (@${b.username})` : ''}` }))];

  app.get('/reports', async (req, reply) => {
    const q = req.query as { peer?: string; interval?: string; from?: string; to?: string };
    const peers = await reports.peers();
    const peer = q.peer && peers.includes(q.peer) ? q.peer : peers[0];
    const span = requestedSpan(q, reports.now(), tz());
    const report = peer && span ? await reports.profit({ peer, from: span.from, to: span.to }) : null;
    return renderPage(req, reply.code(span ? 200 : 400), 'reports/profit.ejs', {
      title: 'Reports',
      ...common(req, 'profit'),
      peers,
      peer: peer ?? null,
      query: { interval: q.interval ?? (q.from ? 'custom' : 'today'), from: q.from ?? '', to: q.to ?? '' },
      intervals: REPORT_INTERVALS.map((i) => ({ id: i, label: INTERVAL_LABELS[i] })),
      spanText: span ? `${span.label}: ${formatSpan(span, tz())}` : '',
      problem: span ? null : 'From and to are dates like 2026-11-01.',
      report,
      chart: report ? profitChartSvg(report.rows) : '',
      minutes: formatMinutes,
      csvLink: peer && span ? `/reports/profit.csv?${new URLSearchParams({ ...(q as Record<string, string>), peer }).toString()}` : null,
    });
  });

  app.get('/reports/profit.csv', async (req, reply) => {
    const q = req.query as { peer?: string; interval?: string; from?: string; to?: string };
    const peer = peerName.safeParse(q.peer ?? '');
    const span = requestedSpan(q, reports.now(), tz());
    if (!peer.success || !span) return reply.code(400).type('text/plain').send('peer, and from/to as dates like 2026-11-01');
    const report = await reports.profit({ peer: peer.data, from: span.from, to: span.to });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="profit-${peer.data.replace(/[^\w.-]+/g, '_')}.csv"`)
      .send(profitCsv(report));
  });

  type RateForm = { values: Record<string, string>; problems: Record<string, string>; replaces: number | null };
  const decksPage = async (req: FastifyRequest, reply: FastifyReply, extra: { problem?: string; imported?: DeckImportResult; form?: { peer: string; kind: string; csv: string }; rateForm?: RateForm; deck?: { peer: string; kind: DeckKind } } = {}) => {
    const q = req.query as { removed?: string; rerated?: string; blocked?: string; below?: string; deck?: string; kind?: string; prefix?: string; edit?: string; rate?: string };
    const blockList = (v: string | undefined) => (v ?? '').split(',').map((p) => /^([^:]+):(hour|day|month)$/.exec(p)).filter((m) => m !== null).map((m) => ({ peer: m[1]!, period: m[2]! }));
    const decks = await reports.decks.list();
    const peers = await reports.peers();
    // A deck view: a peer with a deck, or a trunk whose deck is started by hand.
    const wanted = extra.deck?.peer ?? q.deck;
    const shownPeer = wanted && (decks.some((d) => d.peer === wanted) || peers.includes(wanted)) ? wanted : null;
    const shownKind: DeckKind = (extra.deck?.kind ?? q.kind) === 'sell' ? 'sell' : 'cost';
    const prefix = q.prefix?.replace(/\D/g, '') ?? '';
    const rates = shownPeer ? await reports.decks.rates(shownPeer, shownKind, { prefix, limit: 200 }) : [];
    let rateForm = extra.rateForm ?? null;
    if (!rateForm && shownPeer) {
      // "Edit" fills the form with the rate; otherwise it is empty (60/60, always).
      const editing = q.edit ? await reports.decks.rate(shownPeer, shownKind, pathId(q.edit) ?? 0) : undefined;
      rateForm = editing
        ? {
            values: { prefix: editing.prefix, name: editing.name, rate: formatRate(editing.rateMicro), increments: `${editing.firstIncrement}/${editing.nextIncrement}`, connection_fee: editing.connectionFeeMicro ? formatRate(editing.connectionFeeMicro) : '', from: editing.effectiveFrom ? formatDate(editing.effectiveFrom, tz()) : '' },
            problems: {},
            replaces: editing.id,
          }
        : { values: { increments: '60/60' }, problems: {}, replaces: null };
    }
    const removedDeck = /^(cost|sell):(.+)$/.exec(q.removed ?? '');
    return renderPage(req, reply, 'reports/decks.ejs', {
      title: 'Reports: rate decks',
      currentPath: '/reports',
      ...common(req, 'decks'),
      decks,
      peers,
      problem: extra.problem ?? null,
      imported: extra.imported ?? null,
      form: extra.form ?? { peer: '', kind: 'cost', csv: '' },
      changeText,
      countOf,
      rate: formatRate,
      rerated: q.rerated === undefined ? null : { calls: Number(q.rerated) || 0, blocked: blockList(q.blocked), below: blockList(q.below) },
      removed: removedDeck ? { kind: removedDeck[1]!, peer: removedDeck[2]! } : null,
      rateSaved: q.rate === 'saved' ? 'saved' : q.rate === 'removed' ? 'removed' : null,
      shown: shownPeer ? { peer: shownPeer, kind: shownKind, prefix, rates, exists: decks.some((d) => d.peer === shownPeer && d.kind === shownKind), form: rateForm } : null,
    });
  };

  /** The deck view of a peer and kind, as a URL (the prefix filter narrows it to a rate). */
  const deckUrl = (peer: string, kind: string, extra: Record<string, string> = {}) => `/reports/decks?${new URLSearchParams({ deck: peer, kind, ...extra }).toString()}#rates`;

  app.get('/reports/decks', (req, reply) => decksPage(req, reply));

  app.post('/reports/decks/import', { bodyLimit: DECK_BODY_LIMIT }, async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    const form = { peer: String(body.peer ?? ''), kind: body.kind === 'sell' ? 'sell' : 'cost', csv: String(body.csv ?? '') };
    const peer = peerName.safeParse(body.peer);
    const kind = deckKind.safeParse(body.kind);
    if (!peer.success) return decksPage(req, reply.code(400), { problem: problemText(peer.error), form });
    if (!kind.success) return decksPage(req, reply.code(400), { problem: problemText(kind.error), form });
    // The "import the N good lines anyway" checkbox carries N and the deck it was shown for: a
    // file or a deck changed since is checked again instead of stored.
    const confirmed = typeof body.partial === 'string' ? /^(\d{1,9}):(cost|sell):(.+)$/.exec(body.partial) : null;
    const partial = !body.partial ? false : confirmed && confirmed[2] === kind.data && confirmed[3] === peer.data ? Number(confirmed[1]) : -1;
    const result = await importDeck(reports.decks, { peer: peer.data, kind: kind.data, csv: form.csv, partial, timeZone: tz() });
    if (!result.stored) return decksPage(req, reply.code(400), { problem: importProblem(result), imported: result, form });
    return decksPage(req, reply, { imported: result });
  });

  // One rate typed on the deck view: added, or replacing the one with the same prefix and
  // date (and the one being edited, when "replaces" names it). Problems go next to the fields.
  app.post('/reports/decks/rates', async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    const peer = peerName.safeParse(body.peer);
    const kind = deckKind.safeParse(body.kind);
    if (!peer.success || !kind.success) return decksPage(req, reply.code(404), { problem: 'No such deck.' });
    const values = Object.fromEntries(['prefix', 'name', 'rate', 'increments', 'connection_fee', 'from'].map((k) => [k, String(body[k] ?? '')]));
    const replaces = typeof body.replaces === 'string' && body.replaces ? (pathId(body.replaces) ?? null) : null;
    const parsed = rateInput(tz()).safeParse(values);
    if (!parsed.success) {
      const problems: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'prefix');
        problems[field] ??= issue.message;
      }
      return decksPage(req, reply.code(400), { problem: 'The rate was not saved: see the fields below.', deck: { peer: peer.data, kind: kind.data }, rateForm: { values, problems, replaces } });
    }
    const r = parsed.data;
    await reports.decks.putRate(peer.data, kind.data, { prefix: r.prefix, name: r.name, rateMicro: r.rate, firstIncrement: r.increments.first, nextIncrement: r.increments.next, connectionFeeMicro: r.connection_fee, effectiveFrom: r.from }, replaces ?? undefined);
    return reply.redirect(deckUrl(peer.data, kind.data, { prefix: r.prefix, rate: 'saved' }));
  });

  app.post('/reports/decks/rates/:id/remove', async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    const id = pathId((req.params as { id: string }).id);
    const peer = peerName.safeParse(body.peer);
    const kind = deckKind.safeParse(body.kind);
    if (id === undefined || !peer.success || !kind.success || !(await reports.decks.removeRate(peer.data, kind.data, id))) return decksPage(req, reply.code(404), { problem: 'No such rate: it was removed already, or the deck was replaced.' });
    return reply.redirect(deckUrl(peer.data, kind.data, { ...(typeof body.prefix === 'string' && body.prefix ? { prefix: body.prefix } : {}), rate: 'removed' }));
  });

  app.post('/reports/decks/rerate', async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    const span = requestedSpan({ from: String(body.from ?? ''), to: String(body.to ?? '') }, reports.now(), tz());
    if (!span || !body.from) return decksPage(req, reply.code(400), { problem: 'Give the first and last day to re-rate, like 2026-11-01.' });
    const peer = body.peer ? peerName.safeParse(body.peer) : undefined;
    if (peer && !peer.success) return decksPage(req, reply.code(400), { problem: problemText(peer.error) });
    const result = await reports.rerate({ from: span.from, to: span.to, peer: peer?.data });
    const peers = (blocks: { peer: string; period: string }[]) => blocks.map((b) => `${b.peer}:${b.period}`).join(',');
    const lc = result.lossControl;
    return reply.redirect(`/reports/decks?saved&rerated=${result.rated}${lc.blocked.length ? `&blocked=${peers(lc.blocked)}` : ''}${lc.belowLimit.length ? `&below=${peers(lc.belowLimit)}` : ''}#rerate`);
  });

  // Remove asks first: the button is a GET to this page (with JavaScript, a confirm() and then the POST).
  app.get('/reports/decks/remove', async (req, reply) => {
    const q = req.query as Body;
    const peer = peerName.safeParse(q.peer);
    const kind = deckKind.safeParse(q.kind);
    const deck = peer.success && kind.success ? await reports.decks.info(peer.data, kind.data) : undefined;
    if (!deck) return decksPage(req, reply.code(404), { problem: 'No such deck: it was removed already.' });
    const other = await reports.decks.info(deck.peer, deck.kind === 'cost' ? 'sell' : 'cost');
    return renderPage(req, reply, 'reports/remove-deck.ejs', { title: 'Reports: remove a rate deck', currentPath: '/reports', ...common(req, 'decks'), deck, other: other ?? null, countOf });
  });

  app.post('/reports/decks/remove', async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    const peer = peerName.safeParse(body.peer);
    const kind = deckKind.safeParse(body.kind);
    if (!peer.success || !kind.success || !(await reports.decks.remove(peer.data, kind.data))) return decksPage(req, reply.code(404), { problem: 'No such deck: it was removed already.' });
    return reply.redirect(`/reports/decks?${new URLSearchParams({ removed: `${kind.data}:${peer.data}` }).toString()}`);
  });

  const chatsPage = async (req: FastifyRequest, reply: FastifyReply, problem: string | null = null, add: Body = {}) =>
    renderPage(req, reply, 'reports/chats.ejs', {
      title: 'Reports: Telegram chats',
      currentPath: '/reports',
      ...common(req, 'chats'),
      chats: await reports.chats.list(),
      refusals: await reports.chats.refusals(20),
      peers: await reports.peers(),
      bots: botChoices(),
      problem,
      add,
    });

  app.get('/reports/chats', (req, reply) => chatsPage(req, reply));

  app.post('/reports/chats', async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    const parsed = chatInput.safeParse(body);
    if (!parsed.success) return chatsPage(req, reply.code(400), problemText(parsed.error), body);
    await reports.chats.register({ chatId: parsed.data.chat_id, botId: parsed.data.bot_id, title: parsed.data.title, peers: parsed.data.peers });
    return reply.redirect('/reports/chats?saved');
  });

  const chatAction = (action: (id: number, body: Body) => Promise<void>) => async (req: FastifyRequest, reply: FastifyReply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return chatsPage(req, reply.code(404), 'No such chat.');
    try {
      await action(id, (req.body ?? {}) as Body);
    } catch (err) {
      if (err instanceof ReportChatsError) return chatsPage(req, reply.code(err.kind === 'not_found' ? 404 : 400), err.message);
      throw err;
    }
    return reply.redirect('/reports/chats?saved');
  };
  app.post('/reports/chats/:id/approve', chatAction((id) => reports.chats.approve(id)));
  app.post('/reports/chats/:id/remove', chatAction((id) => reports.chats.remove(id)));
  app.post(
    '/reports/chats/:id/peers',
    chatAction(async (id, body) => {
      const peers = peerList.safeParse(body.peers);
      if (!peers.success) throw new ReportChatsError(problemText(peers.error));
      await reports.chats.setPeers(id, peers.data);
    }),
  );

  const limitsPage = async (req: FastifyRequest, reply: FastifyReply, problem: string | null = null, add: Body = {}) => {
    const now = reports.now();
    const open = reports.lossControl.openBlocks();
    const chats = await reports.chats.list();
    const limits = await Promise.all(
      reports.lossControl.listLimits().map(async (l) => {
        const span = periodAt(l.period, now, tz());
        const sums = await peerSums(reports.db, l.peer, span.from, span.to);
        return {
          ...l,
          maxLoss: formatMoney(l.maxLossMicro),
          minMargin: l.minMarginBp === null ? '' : formatMarginBp(l.minMarginBp),
          chat: chats.find((c) => c.id === l.alertChatRowId) ?? null,
          span,
          loss: formatMoney(Math.max(0, -sums.profitMicro)),
          lossShare: l.maxLossMicro > 0 ? Math.min(100, Math.round((Math.max(0, -sums.profitMicro) / l.maxLossMicro) * 100)) : sums.profitMicro < 0 ? 100 : 0,
          margin: marginPercent(sums.profitMicro, sums.revenueMicro),
          sums,
          block: open.find((b) => b.limitId === l.id) ?? null,
          // A block whose period's figures are no longer over the limit (a re-rating, profitable calls that ended since) stays until unblocked.
          overLimit: limitCrossed(l, sums) !== null,
        };
      }),
    );
    return renderPage(req, reply, 'reports/limits.ejs', {
      title: 'Reports: loss control',
      currentPath: '/reports',
      ...common(req, 'limits'),
      limits,
      blocks: await reports.lossControl.recentBlocks(20),
      chats,
      peers: await reports.peers(),
      problem,
      add,
    });
  };

  app.get('/reports/limits', (req, reply) => limitsPage(req, reply));

  app.post('/reports/limits', async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    const parsed = limitInput.safeParse({ ...body, enabled: body.enabled ?? 'on' });
    if (!parsed.success) return limitsPage(req, reply.code(400), problemText(parsed.error), body);
    const d = parsed.data;
    try {
      await reports.lossControl.saveLimit({ peer: d.peer, period: d.period, maxLossMicro: d.max_loss, minMarginBp: d.min_margin, alertChatRowId: d.alert_chat, enabled: d.enabled });
    } catch (err) {
      if (err instanceof LossControlError) return limitsPage(req, reply.code(400), err.message, body);
      throw err;
    }
    return reply.redirect('/reports/limits?saved');
  });

  const limitsAction = (action: (id: number) => Promise<unknown>) => async (req: FastifyRequest, reply: FastifyReply) => {
    const id = pathId((req.params as { id: string }).id);
    if (id === undefined) return limitsPage(req, reply.code(404), 'Not found.');
    try {
      await action(id);
    } catch (err) {
      if (err instanceof LossControlError) return limitsPage(req, reply.code(err.kind === 'not_found' ? 404 : 400), err.message);
      throw err;
    }
    return reply.redirect('/reports/limits?saved');
  };
  app.post('/reports/limits/:id/remove', limitsAction((id) => reports.lossControl.removeLimit(id)));
  app.post('/reports/blocks/:id/unblock', limitsAction((id) => reports.lossControl.unblock(id, { via: 'page' })));

  await app.register(reportsApiRoutes, { prefix: '/api/v1', reports, settings: deps.settings, adminToken: deps.adminToken, deckBodyLimit: DECK_BODY_LIMIT });
};

/** Why an import stored nothing, for the top of the page. */
function importProblem(r: Extract<DeckImportResult, { stored: false }>): string {
  switch (r.why) {
    case 'no_lines':
      return r.rejectedTotal ? `No line of the file could be imported (${countOf(r.rejectedTotal, 'line')} rejected); the deck is unchanged.` : 'The file has no rates; the deck is unchanged.';
    case 'rejected_lines':
      return `${countOf(r.rejectedTotal, 'line')} of the file ${r.rejectedTotal === 1 ? 'was' : 'were'} rejected, so nothing was imported; the deck is unchanged. Fix the lines and import again, or import the ${countOf(r.accepted, 'good line')} anyway.`;
    case 'not_confirmed':
      return `The file or the deck changed since you chose to import the good lines, so nothing was imported; the deck is unchanged. Check the result and choose again.`;
  }
}
