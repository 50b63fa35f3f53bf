import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Endpoint } from '../config.js';
import type { Logger } from '../log/logger.js';
import type { StatusBoard } from '../status/status-board.js';
import { nextBackoff, type BackoffPolicy } from '../retry/backoff.js';

const require = createRequire(import.meta.url);

/** What we use of an ari-client Client (CommonJS, untyped). */
export interface AriClient {
  start(app: string): Promise<void>;
  stop(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  removeAllListeners(): void;
}

const ariClient = require('ari-client') as { connect(url: string, user: string, pass: string): Promise<AriClient> };

const STATUS_ID = 'ari';
const STATUS_NAME = 'Asterisk ARI';

/**
 * tgpbx's link to the Asterisk REST Interface (ari-client): loads the API description,
 * opens the event WebSocket for the Stasis application `tgpbx`, and reconnects with
 * backoff when Asterisk goes away. Emits `event` for every ARI event and `connected`.
 */
export class AriLink extends EventEmitter {
  private client: AriClient | null = null;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly opts: { endpoint: Endpoint; logger: Logger; status: StatusBoard; app?: string; backoff?: BackoffPolicy },
  ) {
    super();
  }

  /** The connected ari-client Client (for features that drive channels), or null. */
  get api(): AriClient | null {
    return this.client;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => undefined);
      c.stop();
    }
  }

  private async connect(): Promise<void> {
    const { endpoint, status } = this.opts;
    status.set(STATUS_ID, STATUS_NAME, 'orange', `connecting to ${endpoint.display}`);
    try {
      const client = await ariClient.connect(endpoint.baseUrl.replace(/\/ari$/, ''), endpoint.username, endpoint.secret);
      if (!this.running) return client.stop();
      client.on('*', (event: unknown) => this.emit('event', event));
      client.on('WebSocketMaxRetries', () => this.lost(client, 'the event WebSocket closed and did not come back'));
      client.on('WebSocketReconnecting', () => status.set(STATUS_ID, STATUS_NAME, 'orange', 'event WebSocket lost; reconnecting'));
      client.on('WebSocketConnected', () => status.set(STATUS_ID, STATUS_NAME, 'green', `connected to ${endpoint.display}, application ${this.app}`));
      await client.start(this.app);
      this.client = client;
      this.failures = 0;
      status.set(STATUS_ID, STATUS_NAME, 'green', `connected to ${endpoint.display}, application ${this.app}`);
      this.emit('connected');
    } catch (err) {
      this.retry(describe(err));
    }
  }

  private get app(): string {
    return this.opts.app ?? 'tgpbx';
  }

  private lost(client: AriClient, reason: string): void {
    if (client !== this.client) return;
    this.client = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    this.retry(reason);
  }

  private retry(reason: string): void {
    if (!this.running) return;
    const delay = nextBackoff(this.opts.backoff ?? { initialMs: 1_000, maxMs: 60_000 }, this.failures++);
    this.opts.status.set(STATUS_ID, STATUS_NAME, 'red', `${reason}; retrying in ${Math.ceil(delay / 1000)} s`);
    this.opts.logger.warn({ reason, retryInMs: delay }, 'ARI not connected');
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string };
  if (e?.code === 'ECONNREFUSED' || e?.name === 'HostIsNotReachable') return 'Asterisk HTTP server not reachable (is ARI enabled in http.conf and ari.conf?)';
  return e?.message ?? String(err);
}
