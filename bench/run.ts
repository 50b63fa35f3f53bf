/** `npm run bench`: every benchmark in turn; each prints its figures and the machine. */
import { benchAmiIngest } from './ami-ingest.js';
import { benchOutboxThroughput } from './outbox-throughput.js';
import { benchFastAgi } from './fastagi.js';

await benchAmiIngest();
await benchOutboxThroughput();
await benchFastAgi();
