import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createLogger, type LogSink, type Logger } from './log/logger.js';
import { SecretScrubber } from './log/secret-scrubber.js';
import { AmiClient } from './pbx/ami.js';
import { AriLink } from './pbx/ari.js';
import { CallEngine } from './pbx/call-engine.js';
import { CallBackDialer } from './pbx/call-back.js';
import { createMissedCalls, type MissedCalls } from './features/missed-calls/index.js';
import { missedCallsRoutes } from './features/missed-calls/routes.js';
import { createReports, type Reports } from './features/reports/index.js';
import { reportsRoutes } from './features/reports/routes.js';
import { DialplanHooks, type DialplanHooksOptions } from './pbx/dialplan-hooks.js';
import { systemClock, type Clock } from './pbx/clock.js';
import { SettingsStore } from './settings/settings-store.js';
import { checkHealth } from './status/health.js';
import { Metrics } from './status/metrics.js';
import { StatusBoard } from './status/status-board.js';
import { openDatabase, type Database } from './storage/database.js';
import { BotRegistry } from './telegram/bots.js';
import { checkBotToken, customBotId, CustomBotStore, handPendingToDefault } from './telegram/custom-bots.js';
import { botsRoutes } from './features/missed-calls/bots-routes.js';
import { DEFAULT_BOT_ID, Outbox } from './telegram/outbox.js';
import { RecipientStore } from './telegram/recipients.js';
import type { BotDefinition } from './telegram/telegram-bot.js';
import { AdminAuth } from './web/admin-auth.js';
import { createWebServer, newCookieSecret } from './web/server.js';
import { callHistoryRoutes } from './web/call-history-routes.js';
import { directoryRoutes } from './web/directory-routes.js';
import { Provider } from './features/provider/provider.js';
import { providerRoutes } from './features/provider/routes.js';
import type { MtprotoEndpoint } from './telegram/mtproto-endpoint.js';
import type { AccountTimings } from './telegram/accounts.js';

/** The running module, as tests and main.ts see it. */
export interface App {
  config: Config;
  logger: Logger;
  db: Database;
  settings: SettingsStore;
  status: StatusBoard;
  metrics: Metrics;
  outbox: Outbox;
  bots: BotRegistry;
  /** The admin's own bots (Bots page); the active one serves missed-call notices. */
  customBots: CustomBotStore;
  ami: AmiClient | null;
  calls: CallEngine;
  missedCalls: MissedCalls;
  /** The Telegram provider: numbers, their accounts (GramJS) and the provider bot. */
  provider: Provider;
  /** Rate decks, rating, /profit, loss control (issue 8). */
  reports: Reports;
  /** FastAGI server and handlers, route guard, Telegram channel records, generated dialplan. */
  dialplanHooks: DialplanHooks;
  web: FastifyInstance;
  /** The address the web server listens on (after start). */
  url: string;
  start(): Promise<void>;
  /** Stops taking work, drains the outbox lanes, closes sockets and the database. */
  stop(): Promise<void>;
}

export interface AppOptions {
  logSink?: LogSink;
  /** Overrides for timings, used by tests to keep backoffs short. */
  amiBackoff?: { initialMs: number; maxMs: number };
  outboxRetry?: { initialMs: number; maxMs: number };
  /** Time for the call tracker's settle and idle timers (fake time in tests). */
  clock?: Clock;
  callSettleMs?: number;
  /** Timings of the FastAGI hooks (short in tests). */
  dialplanHooks?: DialplanHooksOptions;
  /** Telegram accounts connect here instead of Telegram's data centers (tests: the MTProto emulator). */
  telegramEndpoint?: MtprotoEndpoint;
  /** Timings of the Telegram accounts' supervision (short in tests). */
  telegramAccounts?: Omit<AccountTimings, 'clock'>;
}

const COOKIE_SECRET_KEY = 'web.cookie_secret';
/** The outbox/bot id of the provider's own bot (when its token differs from the default bot's). */
const PROVIDER_BOT_ID = 'provider';

