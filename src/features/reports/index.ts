import type { Composer, Context } from 'grammy';
import type { Logger } from '../../log/logger.js';
import type { CallHistory } from '../../pbx/call-history.js';
import type { Clock } from '../../pbx/clock.js';
import type { PbxDirectory } from '../../pbx/pbx-directory.js';
import type { RouteGuard } from '../../pbx/route-guard.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { Database } from '../../storage/database.js';
import type { Outbox } from '../../telegram/outbox.js';
import { reportsBot } from './bot.js';
import { LossControl } from './loss-control.js';
import { profitReport } from './profit.js';
import { RateDeckStore } from './rate-decks.js';
import { CallRater, ratableCall } from './rating.js';
import { ReportChats } from './report-chats.js';
import { reportTexts } from './texts.js';

/**
 * The reports feature (seed 000, issue 8): rate decks, rating of every call, /profit in
 * Telegram for registered chats, and loss control through the route guard. Built once by
 * the composition root; `start()` loads the open blocks, `stop()` clears their timers.
 */
export function createReports(deps: { db: Database; history: CallHistory; directory: PbxDirectory; outbox: Outbox; settings: SettingsStore; routeGuard: RouteGuard; clock: Clock; logger: Logger }) {
  const now = () => deps.clock.now();
  const decks = new RateDeckStore(deps.db, now);
  const rater = new CallRater({ db: deps.db, decks, now });
  const chats = new ReportChats(deps.db, now);
  const lossControl = new LossControl({ db: deps.db, outbox: deps.outbox, settings: deps.settings, clock: deps.clock, logger: deps.logger });
  deps.routeGuard.addPolicy(lossControl.policy);
  deps.history.onCallEnded(async (call, trx, callId) => {
    const ratable = ratableCall(call);
    if (!ratable) return;
    const rating = await rater.rate(trx, callId, ratable);
    if (rating) await lossControl.afterRating(trx, ratable.peer);
  });
  /** Peers the admin can choose: the PBX's trunks and every peer with a deck. */
  const peers = async (): Promise<string[]> => {
    const trunks = (await deps.directory.endpoints()).filter((e) => e.kind === 'trunk').map((e) => e.endpoint);
    return [...new Set([...trunks, ...(await decks.peers())])].sort();
  };
  const composers = new Map<string, Composer<Context>>();
  /** The reports bot behaviour for one bot (access is per bot: a chat is registered with the bot that answers there). */
  const composerFor = (botId: string): Composer<Context> => {
    let c = composers.get(botId);
    if (!c) composers.set(botId, (c = reportsBot({ db: deps.db, chats, lossControl, settings: deps.settings, logger: deps.logger, now }, botId)));
    return c;
  };
  return {
    db: deps.db,
    decks,
    rater,
    chats,
    lossControl,
    peers,
    composerFor,
    commands: () => reportTexts(deps.settings.get('general.language')).commands,
    now,
    profit: (q: { peer: string; from: number; to: number }) => profitReport(deps.db, q),
    /** Re-rates a period (one peer or all), then checks again the loss limits of the current periods it touched. */
    rerate: async (span: { from: number; to: number; peer?: string }) => {
      const result = await rater.rerate(span);
      return { ...result, lossControl: await lossControl.afterRerate(span) };
    },
    start: () => lossControl.start(),
    stop: () => lossControl.stop(),
  };
}

export type Reports = ReturnType<typeof createReports>;
