/**
 * A Telegram Bot API emulator for tests: a real HTTP server on 127.0.0.1 that
 * speaks the Bot API as api.telegram.org does, so grammY (or anything else)
 * can be pointed at it with `client: { apiRoot: server.apiRoot }`.
 *
 * - URL `/bot<token>/<method>` (method names case-insensitive), parameters in the
 *   query string, a JSON, urlencoded or multipart/form-data body; answers
 *   `{"ok":true,"result":...}` or `{"ok":false,"error_code":N,"description":...}`
 *   with HTTP status N. Downloads at `/file/bot<token>/<file_path>`.
 * - Long polling: getUpdates waits up to `timeout` s; a newer getUpdates ends a
 *   pending one with 409 "Conflict: terminated by other getUpdates request; ..."
 *   (Telegram's behaviour: the *older* request is the one terminated).
 * - Flood control on sendMessage/sendDocument/sendPhoto only (see BotApiLimits),
 *   over the arrival times given by the `now` clock; refused requests do not count.
 * - Simulated users and groups (./bot-api/sim.ts), fault injection, inspection.
 *
 * Tokens appear only in URL paths: nothing here logs them or stores them in records.
 *
 * @example
 *   let clock = Date.UTC(2025, 0, 1);
 *   const server = await BotApiServer.start({ now: () => clock });
 *   server.addBot({ token: '123:abc', username: 'pbx_bot' });
 *   const ann = server.user({ id: 1001, first_name: 'Ann' });
 *   const bot = new Bot('123:abc', { client: { apiRoot: server.apiRoot } });
 *   bot.command('start', (ctx) => ctx.reply('Hi'));
 *   const running = bot.start();
 *   ann.send('/start');
 *   assert.equal((await ann.waitForMessage()).text, 'Hi');
 *   await bot.stop(); await running; await server.stop();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BotCommand, BotCommandScope, Update, UserFromGetMe } from 'grammy/types';
import { ApiError, Errors } from './bot-api/errors.js';
import { METHODS, Reply, commandsKey, type Handler } from './bot-api/methods.js';
import { decodeParams, readBody } from './bot-api/params.js';
import { SendRateLimiter } from './bot-api/rate-limiter.js';
import { SimGroup, SimUser } from './bot-api/sim.js';
import {
  DEFAULT_LIMITS, type BotApiLimits, type BotApiStats, type BotRef, type BotSpec, type FailReply, type GroupSpec,
  type RateLimitEvent, type RequestRecord, type SentRecord, type UserSpec,
} from './bot-api/types.js';
import { World, clone } from './bot-api/world.js';

export { fakePng } from './bot-api/media.js';
export { SimGroup, SimUser, type WaitOptions } from './bot-api/sim.js';
export * from './bot-api/types.js';

/** Options of `BotApiServer.start()`. */
export interface BotApiServerOptions {
  /** Overrides of the flood limits (default: 30/s per bot, 1/s per private chat, 20/min per group). */
  limits?: Partial<BotApiLimits>;
  /** The clock in ms used for rate limits and message dates (default Date.now). */
  now?: () => number;
}

const HANDLERS = new Map<string, { name: string; handler: Handler }>(
  Object.entries(METHODS).map(([name, handler]) => [name.toLowerCase(), { name, handler }]),
);
const DEFAULT_WAIT_MS = 10_000;

/** The emulator. Start with `await BotApiServer.start()`, end with `await server.stop()`. */
export class BotApiServer {
  /** Every message sent successfully, in order. */
  readonly sent: SentRecord[] = [];
  /** Every 429 answered (flood control and injected ones). */
  readonly rateLimitLog: RateLimitEvent[] = [];
  /** Request counters. */
  readonly stats: BotApiStats = { requests: 0, sent: 0, rateLimited: 0, byMethod: {} };

  private readonly world: World;
  private readonly limiter: SendRateLimiter;
  private readonly requests: RequestRecord[] = [];
  private readonly failures = new Map<string, FailReply[]>();
  private readonly drops = new Map<string, number>();
  private readonly simUsers = new Map<number, SimUser>();
  private readonly simGroups = new Map<number, SimGroup>();
  private latencyMs = 0;
  private stopped = false;
  private root = '';

  private constructor(
    private readonly server: Server,
    options: BotApiServerOptions,
  ) {
    this.world = new World(options.now ?? Date.now);
    this.limiter = new SendRateLimiter({ ...DEFAULT_LIMITS, ...options.limits });
  }

