import type { FastifyPluginAsync } from 'fastify';
import type { HealthReport } from '../status/health.js';
import type { Metrics } from '../status/metrics.js';
import type { ComponentStatus, StatusBoard } from '../status/status-board.js';
import { renderPage } from './page.js';

interface StatusDeps {
  status: StatusBoard;
  metrics: Metrics;
  health: () => Promise<HealthReport>;
}

/**
 * The Status page (a light per component, kept live by server-sent events), /health for
 * supervisors (200 while the module can work, 503 when its database is gone or it is
 * stopping) and /metrics for Prometheus.
 */
export const statusRoutes: FastifyPluginAsync<StatusDeps> = async (app, deps) => {
  /** Each open event stream and how to close it (unsubscribe, then end). */
  const streams = new Map<import('node:http').ServerResponse, () => void>();
  // Long-lived event streams would hold app.close() open: end them first.
  app.addHook('preClose', async () => {
    for (const close of [...streams.values()]) close();
  });

  app.get('/', async (_req, reply) => reply.redirect('/status'));

  app.get('/status', async (req, reply) => {
    const report = await deps.health();
    return renderPage(req, reply, 'status/status.ejs', { title: 'Status', report });
  });

  app.get('/status/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    const write = (text: string) => {
      if (!res.writableEnded) res.write(text);
    };
    const send = (status: ComponentStatus) => write(`event: status\ndata: ${JSON.stringify(status)}\n\n`);
    const removed = (id: string) => write(`event: removed\ndata: ${JSON.stringify({ id })}\n\n`);
    for (const s of deps.status.list()) send(s);
    const heartbeat = setInterval(() => write(': keep-alive\n\n'), 25_000);
    deps.status.on('change', send);
    deps.status.on('removed', removed);
    const close = () => {
      clearInterval(heartbeat);
      deps.status.off('change', send);
      deps.status.off('removed', removed);
      streams.delete(res);
      res.end();
    };
    streams.set(res, close);
    req.raw.on('close', close);
  });

  app.get('/health', async (_req, reply) => {
    const report = await deps.health();
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });

  app.get('/metrics', async (_req, reply) => {
    const report = await deps.health();
    if (report.outbox) deps.metrics.outboxPending.set(report.outbox.pending);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await deps.metrics.render());
  });
};
