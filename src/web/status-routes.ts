import type { FastifyPluginAsync } from 'fastify';
import type { HealthReport } from '../status/health.js';
import type { Metrics } from '../status/metrics.js';
import type { ComponentStatus, StatusBoard } from '../status/status-board.js';
import { eventStreams } from './event-stream.js';
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
  const streams = eventStreams(app);

  app.get('/', async (_req, reply) => reply.redirect('/status'));

  app.get('/status', async (req, reply) => {
    const report = await deps.health();
    return renderPage(req, reply, 'status/status.ejs', { title: 'Status', report });
  });

  app.get('/status/events', (req, reply) =>
    streams.open(req, reply, (send) => {
      const changed = (status: ComponentStatus) => send('status', status);
      const removed = (id: string) => send('removed', { id });
      for (const s of deps.status.list()) changed(s);
      deps.status.on('change', changed);
      deps.status.on('removed', removed);
      return () => {
        deps.status.off('change', changed);
        deps.status.off('removed', removed);
      };
    }),
  );

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
