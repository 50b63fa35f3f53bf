import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import type { Logger } from '../log/logger.js';
import type { BackoffPolicy } from '../retry/backoff.js';
import type { SettingsStore } from '../settings/settings-store.js';
import type { Metrics } from '../status/metrics.js';
import type { StatusBoard } from '../status/status-board.js';
import type { Database } from '../storage/database.js';
import type { DialplanDeps } from '../web/dialplan-routes.js';
import type { AgiLimits } from './agi-channel.js';
import type { AgiHandlerRegistry } from './agi-handlers/agi-handler.js';
import { createAgiHandlers } from './agi-handlers/index.js';
import type { AmiClient, AmiEvent } from './ami.js';
import type { TelegramLine } from './telegram-lines.js';
import { DialplanPublisher, dialplanOptionsFromSettings } from './dialplan-publisher.js';
import { fastAgiUrlFor } from './dialplan.js';
import { FastAgiServer } from './fastagi.js';
import { RouteGuard } from './route-guard.js';
import { TelegramChannelStore } from './telegram-channel-store.js';

/** tgpbx's agi/ folder (the scripts the dialplan may call instead of FastAGI). */
export const AGI_SCRIPTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../agi');

/** Timings of the hooks; tests shorten them. */
export interface DialplanHooksOptions {
  agiLimits?: Partial<AgiLimits>;
  agiSessionTimeoutMs?: number;
  fastAgiListenRetry?: BackoffPolicy;
  routeDecisionTimeoutMs?: number;
  telegramChannelTtlMs?: number;
}

/**
 * Everything the PBX's dialplan calls into tgpbx through: the FastAGI server with its
 * handlers (`tg-callerid`, `route-guard`), the RouteGuard the features add their policies
 * to, the TelegramChannelStore (forgotten at each AMI Hangup), and the DialplanPublisher
 * that keeps extensions_tgpbx.conf current in Asterisk. Built once by the composition
 * root; `start()` listens and publishes, `stop()` drains and closes. Emits
 * `channel-forgotten` (uniqueid) when a Hangup removed a Telegram channel record.
 */
export class DialplanHooks extends EventEmitter {
  readonly telegramChannels: TelegramChannelStore;
  readonly routeGuard: RouteGuard;
  readonly handlers: AgiHandlerRegistry;
  readonly fastAgi: FastAgiServer;
  readonly dialplan: DialplanPublisher;
  /** What the Dialplan page and API read. */
  readonly web: DialplanDeps;
  private readonly onAmiEvent = (event: AmiEvent) => {
    const uniqueid = event.event === 'Hangup' ? event.fields.uniqueid : undefined;
    if (!uniqueid) return;
    this.telegramChannels.forget(uniqueid).then(
      (had) => had && this.emit('channel-forgotten', uniqueid),
      (err: Error) => this.deps.logger.warn({ err: err.message }, 'could not forget a hung-up Telegram channel'),
    );
  };

  constructor(
    private readonly deps: {
      config: Config;
      db: Database;
      settings: SettingsStore;
      ami: AmiClient | null;
      logger: Logger;
      status: StatusBoard;
      metrics: Metrics;
      /** The Telegram provider's numbers as lines (read at each publish); none: the interim setting. */
      telegramLines?: () => TelegramLine[];
    },
    options: DialplanHooksOptions = {},
  ) {
    super();
    const { config, settings, logger, status } = deps;
    this.telegramChannels = new TelegramChannelStore(deps.db, options.telegramChannelTtlMs);
    this.routeGuard = new RouteGuard({ logger, decisionTimeoutMs: options.routeDecisionTimeoutMs });
    this.handlers = createAgiHandlers({ telegramChannels: this.telegramChannels, routeGuard: this.routeGuard });
    this.fastAgi = new FastAgiServer({
      host: config.fastAgiHost,
      port: config.fastAgiPort,
      handlers: this.handlers,
      logger,
      status,
      metrics: deps.metrics,
      limits: options.agiLimits,
      sessionTimeoutMs: options.agiSessionTimeoutMs,
      listenRetry: options.fastAgiListenRetry,
    });
    const providerLines = () => deps.telegramLines?.() ?? [];
    const fastAgiUrl = () => fastAgiUrlFor(config.fastAgiHost, this.fastAgi.address?.port ?? config.fastAgiPort);
    this.dialplan = new DialplanPublisher({
      path: config.dialplanPath,
      options: () => dialplanOptionsFromSettings(settings, fastAgiUrl(), 'tgpbx', providerLines()),
      settings,
      ami: deps.ami,
      logger,
      status,
    });
    this.web = { publisher: this.dialplan, handlers: this.handlers, settings, status, fastAgiUrl, agiDir: AGI_SCRIPTS_DIR, providerLines };
  }

  /** Listens for FastAGI (a taken port is retried in the background), then writes the dialplan and follows AMI. */
  async start(): Promise<void> {
    await this.fastAgi.start();
    this.deps.ami?.on('event', this.onAmiEvent);
    await this.dialplan.start();
  }

  /** Lets conversations in progress finish, then closes the server; call before the database closes. */
  async stop(): Promise<void> {
    this.deps.ami?.off('event', this.onAmiEvent);
    await this.fastAgi.stop();
    await this.dialplan.stop();
  }
}
