import { databaseAnswers, type Database } from '../storage/database.js';
import type { Outbox } from '../telegram/outbox.js';
import type { ComponentStatus, StatusBoard } from './status-board.js';

/** What /health answers: `down` (HTTP 503) when the database fails or the module is stopping. */
export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  stopping: boolean;
  components: ComponentStatus[];
  outbox: { pending: number; sent: number; failed: number } | null;
}

/**
 * Checks the database, refreshes its light, and summarises every component. A component
 * that is red makes the module `degraded` (it keeps working and retrying); only a dead
 * database or a shutdown makes it `down`, so a supervisor does not restart tgpbx merely
 * because Asterisk is away.
 */
export async function checkHealth(deps: { db: Database; status: StatusBoard; outbox: Outbox; stopping: () => boolean }): Promise<HealthReport> {
  const dbOk = await databaseAnswers(deps.db);
  deps.status.set('database', 'Database', dbOk ? 'green' : 'red', dbOk ? `${deps.db.client.config.client} answers` : 'the database does not answer');
  const outbox = dbOk ? await deps.outbox.counts().catch(() => null) : null;
  const components = deps.status.list();
  const stopping = deps.stopping();
  const status = !dbOk || stopping ? 'down' : components.some((c) => c.light === 'red') ? 'degraded' : 'ok';
  return { status, stopping, components, outbox };
}
