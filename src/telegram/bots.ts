import type { Logger } from '../log/logger.js';
import type { SecretScrubber } from '../log/secret-scrubber.js';
import type { BackoffPolicy } from '../retry/backoff.js';
import type { Database } from '../storage/database.js';
import type { Metrics } from '../status/metrics.js';
import type { StatusBoard } from '../status/status-board.js';
import type { Outbox } from './outbox.js';
import { OutboxSender } from './outbox-sender.js';
import type { RecipientStore } from './recipients.js';
import type { SendLimits } from './send-rate-limiter.js';
import { TelegramBot, type BotDefinition } from './telegram-bot.js';

export interface BotRegistryOptions {
  apiRoot: string;
  scrubber: SecretScrubber;
  db: Database;
  outbox: Outbox;
  recipients: RecipientStore;
  logger: Logger;
  status: StatusBoard;
  metrics: Metrics;
  /** The bots that should run now (from settings and features); read again on `reload()`. */
  definitions: () => BotDefinition[];
  limits: () => SendLimits;
  inFlight: () => number;
  /** Shown when no bot is configured at all. */
  emptyHint?: string;
  /** A bot's token was refused (its light just turned red), e.g. to hand its pending rows to another lane. */
  onTokenRefused?: (botId: string) => void;
  /** Backoff of outbox retries after 5xx and network errors (default 1 s doubling to 5 min). */
  retry?: BackoffPolicy;
}

interface RunningBot {
  bot: TelegramBot;
  sender: OutboxSender;
}

/**
 * Runs every configured bot and its outbox lane. Features mount their bot behaviour
 * through BotDefinition.composers and send only through the outbox; this registry only
 * starts, stops and re-creates bots when their definitions change.
 */
export class BotRegistry {
  private readonly running = new Map<string, RunningBot>();
  private reloading: Promise<void> = Promise.resolve();
  private readonly onEnqueued = (botId: string) => {
    const run = this.running.get(botId);
    run?.sender.wake();
    // A row written for a bot whose token is refused (a race with the refusal) is handed on too.
    if (run?.bot.state === 'refused') this.opts.onTokenRefused?.(botId);
  };

  constructor(private readonly opts: BotRegistryOptions) {}

  /** Starts every defined bot; a bad token only turns that bot's light red. */
  async start(): Promise<void> {
    this.opts.outbox.on('enqueued', this.onEnqueued);
    await this.reload();
  }

  /**
   * Applies changed definitions: new bots start, removed ones stop, changed tokens restart.
   * Reloads run one after another: two at once would start the same bot twice.
   */
  reload(): Promise<void> {
    const next = this.reloading.then(() => this.apply());
    this.reloading = next.catch(() => undefined);
    return next;
  }

  private async apply(): Promise<void> {
    const wanted = new Map(this.opts.definitions().map((d) => [d.id, d]));
    for (const [id, run] of this.running) {
      const def = wanted.get(id);
      if (!def || def.token !== run.bot.definition.token || def.name !== run.bot.definition.name) await this.stopOne(id);
    }
    for (const def of wanted.values()) if (!this.running.has(def.id)) await this.startOne(def);
    if (wanted.size === 0) this.opts.status.set('bot:none', 'Telegram bot', 'off', this.opts.emptyHint ?? 'no bot token set (Settings)');
    else this.opts.status.remove('bot:none');
  }

  /** The running bot with this id, if any. */
  get(id: string): TelegramBot | undefined {
    return this.running.get(id)?.bot;
  }

  /** Tells a bot's outbox lane to look for rows now (e.g. rows handed over from another lane). */
  wake(id: string): void {
    this.running.get(id)?.sender.wake();
  }

  /** Stops every bot after its lane has recorded the messages in flight. */
  async stop(): Promise<void> {
    this.opts.outbox.off('enqueued', this.onEnqueued);
    await this.reloading;
    await Promise.all([...this.running.keys()].map((id) => this.stopOne(id)));
  }

  private async startOne(def: BotDefinition): Promise<void> {
    const { opts } = this;
    let sender: OutboxSender | null = null;
    const bot = new TelegramBot(def, {
      apiRoot: opts.apiRoot,
      logger: opts.logger,
      status: opts.status,
      onReady: () => sender?.wake(),
      onRefused: () => opts.onTokenRefused?.(def.id),
    });
    sender = new OutboxSender({
      db: opts.db,
      scrubber: opts.scrubber,
      botId: def.id,
      bot,
      recipients: opts.recipients,
      limits: opts.limits,
      inFlight: opts.inFlight,
      logger: opts.logger,
      metrics: opts.metrics,
      retry: opts.retry,
    });
    this.running.set(def.id, { bot, sender });
    bot.start();
    await sender.start();
  }

  private async stopOne(id: string): Promise<void> {
    const run = this.running.get(id);
    if (!run) return;
    this.running.delete(id);
    await run.sender.stop();
    await run.bot.stop();
  }
}