/**
 * The composition root: builds every component once and passes dependencies in
 * explicitly. Nothing here connects yet; `start()` does.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const scrubber = new SecretScrubber();
  for (const endpoint of [config.ami, config.ari]) scrubber.add(endpoint?.secret);
  scrubber.add(config.adminToken);
  scrubber.add(config.databaseUrl ? new URL(config.databaseUrl).password : null);
  const logger = createLogger({ level: config.logLevel, scrubber, sink: options.logSink });

  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  restrictDatabaseFiles(config);
  const settings = new SettingsStore(db, scrubber);
  await settings.load();
  if (!settings.getInternal(COOKIE_SECRET_KEY)) await settings.setInternal(COOKIE_SECRET_KEY, newCookieSecret());

  const status = new StatusBoard();
  const metrics = new Metrics();
  status.set('database', 'Database', 'green', config.databaseUrl ? 'PostgreSQL connected' : `SQLite ${path.join(config.dataDir, 'tgpbx.sqlite')}`);

  const outbox = new Outbox(db, metrics);
  const recipients = new RecipientStore(db);
  const customBots = new CustomBotStore(db, scrubber);
  await customBots.load();
  // Read when the bots start: the features below are built by then. The default bot and the
  // active custom bot both carry the missed-calls commands: subscribers who joined through the
  // default bot, and the buttons of notices it sent, keep working after a switch.
  const botDefinitions = (): BotDefinition[] => {
    const defs: BotDefinition[] = [];
    const token = settings.get('telegram.bot_token');
    if (token) defs.push({ id: DEFAULT_BOT_ID, name: 'default', token, composers: [missedCalls.composer, reports.composerFor(DEFAULT_BOT_ID)], profile: missedCalls.profile });
    const active = customBots.active();
    if (active) {
      defs.push({
        id: customBotId(active.id),
        name: active.name,
        token: active.token,
        composers: [missedCalls.composer, reports.composerFor(customBotId(active.id))],
        profile: missedCalls.profile,
        refusedHint: 'check it on the Bots page (Missed calls). Notices go through the default bot meanwhile; the waiting ones were handed to it',
      });
    }
    const providerToken = settings.get('provider.bot_token');
    if (providerToken && providerToken !== token) {
      defs.push({ id: PROVIDER_BOT_ID, name: 'provider', token: providerToken, composers: [], refusedHint: 'check it on the Telegram provider page' });
    }
    return defs;
  };
  /** The bot serving the provider: its own, or the default bot when the admin gave the same token. */
  const providerBotId = (): string | null => {
    const providerToken = settings.get('provider.bot_token');
    if (!providerToken) return null;
    return providerToken === settings.get('telegram.bot_token') ? DEFAULT_BOT_ID : PROVIDER_BOT_ID;
  };
  /** The bot that sends missed-call notices now: the active custom bot while its light is green, else the default bot. */
  const featureBotId = (): string => {
    const active = customBots.active();
    const bot = active ? bots.get(customBotId(active.id)) : undefined;
    return bot?.state === 'ready' ? bot.definition.id : DEFAULT_BOT_ID;
  };
  /** A custom bot's token was refused: its waiting notices go through the default bot, nothing is lost. */
  const fallBack = (botId: string): void => {
    if (botId === DEFAULT_BOT_ID) return;
    handPendingToDefault(db, botId).then(
      (moved) => {
        if (moved) logger.warn({ bot: botId, moved }, 'bot token refused: its waiting messages go through the default bot');
        bots.wake(DEFAULT_BOT_ID);
      },
      (err: Error) => logger.error({ bot: botId, err: err.message }, 'could not hand waiting messages to the default bot'),
    );
  };
  const bots = new BotRegistry({
    apiRoot: config.botApiRoot,
    scrubber,
    db,
    outbox,
    recipients,
    logger,
    status,
    metrics,
    definitions: botDefinitions,
    limits: () => ({
      globalPerSecond: settings.get('telegram.rate.global_per_second'),
      privateChatPerSecond: settings.get('telegram.rate.private_chat_per_second'),
      groupPerMinute: settings.get('telegram.rate.group_per_minute'),
    }),
    inFlight: () => settings.get('telegram.in_flight'),
    retry: options.outboxRetry,
    onTokenRefused: fallBack,
  });
  customBots.on('change', () => {
    bots.reload().then(
      () => bots.wake(DEFAULT_BOT_ID),
      (err: Error) => logger.error({ err: err.message }, 'could not restart the bots'),
    );
  });
  settings.on('change', (keys: string[]) => {
    if (keys.includes('telegram.bot_token') || keys.includes('provider.bot_token')) bots.reload().catch((err: Error) => logger.error({ err: err.message }, 'could not restart the bot'));
  });

  const ami = config.ami
    ? new AmiClient({ endpoint: config.ami, logger, status, metrics, backoff: options.amiBackoff })
    : null;
  if (ami) status.set('ami', 'Asterisk AMI', 'orange', `starting (${config.ami!.display})`);
  // Without AMI tgpbx sees no calls: that needs the admin (red), unlike optional ARI (off).
  if (!ami) status.set('ami', 'Asterisk AMI', 'red', 'not configured: set TGPBX_AMI_URL (ami://user:secret@host:5038)');
  const calls = new CallEngine({ db, ami, settings, logger, metrics, clock: options.clock, settleMs: options.callSettleMs });
  const missedCalls = createMissedCalls({ db, history: calls.history, directory: calls.directory, outbox, settings, dialer: new CallBackDialer(ami), botId: featureBotId });
  const ari = config.ari ? new AriLink({ endpoint: config.ari, logger, status }) : null;
  const dialplanHooks = new DialplanHooks(
    { config, db, settings, ami, logger, status, metrics, telegramLines: () => provider.list().map((n) => ({ id: n.id, phone: n.phone })) },
    options.dialplanHooks,
  );
  const reports = createReports({ db, history: calls.history, directory: calls.directory, outbox, settings, routeGuard: dialplanHooks.routeGuard, clock: options.clock ?? systemClock, logger });
  if (!ari) status.set('ari', 'Asterisk ARI', 'off', 'not configured: set TGPBX_ARI_URL (http://user:secret@host:8088/ari)');

  const provider = new Provider({
    db,
    dataDir: config.dataDir,
    settings,
    status,
    metrics,
    logger,
    scrubber,
    botStatus: () => {
      const id = providerBotId();
      return id ? status.get(`bot:${id}`) : undefined;
    },
    reloadBots: () => bots.reload(),
    endpoint: options.telegramEndpoint,
    timings: options.telegramAccounts,
  });
  provider.on('numbers', () => void dialplanHooks.dialplan.publish());

  let stopping = false;
  const health = () => checkHealth({ db, status, outbox, stopping: () => stopping });
  const web = await createWebServer({
    logger,
    scrubber,
    settings,
    status,
    metrics,
    auth: new AdminAuth(db, settings),
    health,
    adminToken: config.adminToken,
    cookieSecret: settings.getInternal(COOKIE_SECRET_KEY)!,
    dialplan: dialplanHooks.web,
    features: [
      { prefix: '', plugin: (web) => callHistoryRoutes(web, { history: calls.history, directory: calls.directory, settings, adminToken: config.adminToken }) },
      { prefix: '', plugin: (web) => directoryRoutes(web, { directory: calls.directory, adminToken: config.adminToken }) },
      {
        prefix: '',
        plugin: (web) =>
          missedCallsRoutes(web, {
            missedCalls,
            directory: calls.directory,
            db,
            settings,
            adminToken: config.adminToken,
            botUsername: () => bots.get(featureBotId())?.me?.username ?? null,
          }),
      },
      { prefix: '', plugin: (web) => providerRoutes(web, { provider, settings, adminToken: config.adminToken }) },
      { prefix: '', plugin: (web) => reportsRoutes(web, { reports, directory: calls.directory, customBots, settings, adminToken: config.adminToken }) },
      {
        prefix: '',
        plugin: (web) =>
          botsRoutes(web, {
            customBots,
            bots,
            status,
            settings,
            adminToken: config.adminToken,
            checkToken: (token) => checkBotToken(config.botApiRoot, token, scrubber),
            servingBotId: featureBotId,
          }),
      },
    ],
  });

  const app: App = {
    config,
    logger,
    db,
    settings,
    status,
    metrics,
    outbox,
    bots,
    customBots,
    ami,
    calls,
    missedCalls,
    provider,
    reports,
    dialplanHooks,
    web,
    url: '',
    async start() {
      await web.listen({ host: config.http.host, port: config.http.port });
      const address = web.server.address() as AddressInfo;
      app.url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
      await calls.start();
      await provider.start();
      await reports.start();
      await dialplanHooks.start();
      ami?.start();
      ari?.start();
      await bots.start();
      logger.info({ url: app.url, dataDir: config.dataDir, ami: config.ami?.display ?? null, ari: config.ari?.display ?? null }, 'tgpbx started');
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      logger.info('tgpbx stopping');
      await web.close();
      await dialplanHooks.stop();
      await ami?.stop();
      await calls.stop();
      await ari?.stop();
      await provider.stop();
      await bots.stop();
      reports.stop();
      await db.destroy();
      logger.info('tgpbx stopped');
    },
  };
  return app;
}

/** The database holds bot tokens: only the PBX's tgpbx user may read it. */
function restrictDatabaseFiles(config: Config): void {
  if (config.databaseUrl) return;
  for (const suffix of ['', '-wal', '-shm']) {
    const file = path.join(config.dataDir, `tgpbx.sqlite${suffix}`);
    if (fs.existsSync(file)) fs.chmodSync(file, 0o600);
  }
}

