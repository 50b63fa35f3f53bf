import type { Knex } from 'knex';
import { foundation } from './001-foundation.js';
import { telegramChannels } from './002-telegram-channels.js';
import { calls } from './003-calls.js';
import { missedCalls } from './004-missed-calls.js';
import { customBots } from './005-custom-bots.js';
import { reports } from './006-reports.js';
import { provider } from './007-provider.js';
import { callJournal } from './009-call-journal.js';
import { reportsRerate } from './010-reports-rerate.js';

/** One schema change; `name` orders them and is recorded once applied. */
export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

/** Every migration, oldest first. Add new ones at the end; never edit an applied one. */
export const migrations: Migration[] = [foundation, telegramChannels, calls, missedCalls, customBots, reports, provider, callJournal, reportsRerate];
