import { Api, Bot, GrammyError, HttpError, type Composer, type Context } from 'grammy';
import { autoRetry } from '@grammyjs/auto-retry';
import type { UserFromGetMe } from 'grammy/types';
import type { Logger } from '../log/logger.js';
import type { StatusBoard } from '../status/status-board.js';
import { nextBackoff, type BackoffPolicy } from '../retry/backoff.js';
import type { SenderBot } from './outbox-sender.js';
import { withTimeout } from '../retry/timeout.js';

/** A bot tgpbx runs: an id used by outbox rows, a name for the admin, its token and what it answers. */
export interface BotDefinition {
  id: string;
  name: string;
  token: string;
  /** Features' bot behaviour (grammY Composers) mounted on this bot. */
  composers: Composer<Context>[];
  /** What the bot announces in Telegram (setMyCommands, setMyDescription), set after each successful start. */
  profile?: () => BotProfile;
  /** What the status detail of a refused token advises (default: check it in Settings). */
  refusedHint?: string;
}

/** The command list and descriptions a bot shows its users. */
export interface BotProfile {
  commands: { command: string; description: string }[];
  description: string;
  shortDescription: string;
}

export type BotState = 'checking' | 'ready' | 'refused' | 'unreachable' | 'stopped';

export interface TelegramBotOptions {
  apiRoot: string;
  logger: Logger;
  status: StatusBoard;
  /** Called whenever the bot becomes ready (its outbox lane may send again). */
  onReady: () => void;
  /** Called whenever Telegram refuses the token (the light has just turned red). */
  onRefused?: () => void;
  backoff?: BackoffPolicy;
  /** Re-check a refused token after this long (default 10 min): an admin may have revoked and restored it. */
  recheckRefusedMs?: number;
  /** Long polling timeout in seconds (default 30). */
  pollTimeoutSeconds?: number;
}

/**
 * One Telegram bot: checks its token with getMe, long-polls for updates into the mounted
 * Composers, and lends the outbox a Bot API client while the token works. A refused token
 * or an unreachable Telegram turns its status light red with the reason; it never throws
 * into the module.
 */
export class TelegramBot implements SenderBot {
  private bot: Bot | null = null;
  private sendApi: Api | null = null;
  private _state: BotState = 'stopped';
  private info: UserFromGetMe | null = null;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private generation = 0;

  constructor(
    readonly definition: BotDefinition,
    private readonly opts: TelegramBotOptions,
  ) {}

  get state(): BotState {
    return this._state;
  }

  get statusId(): string {
    return `bot:${this.definition.id}`;
  }

  /** The bot's own user (after a successful getMe). */
  get me(): UserFromGetMe | null {
    return this.info;
  }

  /** Starts checking the token and then polling; returns at once. */
  start(): void {
    if (this._state !== 'stopped') return;
    this.check();
  }

  /** Stops polling (confirming the last update) and lends no more API clients. */
  async stop(): Promise<void> {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this._state = 'stopped';
    this.sendApi = null;
    const bot = this.bot;
    this.bot = null;
    if (bot?.isRunning()) await withTimeout(bot.stop(), 3_000).catch(() => undefined);
    await withTimeout(this.polling ?? Promise.resolve(), 3_000).catch(() => undefined);
    this.opts.status.remove(this.statusId);
  }

  api(): Api | null {
    return this._state === 'ready' ? this.sendApi : null;
  }

  tokenRefused(description: string): void {
    if (this._state === 'refused' || this._state === 'stopped') return;
    this.refuse(description);
  }

  private check(): void {
    const generation = ++this.generation;
    this.setState('checking', 'orange', 'checking the token with Telegram (getMe)');
    const { token } = this.definition;
    const client = { apiRoot: this.opts.apiRoot, timeoutSeconds: 30 };
    const bot = new Bot(token, { client });
    bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60 }));
    for (const composer of this.definition.composers) bot.use(composer);
    bot.catch((err) => this.opts.logger.error({ bot: this.definition.id, err: describe(err.error) }, 'bot handler failed'));
    this.bot = bot;
    this.sendApi = new Api(token, client);
    bot.init().then(
      () => {
        if (generation !== this.generation) return;
        this.info = bot.botInfo;
        this.failures = 0;
        this.setState('ready', 'green', `@${bot.botInfo.username} connected`);
        this.opts.onReady();
        this.poll(bot, generation);
        void this.announce(bot);
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        this.failed(err);
      },
    );
  }

  /** Sets the command list and descriptions; a failure is logged, the bot keeps working. */
  private async announce(bot: Bot): Promise<void> {
    const profile = this.definition.profile?.();
    if (!profile) return;
    try {
      await bot.api.setMyCommands(profile.commands);
      await bot.api.setMyDescription(profile.description);
      await bot.api.setMyShortDescription(profile.shortDescription);
    } catch (err) {
      this.opts.logger.warn({ bot: this.definition.id, err: describe(err) }, 'could not set the bot commands and description');
    }
  }

  private poll(bot: Bot, generation: number): void {
    this.polling = bot
      .start({ timeout: this.opts.pollTimeoutSeconds ?? 30, drop_pending_updates: false })
      .catch((err: unknown) => {
        if (generation !== this.generation) return;
        this.failed(err);
      });
  }

  private failed(err: unknown): void {
    if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
      this.refuse(err.description);
      return;
    }
    const conflict = err instanceof GrammyError && err.error_code === 409;
    const delay = nextBackoff(this.opts.backoff ?? { initialMs: 1_000, maxMs: 60_000 }, this.failures++);
    const reason = conflict
      ? 'another program is polling this bot (409 Conflict); only one may'
      : `Telegram unreachable: ${describe(err)}`;
    this.opts.logger.warn({ bot: this.definition.id, reason, retryInMs: delay }, 'bot not connected');
    this.setState('unreachable', 'red', `${reason}; retrying in ${Math.ceil(delay / 1000)} s`);
    this.retryAfter(delay);
  }

  private refuse(description: string): void {
    this.opts.logger.warn({ bot: this.definition.id, reason: description }, 'Telegram refused the bot token');
    this.setState('refused', 'red', `Telegram refused the token (${description}); ${this.definition.refusedHint ?? 'check it in Settings'}`);
    this.retryAfter(this.opts.recheckRefusedMs ?? 600_000);
    this.opts.onRefused?.();
  }

  private retryAfter(delay: number): void {
    const bot = this.bot;
    this.bot = null;
    this.sendApi = null;
    this.generation++;
    if (bot?.isRunning()) bot.stop().catch(() => undefined);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.check();
    }, delay);
  }

  private setState(state: BotState, light: 'red' | 'orange' | 'green', detail: string): void {
    this._state = state;
    this.opts.status.set(this.statusId, `Telegram bot "${this.definition.name}"`, light, detail);
  }
}

/** A safe one-line description of a Bot API failure (grammY keeps the token out of these). */
function describe(err: unknown): string {
  if (err instanceof GrammyError) return `${err.error_code} ${err.description}`;
  if (err instanceof HttpError) return String((err.error as Error)?.message ?? 'network error');
  return err instanceof Error ? err.message : String(err);
}
