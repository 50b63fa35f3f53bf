import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../log/logger.js';
import { nextBackoff, type BackoffPolicy } from '../retry/backoff.js';
import type { Metrics } from '../status/metrics.js';
import type { StatusBoard } from '../status/status-board.js';
import { AgiChannel, type AgiLimits } from './agi-channel.js';
import type { AgiHandlerRegistry } from './agi-handlers/agi-handler.js';
import { runAgiSession, type AgiSessionReport } from './agi-session.js';

/** Where and how the FastAGI server listens; every limit has a production default. */
export interface FastAgiServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  handlers: AgiHandlerRegistry;
  logger: Logger;
  status: StatusBoard;
  metrics?: Metrics;
  /** Time and size limits of each conversation (see AgiLimits). */
  limits?: Partial<AgiLimits>;
  /** A whole conversation must end within this time (default 5 s). */
  sessionTimeoutMs?: number;
  /** Connections beyond this many at once are refused (default 1000). */
  maxConnections?: number;
  /** Retrying to listen when the port is taken (default 1 s doubling to 30 s). */
  listenRetry?: BackoffPolicy;
  /** On stop, conversations in progress get this long to finish before their sockets are closed (default 2 s). */
  drainTimeoutMs?: number;
}

const STATUS_ID = 'fastagi';
const STATUS_NAME = 'FastAGI (dialplan hooks)';

/**
 * tgpbx's FastAGI server: the dialplan calls `AGI(agi://127.0.0.1:4573/<handler>?args)`
 * and one of the registered handlers answers over the AGI protocol. Each connection is one
 * conversation (see runAgiSession): whatever goes wrong, the conversation ends, the
 * failure is logged once, and Asterisk goes on with the dialplan.
 *
 * `start()` never throws: a port in use turns the `fastagi` light red with the reason and
 * is retried with backoff while the rest of the module works. Emits `listening`
 * ({host, port}), `session` (AgiSessionReport) after every conversation.
 */
export class FastAgiServer extends EventEmitter {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = true;
  private bound: { host: string; port: number } | null = null;

  constructor(private readonly opts: FastAgiServerOptions) {
    super();
  }

  /** The address listened on, once listening. */
  get address(): { host: string; port: number } | null {
    return this.bound;
  }

  /** `agi://host:port` of the running server, null until it listens. */
  get url(): string | null {
    return this.bound ? `agi://${formatHost(this.bound.host)}:${this.bound.port}` : null;
  }

  /** Conversations in progress. */
  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Starts listening; resolves once listening or once the first attempt failed (then it retries by itself). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.opts.status.set(STATUS_ID, STATUS_NAME, 'orange', `starting on ${formatHost(this.opts.host)}:${this.opts.port}`);
    await this.listen();
  }

  /** Stops accepting, lets conversations in progress finish (up to the drain timeout), then closes every socket. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const server = this.server;
    this.server = null;
    this.bound = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    if (this.sessions.size) {
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.all([...this.sessions]).then(() => undefined);
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.drainTimeoutMs ?? 2_000)))]);
      clearTimeout(timer);
    }
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.opts.status.set(STATUS_ID, STATUS_NAME, 'off', 'stopped');
  }

  private listen(): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = this.opts.maxConnections ?? 1_000;
    return new Promise<void>((resolve) => {
      server.once('error', (err: Error & { code?: string }) => {
        server.close();
        this.listenFailed(err);
        resolve();
      });
      server.listen(this.opts.port, this.opts.host, () => {
        if (this.stopped) {
          server.close();
          return resolve();
        }
        server.on('error', (err: Error) => this.opts.logger.error({ err: err.message }, 'FastAGI server error'));
        this.server = server;
        this.failures = 0;
        const address = server.address() as net.AddressInfo;
        this.bound = { host: this.opts.host, port: address.port };
        this.opts.status.set(STATUS_ID, STATUS_NAME, 'green', `listening on ${formatHost(this.opts.host)}:${address.port}`);
        this.opts.logger.info({ url: this.url }, 'FastAGI server listening');
        this.emit('listening', this.bound);
        resolve();
      });
    });
  }

  private listenFailed(err: Error & { code?: string }): void {
    if (this.stopped) return;
    const where = `${formatHost(this.opts.host)}:${this.opts.port}`;
    const why =
      err.code === 'EADDRINUSE'
        ? `port ${this.opts.port} on ${formatHost(this.opts.host)} is in use (another tgpbx or program?)`
        : err.code === 'EACCES'
          ? `not allowed to listen on ${where}`
          : err.code === 'EADDRNOTAVAIL'
            ? `${formatHost(this.opts.host)} is not an address of this host (TGPBX_FASTAGI_HOST)`
            : `cannot listen on ${where}: ${err.code ?? err.message}`;
    const delay = nextBackoff(this.opts.listenRetry ?? { initialMs: 1_000, maxMs: 30_000 }, this.failures++);
    this.opts.status.set(STATUS_ID, STATUS_NAME, 'red', `${why}; retrying in ${delay < 1000 ? `${delay} ms` : `${(delay / 1000).toFixed(1)} s`}`);
    if (this.failures === 1) this.opts.logger.error({ reason: why }, 'FastAGI server cannot listen; the dialplan hooks are off until it can');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) void this.listen();
    }, delay);
  }

  private accept(socket: net.Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // the channel reports it; a reset must not crash the module
    const channel = new AgiChannel(socket, socket, this.opts.limits);
    const session = runAgiSession(channel, { handlers: this.opts.handlers, logger: this.opts.logger, sessionTimeoutMs: this.opts.sessionTimeoutMs })
      .then((report) => this.finished(socket, report))
      .finally(() => this.sessions.delete(session));
    this.sessions.add(session);
  }

  private finished(socket: net.Socket, report: AgiSessionReport): void {
    // The channel ended our side; Asterisk closes its side when it reads the end. Do not wait forever.
    if (!socket.destroyed) {
      const linger = setTimeout(() => socket.destroy(), this.opts.limits?.replyTimeoutMs ?? 3_000);
      linger.unref();
      socket.once('close', () => clearTimeout(linger));
      socket.resume(); // discard whatever still arrives (a late HANGUP)
    }
    // Only known handler names become labels: a request naming anything else must not grow the metric.
    const handler = this.opts.handlers.get(report.handler)?.name ?? (report.handler ? 'unknown' : 'none');
    this.opts.metrics?.fastAgiSessions.inc({ handler, outcome: report.outcome });
    this.emit('session', report);
  }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
