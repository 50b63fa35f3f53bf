import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createLogger } from '../../src/log/logger.js';
import { SecretScrubber } from '../../src/log/secret-scrubber.js';
import { createAgiHandlers } from '../../src/pbx/agi-handlers/index.js';
import type { TelegramChannelRecorder } from '../../src/pbx/agi-handlers/tg-callerid.js';
import type { AgiSessionReport } from '../../src/pbx/agi-session.js';
import { FastAgiServer } from '../../src/pbx/fastagi.js';
import { RouteGuard, type RouteBlocked } from '../../src/pbx/route-guard.js';
import { TelegramChannelStore } from '../../src/pbx/telegram-channel-store.js';
import { Metrics } from '../../src/status/metrics.js';
import { StatusBoard } from '../../src/status/status-board.js';
import type { Database } from '../../src/storage/database.js';
import { openTestDatabase } from '../support/database.js';
import { AsteriskAgiPeer, type AgiCallSpec, type AgiPeerBehaviour } from '../support/agi-client.js';
import { LogCapture, nextEvent, tempDataDir } from '../support/module.js';

const HEADERS = { 'X-TG-Phone': '79990001122', 'X-TG-Username': 'alice_tg', 'X-TG-ID': '123456789', 'X-TG-FirstName': 'Alice', 'X-TG-LastName': 'Smith' };
const LIMITS = { environmentTimeoutMs: 150, replyTimeoutMs: 150, maxLineBytes: 4096, maxEnvironmentBytes: 16_384 };