  /** Starts a server on 127.0.0.1 with an ephemeral port. */
  static async start(options: BotApiServerOptions = {}): Promise<BotApiServer> {
    const server = createServer();
    // Like Telegram, keep idle keep-alive connections open (grammY reuses them);
    // Node's default 5 s idle timeout would race with reuse. stop() closes them.
    server.keepAliveTimeout = 0;
    const emulator = new BotApiServer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      emulator.onRequest(req, res).catch((err: unknown) => {
        // Handler bugs: answer like Telegram's own internal errors, never crash the test run.
        if (!res.headersSent) emulator.write(res, undefined, new ApiError(500, 'Internal Server Error').body(), 500);
        console.error('Bot API emulator:', err instanceof Error ? err.message : err);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    emulator.root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return emulator;
  }

  /** `http://127.0.0.1:<port>`, for grammY's `client.apiRoot`. */
  get apiRoot(): string {
    return this.root;
  }

  /**
   * Stops the server: pending long polls answer with no updates, pending waits
   * (waitForSent, waitForMessage, ...) reject, connections close. Idempotent.
   * Stop grammY bots first, or they keep retrying getUpdates.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.world.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  // ------------------------------------------------------------ setup

  /** Registers a bot; returns its User as getMe answers it. */
  addBot(spec: BotSpec): UserFromGetMe {
    return this.world.addBot(spec);
  }

  /**
   * Revokes a bot's token (as @BotFather's /revoke does): from now on every call with it,
   * getMe, sendMessage and the next getUpdates included, answers 401 Unauthorized.
   */
  revokeBot(token: string): void {
    const bot = this.world.bots.get(token);
    if (!bot) throw new Error('no bot with this token');
    this.world.bots.delete(token);
    bot.poll?.fail(Errors.unauthorized());
  }

  /** A simulated user (created on first call for an id; bots may write to him unless `started: false`). */
  user(spec: UserSpec): SimUser {
    let sim = this.simUsers.get(spec.id);
    if (!sim) {
      sim = new SimUser(this.world, this.world.addUser(spec));
      this.simUsers.set(spec.id, sim);
    }
    return sim;
  }

  /** A simulated group (id negative). Bots only see it once added with `addBot()`. */
  group(spec: GroupSpec): SimGroup {
    let sim = this.simGroups.get(spec.id);
    if (!sim) {
      if (spec.id >= 0) throw new Error('group ids are negative');
      const chat = { id: spec.id, title: spec.title, type: spec.type ?? 'group' } as const;
      const record = { chat, members: new Map(), lastBotId: undefined };
      this.world.groups.set(spec.id, record);
      sim = new SimGroup(this.world, record);
      this.simGroups.set(spec.id, sim);
    }
    return sim;
  }

  // ------------------------------------------------------------ fault injection

  /**
   * The next `times` calls of `method` (case-insensitive; `*` for any) answer this
   * error instead of running, e.g. `{ status: 502, description: 'Bad Gateway' }`
   * or `{ status: 429, description: 'Too Many Requests: retry after 5', retry_after: 5 }`.
   */
  failNext(method: string, reply: FailReply, times = 1): void {
    const key = method.toLowerCase();
    const queue = this.failures.get(key) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(reply);
    this.failures.set(key, queue);
  }

  /** The next `times` calls of `method` (or `*`) get their socket destroyed without an answer. */
  dropNext(method: string, times = 1): void {
    const key = method.toLowerCase();
    this.drops.set(key, (this.drops.get(key) ?? 0) + times);
  }

  /** Delays every API request by `ms` real milliseconds (0 to turn off). */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  // ------------------------------------------------------------ inspection

  /** Resolves with all sent records once at least `n` messages were sent. */
  waitForSent(n: number, timeoutMs = DEFAULT_WAIT_MS): Promise<SentRecord[]> {
    return this.world.waitFor(
      () => (this.sent.length >= n ? [...this.sent] : undefined),
      timeoutMs,
      `${n} sent messages (have ${this.sent.length})`,
    );
  }

  /** Resolves once at least `n` requests of `method` arrived (their parameters decoded). */
  waitForRequest(method: string, n = 1, timeoutMs = DEFAULT_WAIT_MS): Promise<RequestRecord[]> {
    return this.world.waitFor(
      () => {
        const found = this.requestsOf(method);
        return found.length >= n ? found : undefined;
      },
      timeoutMs,
      `${n} ${method} requests`,
    );
  }

  /** Every request of a method (case-insensitive), in arrival order. */
  requestsOf(method: string): RequestRecord[] {
    const key = method.toLowerCase();
    return this.requests.filter((r) => r.method.toLowerCase() === key).map((r) => clone(r));
  }

  /** The commands a bot set with setMyCommands (default scope and language unless given). */
  commandsOf(bot: BotRef, opts: { scope?: BotCommandScope; language_code?: string } = {}): BotCommand[] {
    return clone(this.world.botByRef(bot).commands.get(commandsKey(opts.scope, opts.language_code)) ?? []);
  }

  /** What a bot set with setMyDescription / setMyShortDescription / setWebhook. */
  profileOf(bot: BotRef, languageCode = ''): { description: string; short_description: string; webhook_url: string } {
    const b = this.world.botByRef(bot);
    return {
      description: b.descriptions.get(languageCode) ?? '',
      short_description: b.shortDescriptions.get(languageCode) ?? '',
      webhook_url: b.webhook?.url ?? '',
    };
  }

  /** Updates queued for a bot and not yet confirmed through getUpdates' offset. */
  pendingUpdates(bot?: BotRef): Update[] {
    return clone(this.world.botByRef(bot).updates);
  }

  // ------------------------------------------------------------ HTTP

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = this.world.now();
    const url = new URL(req.url ?? '/', 'http://emulator');
    let body: Awaited<ReturnType<typeof readBody>>;
    try {
      body = await readBody(req);
    } catch {
      return; // the client went away mid-request
    }
    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download) return this.download(res, download[1] ?? '', decodeURIComponent(download[2] ?? ''));
    const call = /^\/bot([^/]+)\/([^/]*)$/.exec(url.pathname);
    if (!call) return this.write(res, undefined, Errors.notFound().body(), 404);
    this.stats.requests += 1;
    const bot = this.world.bots.get(decodeURIComponent(call[1] ?? ''));
    if (!bot) return this.write(res, undefined, Errors.unauthorized().body(), 401);
    const entry = HANDLERS.get((call[2] ?? '').toLowerCase());
    const method = entry?.name ?? call[2] ?? '';
    this.stats.byMethod[method] = (this.stats.byMethod[method] ?? 0) + 1;
    const record: RequestRecord = { method, bot_id: bot.me.id, params: {}, at };
    this.requests.push(record);
    try {
      if (!entry) throw Errors.notFound();
      if (body.overflow) throw Errors.entityTooLarge();
      const p = decodeParams(req.headers['content-type'], body.data, url.searchParams);
      record.params = p.record();
      this.world.notify();
      if (this.take(this.drops, method)) {
        req.socket.destroy();
        return;
      }
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      const injected = this.takeFailure(method);
      if (injected) {
        if (injected.status === 429) {
          this.logRateLimit({
            at, bot_id: bot.me.id, method, chat_id: p.int('chat_id'), retry_after: injected.retry_after ?? 0, scope: 'injected',
          });
        }
        throw new ApiError(injected.status, injected.description, injected.retry_after);
      }
      const result = await entry.handler({
        world: this.world,
        bot,
        p,
        at,
        method,
        limiter: this.limiter,
        onSent: (sent) => {
          this.sent.push(sent);
          this.stats.sent += 1;
          this.world.notify();
        },
        onRateLimited: (event) => this.logRateLimit(event),
        onClose: (cb) => res.on('close', cb),
      });
      const reply = result instanceof Reply ? result : new Reply(result);
      const ok: Record<string, unknown> = { ok: true, result: reply.result };
      if (reply.description !== undefined) ok.description = reply.description;
      this.write(res, record, ok, 200);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      record.description = err.description;
      this.write(res, record, err.body(), err.status);
    }
  }

  private download(res: ServerResponse, token: string, path: string): void {
    const bot = this.world.bots.get(decodeURIComponent(token));
    const file = bot ? this.world.files.byDownloadPath(bot.me.id, path) : undefined;
    if (!file) return this.write(res, undefined, Errors.notFound().body(), 404);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.data.length });
    res.end(file.data);
  }

  private write(res: ServerResponse, record: RequestRecord | undefined, body: unknown, status: number): void {
    if (record) record.status = status;
    const json = JSON.stringify(body);
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
    this.world.notify();
  }

  private logRateLimit(event: RateLimitEvent): void {
    this.rateLimitLog.push(event);
    this.stats.rateLimited += 1;
  }

  private take(counts: Map<string, number>, method: string): boolean {
    for (const key of [method.toLowerCase(), '*']) {
      const n = counts.get(key) ?? 0;
      if (n > 0) {
        counts.set(key, n - 1);
        return true;
      }
    }
    return false;
  }

  private takeFailure(method: string): FailReply | undefined {
    for (const key of [method.toLowerCase(), '*']) {
      const reply = this.failures.get(key)?.shift();
      if (reply) return reply;
    }
    return undefined;
  }
}
