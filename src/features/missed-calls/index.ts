import type { CallHistory } from '../../pbx/call-history.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { Database } from '../../storage/database.js';
import type { Outbox } from '../../telegram/outbox.js';
import type { BotProfile } from '../../telegram/telegram-bot.js';
import { missedCallCommands, missedCallsBot } from './bot.js';
import { MissedCallNotifier } from './notifier.js';
import { MissedCallStore } from './store.js';
import { CallBackFromNotice } from './call-back.js';
import type { CallBackDialer } from '../../pbx/call-back.js';
import type { PbxDirectory } from '../../pbx/pbx-directory.js';
import { MissedCallsAdmin } from './admin.js';
import { textsIn } from './texts.js';

/**
 * The missed-calls feature (seed 001): subscriptions by key, notices for missed calls,
 * service messages, and the bot commands. Built once by the composition root.
 */
export function createMissedCalls(deps: { db: Database; history: CallHistory; directory: PbxDirectory; outbox: Outbox; settings: SettingsStore; dialer: CallBackDialer; botId?: () => string }) {
  const store = new MissedCallStore(deps.db);
  const callBack = new CallBackFromNotice({ db: deps.db, store, dialer: deps.dialer });
  const notifier = new MissedCallNotifier({ db: deps.db, store, outbox: deps.outbox, settings: deps.settings, botId: deps.botId });
  deps.history.onCallEnded(notifier.onCallEnded);
  const admin = new MissedCallsAdmin({ store, notifier, directory: deps.directory, db: deps.db });
  const composer = missedCallsBot({ db: deps.db, store, settings: deps.settings, callBack });
  const profile = (): BotProfile => {
    const language = deps.settings.get('general.language');
    const t = textsIn(language);
    return { commands: missedCallCommands(language), description: t.description, shortDescription: t.shortDescription };
  };
  return { store, notifier, admin, composer, profile };
}

export type MissedCalls = ReturnType<typeof createMissedCalls>;