describe('FastAGI server (a real AGI conversation over TCP)', () => {
  let dataDir: string;
  let db: Database;
  let logs: LogCapture;
  let status: StatusBoard;
  let guard: RouteGuard;
  let store: TelegramChannelStore;
  let server: FastAgiServer;
  let uid = 0;

  async function startServer(recorder?: TelegramChannelRecorder, sessionTimeoutMs = 2_000): Promise<void> {
    const logger = createLogger({ level: 'debug', scrubber: new SecretScrubber(), sink: logs });
    guard = new RouteGuard({ logger, decisionTimeoutMs: 100 });
    server = new FastAgiServer({
      host: '127.0.0.1',
      port: 0,
      handlers: createAgiHandlers({ telegramChannels: recorder ?? store, routeGuard: guard }),
      logger,
      status,
      metrics: new Metrics(),
      limits: LIMITS,
      sessionTimeoutMs,
    });
    server.setMaxListeners(100); // the 50-call test waits on 50 session reports at once
    await server.start();
  }

  beforeEach(async () => {
    dataDir = tempDataDir();
    db = await openTestDatabase(dataDir);
    store = new TelegramChannelStore(db);
    logs = new LogCapture();
    status = new StatusBoard();
    await startServer();
  });
  afterEach(async () => {
    await server.stop();
    await db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** One AGI() call: connects like Asterisk, waits for tgpbx's session report and the end of the conversation. */
  async function call(script: string, spec: AgiCallSpec = {}, behaviour: AgiPeerBehaviour = {}): Promise<{ peer: AsteriskAgiPeer; report: AgiSessionReport }> {
    const uniqueid = spec.uniqueid ?? `1795331409.${++uid}`;
    const reported = nextEvent(server, 'session', (r: AgiSessionReport) => r.uniqueid === uniqueid || r.uniqueid === '');
    const peer = await AsteriskAgiPeer.fastAgi(server.address!.port, script, { ...spec, uniqueid }, behaviour);
    const [report] = await reported;
    await peer.finished;
    return { peer, report };
  }

  function failureLines(): string[] {
    return logs.lines.filter((l) => l.includes('AGI hook failed'));
  }

  it('listens on 127.0.0.1 and says so on its light', () => {
    assert.equal(status.get('fastagi')?.light, 'green');
    assert.equal(status.get('fastagi')?.detail, `listening on 127.0.0.1:${server.address!.port}`);
    assert.equal(server.url, `agi://127.0.0.1:${server.address!.port}`);
  });

  describe('tg-callerid: every combination of present and absent headers', () => {
    for (const type of ['PJSIP', 'SIP'] as const) {
      for (const phone of [true, false])
        for (const username of [true, false])
          for (const id of [true, false])
            for (const names of [true, false]) {
              const present = [phone && 'phone', username && 'username', id && 'id', names && 'names'].filter(Boolean) as string[];
              const number = phone ? '+79990001122' : username ? 'alice_tg' : id ? '123456789' : 'trunk';
              const name = names ? 'Alice Smith' : username ? '@alice_tg' : 'Telegram';
              it(`${type}, ${present.join('+') || 'no X-TG header'}: ${number} "${name}"`, async () => {
                const headers: Record<string, string> = {};
                if (phone) headers['X-TG-Phone'] = HEADERS['X-TG-Phone'];
                if (username) headers['X-TG-Username'] = HEADERS['X-TG-Username'];
                if (id) headers['X-TG-ID'] = HEADERS['X-TG-ID'];
                if (names) Object.assign(headers, { 'X-TG-FirstName': 'Alice', 'X-TG-LastName': 'Smith' });
                const { peer, report } = await call('tg-callerid?line=2', { type, headers, channel: `${type}/tgpbx-line-2-00000001`, linkedid: '1795331409.1' });
                assert.equal(report.outcome, 'ok');
                assert.equal(peer.callerIdNum, number);
                assert.equal(peer.callerIdName, name);
                const fn = type === 'PJSIP' ? 'PJSIP_HEADER(read,' : 'SIP_HEADER(';
                assert.deepEqual(peer.transcript.commands.slice(0, 5), ['X-TG-Phone', 'X-TG-Username', 'X-TG-ID', 'X-TG-FirstName', 'X-TG-LastName'].map((h) => `GET VARIABLE ${fn}${h})`));
                assert.equal(peer.variables.get('TG_ID'), id ? '123456789' : undefined);
                const row = await store.byUniqueid(report.uniqueid);
                if (phone || username || id) {
                  assert.deepEqual(
                    { channel: row?.channel, linkedid: row?.linkedid, user: row?.telegramUserId, username: row?.telegramUsername, phone: row?.phone, line: row?.lineId },
                    { channel: `${type}/tgpbx-line-2-00000001`, linkedid: '1795331409.1', user: id ? '123456789' : null, username: username ? 'alice_tg' : null, phone: phone ? '+79990001122' : null, line: 2 },
                  );
                } else {
                  assert.equal(row, undefined);
                  assert.deepEqual(peer.transcript.commands.slice(5), names ? ['SET VARIABLE CALLERID(name) "Alice Smith"'] : [], 'without an identity header only the name may change');
                }
                assert.equal(peer.transcript.endedByTgpbx, true);
              });
            }
    }
  });

  it('leaves a channel of another technology (Local) alone', async () => {
    const { peer, report } = await call('tg-callerid', { type: 'Local', headers: HEADERS });
    assert.equal(report.outcome, 'ok');
    assert.deepEqual(peer.transcript.commands, []);
  });

  it('keeps the record of a Telegram user findable by the user id until the channel is forgotten', async () => {
    const { report } = await call('tg-callerid', { headers: HEADERS });
    const found = await store.byTelegramUser('123456789');
    assert.deepEqual(found.map((c) => c.uniqueid), [report.uniqueid]);
    assert.equal(await store.forget(report.uniqueid), true);
    assert.deepEqual(await store.byTelegramUser('123456789'), []);
  });

  it('takes key=value arguments of AGI() as parameters', async () => {
    const { report } = await call('tg-callerid', { headers: HEADERS, args: ['line=7', 'ignored'] });
    assert.equal((await store.byUniqueid(report.uniqueid))?.lineId, 7);
  });

  describe('survives bad input: the conversation ends, the failure is logged once, Asterisk goes on', () => {
    it('an environment line that is not agi_*', async () => {
      const reported = nextEvent(server, 'session');
      const peer = await AsteriskAgiPeer.fastAgi(server.address!.port, 'tg-callerid', { headers: HEADERS }, { stallEnvironmentAfter: 0 });
      await peer.writeRaw('agi_network: yes\nGET / HTTP/1.1\n\n');
      const [report] = await reported;
      await peer.finished;
      assert.equal(report.outcome, 'protocol');
      assert.match(report.reason!, /not an agi_\* variable/);
      assert.equal(peer.transcript.endedByTgpbx, true);
      assert.equal(failureLines().length, 1);
    });

    it('binary garbage', async () => {
      const reported = nextEvent(server, 'session');
      const peer = await AsteriskAgiPeer.fastAgi(server.address!.port, 'tg-callerid', {}, { stallEnvironmentAfter: 0 });
      await peer.writeRaw(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0a]));
      const [report] = await reported;
      assert.equal(report.outcome, 'protocol');
      assert.equal(failureLines().length, 1);
    });

    it('an empty environment', async () => {
      const reported = nextEvent(server, 'session');
      const peer = await AsteriskAgiPeer.fastAgi(server.address!.port, 'tg-callerid', {}, { stallEnvironmentAfter: 0 });
      await peer.writeRaw('\n');
      const [report] = await reported;
      assert.equal(report.outcome, 'protocol');
      assert.match(report.reason!, /empty AGI environment/);
    });

    it('a reply that is not AGI', async () => {
      const { peer, report } = await call('tg-callerid', { headers: HEADERS }, { replyOverride: (_c, i) => (i === 1 ? 'OK then\n' : undefined) });
      assert.equal(report.outcome, 'protocol');
      assert.equal(peer.callerIdNum, 'trunk', 'caller ID untouched');
      assert.equal(failureLines().length, 1);
    });

    it('Asterisk refusing a command (510), and a multi-line 520 usage reply read to its end', async () => {
      const refused = await call('tg-callerid', { headers: HEADERS }, { replyOverride: (_c, i) => (i === 0 ? '510 Invalid or unknown command\n' : undefined) });
      assert.equal(refused.report.outcome, 'command');
      assert.match(refused.report.reason!, /GET VARIABLE PJSIP_HEADER\(read,X-TG-Phone\): unknown command/);
      const usage = '520-Invalid command syntax.  Proper usage follows:\n Usage: GET VARIABLE <variablename>\n\tReturns 0 if <variablename> is not set.\n520 End of proper usage.\n';
      const syntax = await call('tg-callerid', { headers: HEADERS }, { replyOverride: (_c, i) => (i === 0 ? usage : undefined) });
      assert.equal(syntax.report.outcome, 'command');
      assert.match(syntax.report.reason!, /invalid command syntax/);
      assert.equal(syntax.peer.transcript.commands.length, 1);
      assert.equal(failureLines().length, 2);
    });

    it('an oversized header value (longer than a line may be)', async () => {
      const huge = 'A'.repeat(LIMITS.maxLineBytes + 10);
      const { peer, report } = await call('tg-callerid', { headers: { ...HEADERS, 'X-TG-FirstName': huge } });
      assert.equal(report.outcome, 'protocol');
      assert.match(report.reason!, /a line longer than 4096 bytes/);
      assert.equal(peer.callerIdNum, 'trunk');
      assert.equal(failureLines().length, 1);
      assert.ok(!logs.text.includes('AAAAAAAAAA'), 'no header value in the log');
    });

    it('a long header value that fits (Asterisk cuts values at 1 KiB): the name is cut to 64 characters', async () => {
      const { peer, report } = await call('tg-callerid', { headers: { ...HEADERS, 'X-TG-FirstName': 'B'.repeat(1023) } });
      assert.equal(report.outcome, 'ok');
      assert.equal(peer.callerIdName, 'B'.repeat(64));
    });

    it('an oversized environment', async () => {
      const args = Array.from({ length: 200 }, (_, i) => `arg${i}=${'x'.repeat(100)}`);
      const { report } = await call('tg-callerid', { headers: HEADERS, args });
      assert.equal(report.outcome, 'protocol');
      assert.match(report.reason!, /AGI environment larger than 16384 bytes/);
    });

    it('header values with quotes, backslashes and tabs arrive whole and cannot break the command line', async () => {
      const { peer, report } = await call('tg-callerid', { headers: { 'X-TG-ID': '42', 'X-TG-FirstName': 'Bob "the\\builder"', 'X-TG-LastName': '\tX" EVIL "1' } });
      assert.equal(report.outcome, 'ok');
      assert.equal(peer.callerIdName, 'Bob "the\\builder" X" EVIL "1');
      assert.equal(peer.variables.get('EVIL'), undefined);
      assert.equal(peer.transcript.commands.length, 9);
    });
  });

  describe('hang-ups and slow peers', () => {
    it('a caller who hangs up at once: the hook stops, nothing is recorded, nothing is logged as a failure', async () => {
      const { peer, report } = await call('tg-callerid', { headers: HEADERS }, { hangupAfterCommands: 1 });
      assert.equal(report.outcome, 'hangup');
      assert.ok(peer.transcript.commands.length <= 2);
      assert.equal(peer.callerIdNum, 'trunk');
      assert.equal(await store.byUniqueid(report.uniqueid), undefined);
      assert.equal(failureLines().length, 0);
    });

    it('a hang-up in the middle: 511 to a command not allowed on a dead channel ends the hook quietly', async () => {
      const { report } = await call('tg-callerid', { headers: HEADERS, agiSigHup: false }, { replyOverride: (_c, i) => (i === 2 ? '511 Command Not Permitted on a dead channel or intercept routine\n' : undefined) });
      assert.equal(report.outcome, 'hangup');
      assert.equal(failureLines().length, 0);
    });

    it('Asterisk closing the connection in the middle', async () => {
      const { peer, report } = await call('tg-callerid', { headers: HEADERS }, { closeAtCommand: 3 });
      assert.equal(report.outcome, 'closed');
      assert.equal(peer.callerIdNum, 'trunk');
      assert.equal(failureLines().length, 1);
    });

    it('a slow peer writing one byte at a time still gets its caller ID', async () => {
      const { peer, report } = await call('tg-callerid', { headers: HEADERS }, { chunkSize: 1 });
      assert.equal(report.outcome, 'ok');
      assert.equal(peer.callerIdNum, '+79990001122');
      assert.equal(peer.callerIdName, 'Alice Smith');
    });

    it('a peer whose environment never ends is cut off after the environment timeout', async () => {
      const { peer, report } = await call('tg-callerid', { headers: HEADERS }, { stallEnvironmentAfter: 120 });
      assert.equal(report.outcome, 'timeout');
      assert.match(report.reason!, /no complete AGI environment within 150 ms/);
      assert.equal(peer.transcript.endedByTgpbx, true);
      assert.equal(failureLines().length, 1);
    });

    it('a peer that stops answering is cut off after the reply timeout', async () => {
      const { peer, report } = await call('tg-callerid', { headers: HEADERS }, { silent: true });
      assert.equal(report.outcome, 'timeout');
      assert.match(report.reason!, /no reply to GET VARIABLE PJSIP_HEADER\(read,X-TG-Phone\) within 150 ms/);
      assert.deepEqual(peer.transcript.commands, ['GET VARIABLE PJSIP_HEADER(read,X-TG-Phone)']);
      assert.equal(failureLines().length, 1);
    });

    it('a handler slower than the session timeout is cut off', async () => {
      await server.stop();
      const stuck: TelegramChannelRecorder = { remember: () => new Promise(() => undefined) };
      await startServer(stuck, 100);
      const { peer, report } = await call('tg-callerid', { headers: HEADERS });
      assert.equal(report.outcome, 'timeout');
      assert.match(report.reason!, /tg-callerid did not finish within 100 ms/);
      assert.equal(peer.callerIdNum, '+79990001122', 'what was done before stays done');
    });
  });

  it('a handler error (the database is gone) is logged once; the caller ID was set before', async () => {
    await server.stop();
    const broken: TelegramChannelRecorder = { remember: () => Promise.reject(new Error("insert into `telegram_channels` (`phone`) values ('+79990001122') - SQLITE_ERROR: no such table: telegram_channels")) };
    await startServer(broken);
    const { peer, report } = await call('tg-callerid', { headers: HEADERS });
    assert.equal(report.outcome, 'error');
    assert.equal(report.reason, 'SQLITE_ERROR: no such table: telegram_channels');
    assert.equal(peer.callerIdNum, '+79990001122');
    assert.equal(failureLines().length, 1);
    assert.ok(!failureLines()[0]!.includes('79990001122'), 'the SQL with the caller\'s number stays out of the log');
  });

  it('an unknown handler: says so on the Asterisk console, logs once, and ends', async () => {
    const { peer, report } = await call('no-such-hook?x=1');
    assert.equal(report.outcome, 'unknown-handler');
    assert.match(peer.transcript.commands[0]!, /^VERBOSE "tgpbx: no AGI handler named \\"no-such-hook\\"; known: tg-callerid, route-guard" 1$/);
    assert.equal(failureLines().length, 1);
  });

  describe('route-guard', () => {
    it('today lets every call through: TGPBX_ROUTE=allowed, no hang-up', async () => {
      const { peer, report } = await call('route-guard?direction=in&peer=tgpbx-line-1');
      assert.equal(report.outcome, 'ok');
      assert.deepEqual(peer.transcript.commands, ['SET VARIABLE TGPBX_ROUTE "allowed"']);
      assert.equal(peer.dead, false);
    });

    it('asks the policies with the call\'s details; a blocking policy hangs up with its cause and announces the block', async () => {
      const asked: unknown[] = [];
      guard.addPolicy({ name: 'test', decide: (q) => (asked.push(q), q.peer === 'trunk-7' ? { allow: false, cause: 21, reason: 'loss limit of trunk-7 reached', policy: 'loss' } : { allow: true }) });
      const blocked = nextEvent(guard, 'blocked');
      const { peer, report } = await call('route-guard?direction=out&peer=trunk-7', { callerId: '101', extension: '79990001122', context: 'outgoing' });
      assert.equal(report.outcome, 'ok');
      assert.equal(peer.variables.get('TGPBX_ROUTE'), 'blocked');
      assert.equal(peer.variables.get('TGPBX_BLOCK_REASON'), 'loss limit of trunk-7 reached');
      assert.deepEqual(peer.executed, [{ app: 'Hangup', args: '21' }]);
      assert.equal(peer.hangupCause, '21');
      const [event] = (await blocked) as [RouteBlocked];
      assert.equal(event.decision.policy, 'loss');
      assert.deepEqual(asked[0], { direction: 'out', channel: peer.channelName, uniqueid: report.uniqueid, callerId: '101', extension: '79990001122', context: 'outgoing', peer: 'trunk-7', campaign: null });
    });

    it('a policy that fails or is too slow lets the call through (a fault in tgpbx never blocks calls)', async () => {
      guard.addPolicy({ name: 'broken', decide: () => { throw new Error('boom'); } });
      guard.addPolicy({ name: 'slow', decide: () => new Promise(() => undefined) });
      const { peer } = await call('route-guard?direction=in');
      assert.equal(peer.variables.get('TGPBX_ROUTE'), 'allowed');
      assert.match(logs.text, /route policy failed; the call is allowed/);
      assert.match(logs.text, /route policy did not answer in time; the call is allowed/);
    });
  });

  it('serves 50 conversations at once', async () => {
    const calls = await Promise.all(Array.from({ length: 50 }, (_, i) => call('tg-callerid', { headers: { ...HEADERS, 'X-TG-ID': String(1000 + i) } })));
    assert.ok(calls.every((c) => c.report.outcome === 'ok'));
    assert.equal(new Set(calls.map((c) => c.peer.variables.get('TG_ID'))).size, 50);
    assert.equal((await db('telegram_channels').count({ n: '*' }))[0]!.n, 50);
  });

  it('stop lets a conversation in progress finish, then closes', async () => {
    const reported = nextEvent(server, 'session');
    const peer = await AsteriskAgiPeer.fastAgi(server.address!.port, 'tg-callerid', { headers: HEADERS }, { chunkSize: 3 });
    await peer.waitForCommands(1);
    assert.equal(server.activeSessions, 1);
    await server.stop();
    const [report] = await reported;
    await peer.finished;
    assert.equal(report.outcome, 'ok');
    assert.equal(status.get('fastagi')?.light, 'off');
  });
});
