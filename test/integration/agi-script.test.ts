import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TelegramChannelStore } from '../../src/pbx/telegram-channel-store.js';
import type { Database } from '../../src/storage/database.js';
import { missingDatabaseUrl, onPostgres, openTestDatabase, testDatabaseEnv } from '../support/database.js';
import { AsteriskAgiPeer, type AgiCallSpec, type AgiPeerBehaviour } from '../support/agi-client.js';
import { tempDataDir } from '../support/module.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The daemon's database, as tgpbx.env would name it (TGPBX_DATABASE_URL on the PostgreSQL pass). */
let databaseEnv: Record<string, string> = {};
const HEADERS = { 'X-TG-Phone': '79990001122', 'X-TG-Username': 'alice_tg', 'X-TG-ID': '123456789', 'X-TG-FirstName': 'Alice', 'X-TG-LastName': 'Smith' };

interface ScriptRun {
  peer: AsteriskAgiPeer;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/**
 * Runs an agi/ script the way Asterisk's launch_script does: from another working
 * directory, with Asterisk's environment, AGI over the script's stdin/stdout, SIGHUP
 * on hang-up, and the AGI(script,args) arguments on its command line.
 */
function runScript(executable: string, env: Record<string, string>, spec: AgiCallSpec = {}, behaviour: AgiPeerBehaviour = {}): ScriptRun {
  const child = spawn(executable, spec.args ?? [], { cwd: os.tmpdir(), env: { PATH: process.env.PATH ?? '', ...databaseEnv, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const peer = AsteriskAgiPeer.local(child.stdout, child.stdin, executable, () => child.kill('SIGHUP'), spec, behaviour);
  return { peer, exit, stderr: () => stderr };
}

describe('AGI scripts in agi/ (a stdin/stdout conversation, as Asterisk runs them)', function () {
  this.timeout(30_000);
  let dataDir: string;
  let db: Database;
  let store: TelegramChannelStore;
  const script = (name: string) => path.join(root, 'agi', name);

  beforeEach(async () => {
    dataDir = tempDataDir();
    db = await openTestDatabase(dataDir); // the daemon created the database before
    databaseEnv = await testDatabaseEnv(dataDir);
    store = new TelegramChannelStore(db);
  });
  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('tg-callerid: every combination of X-TG-Phone, X-TG-Username and X-TG-ID gives the right caller ID', async () => {
    const cases: { headers: Record<string, string>; number: string; name: string; uniqueid: string }[] = [];
    let n = 0;
    for (const phone of [true, false])
      for (const username of [true, false])
        for (const id of [true, false]) {
          const names = n % 2 === 0;
          const headers: Record<string, string> = {};
          if (phone) headers['X-TG-Phone'] = HEADERS['X-TG-Phone'];
          if (username) headers['X-TG-Username'] = HEADERS['X-TG-Username'];
          if (id) headers['X-TG-ID'] = HEADERS['X-TG-ID'];
          if (names) Object.assign(headers, { 'X-TG-FirstName': 'Alice', 'X-TG-LastName': 'Smith' });
          cases.push({
            headers,
            number: phone ? '+79990001122' : username ? 'alice_tg' : id ? '123456789' : 'trunk',
            name: names ? 'Alice Smith' : username ? '@alice_tg' : 'Telegram',
            uniqueid: `1795331409.${++n}`,
          });
        }
    const runs = cases.map((c) => runScript(script('tg-callerid'), { TGPBX_DATA_DIR: dataDir }, { headers: c.headers, uniqueid: c.uniqueid, args: ['line=1'] }));
    await Promise.all(runs.map(async (r) => Promise.all([r.peer.finished, r.exit])));
    for (const [i, c] of cases.entries()) {
      const { peer, exit, stderr } = runs[i]!;
      const label = Object.keys(c.headers).join(', ') || 'no header';
      assert.deepEqual(await exit, { code: 0, signal: null }, label);
      assert.equal(peer.callerIdNum, c.number, label);
      assert.equal(peer.callerIdName, c.name, label);
      assert.equal(stderr(), '', `${label}: nothing on stderr`);
      const row = await store.byUniqueid(c.uniqueid);
      assert.equal(row?.telegramUserId ?? null, 'X-TG-ID' in c.headers ? '123456789' : null, label);
      if (Object.keys(c.headers).some((h) => h !== 'X-TG-FirstName' && h !== 'X-TG-LastName')) assert.equal(row?.lineId, 1, label);
      else assert.equal(row, undefined, label);
    }
  });

  it('works through a symlink in Asterisk\'s agi-bin, reading tgpbx.env-style variables from the environment', async () => {
    const agiBin = fs.mkdtempSync(path.join(os.tmpdir(), 'agi-bin-'));
    try {
      const link = path.join(agiBin, 'tgpbx-callerid');
      fs.symlinkSync(script('tg-callerid'), link);
      const run = runScript(link, { TGPBX_DATA_DIR: dataDir }, { headers: HEADERS, type: 'SIP', channel: 'SIP/tg-00000001' });
      await run.peer.finished;
      assert.deepEqual(await run.exit, { code: 0, signal: null });
      assert.equal(run.peer.callerIdNum, '+79990001122');
      assert.equal(run.peer.transcript.commands[0], 'GET VARIABLE SIP_HEADER(X-TG-Phone)');
    } finally {
      fs.rmSync(agiBin, { recursive: true, force: true });
    }
  });

  it('malformed input: ends at once with one line on stderr, exit code 0', async () => {
    const run = runScript(script('tg-callerid'), { TGPBX_DATA_DIR: dataDir }, {}, { stallEnvironmentAfter: 0 });
    await run.peer.writeRaw('this is not AGI\n\n');
    assert.deepEqual(await run.exit, { code: 0, signal: null });
    assert.equal(run.stderr().trim().split('\n').length, 1);
    assert.match(run.stderr(), /"outcome":"protocol".*AGI hook failed/);
  });

  it('Asterisk closing the pipe right after the environment: ends cleanly', async () => {
    const run = runScript(script('tg-callerid'), { TGPBX_DATA_DIR: dataDir }, { headers: HEADERS }, { closeAtCommand: 1 });
    assert.deepEqual(await run.exit, { code: 0, signal: null });
    assert.match(run.stderr(), /"outcome":"closed"/);
  });

  it('SIGHUP (the caller hung up) in the middle: the hook stops quietly, nothing is recorded', async () => {
    const run = runScript(script('tg-callerid'), { TGPBX_DATA_DIR: dataDir }, { headers: HEADERS, uniqueid: '1795331409.77' }, { hangupAfterCommands: 1, silent: false });
    await run.peer.finished;
    assert.deepEqual(await run.exit, { code: 0, signal: null });
    assert.equal(run.stderr(), '', 'a hang-up is no failure');
    assert.equal(await store.byUniqueid('1795331409.77'), undefined);
  });

  it('a slow Asterisk writing one byte at a time, and an oversized header line', async () => {
    const slow = runScript(script('tg-callerid'), { TGPBX_DATA_DIR: dataDir }, { headers: HEADERS }, { chunkSize: 1 });
    const huge = runScript(script('tg-callerid'), { TGPBX_DATA_DIR: dataDir }, { headers: { ...HEADERS, 'X-TG-LastName': 'Z'.repeat(20_000) } });
    await Promise.all([slow.peer.finished, huge.peer.finished]);
    assert.equal(slow.peer.callerIdName, 'Alice Smith');
    assert.deepEqual(await huge.exit, { code: 0, signal: null });
    assert.equal(huge.peer.callerIdNum, 'trunk');
    assert.match(huge.stderr(), /a line longer than 8192 bytes/);
  });

  it('without the daemon\'s database: the caller ID is still set, the reason is logged once', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tgpbx-nodb-'));
    try {
      // On PostgreSQL: a URL naming a database that does not exist.
      const run = runScript(script('tg-callerid'), { TGPBX_DATA_DIR: empty, ...(onPostgres ? { TGPBX_DATABASE_URL: missingDatabaseUrl } : {}) }, { headers: HEADERS });
      await run.peer.finished;
      assert.deepEqual(await run.exit, { code: 0, signal: null });
      assert.equal(run.peer.callerIdNum, '+79990001122');
      assert.equal(run.stderr().trim().split('\n').length, 1);
      assert.match(run.stderr(), onPostgres ? /database \\"tgpbx_no_such_database\\" does not exist/ : /tgpbx's database is not at .*tgpbx\.sqlite: start the tgpbx daemon once/);
      assert.equal(fs.readdirSync(empty).length, 0, 'the script creates no database of its own');
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('route-guard: a pass-through today, with its arguments from AGI(script,direction=in)', async () => {
    const run = runScript(script('route-guard'), { TGPBX_DATA_DIR: dataDir }, { args: ['direction=in', 'peer=tgpbx-line-1'] });
    await run.peer.finished;
    assert.deepEqual(await run.exit, { code: 0, signal: null });
    assert.deepEqual(run.peer.transcript.commands, ['SET VARIABLE TGPBX_ROUTE "allowed"']);
    assert.equal(run.stderr(), '');
  });
});
