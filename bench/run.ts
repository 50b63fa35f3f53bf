/** `npm run bench`: every benchmark in turn; each prints its figures and the machine. */
import { benchAmiIngest } from './ami-ingest.js';
import { benchCallEngine } from './call-engine.js';
import { benchCallJournal } from './call-journal.js';
import { benchFastAgi } from './fastagi.js';
import { benchMissedCallNotices } from './missed-call-notices.js';
import { benchOutboxThroughput } from './outbox-throughput.js';
import { benchProviderAccounts } from './provider-accounts.js';
import { benchReportsProfit } from './reports-profit.js';
import { benchReportsRerate } from './reports-rerate.js';

await benchAmiIngest();
await benchCallEngine();
await benchCallJournal();
await benchMissedCallNotices();
await benchOutboxThroughput();
await benchFastAgi();
await benchReportsProfit();
await benchReportsRerate();
await benchProviderAccounts();
