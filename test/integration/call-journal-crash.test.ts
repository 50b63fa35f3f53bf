import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AmiEvent } from '../../src/pbx/ami.js';
import { openTestDatabase, testDatabaseEnv } from '../support/database.js';
import { AmiServer, type AmiConnection } from '../support/ami-server.js';
import { AMI_FIXTURES, loadAmiEvents } from '../support/ami-fixtures.js';
import { frameKind, parseAmiFrames, type AmiFrame } from '../support/ami-frames.js';
import { BotApiServer } from '../support/bot-api-server.js';
import { trackerOnFakeTime } from '../support/call-replay.js';
import { callStored, outboxDrained, startModule, tempDataDir, until } from '../support/module.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = '123456789:TESTjournalCrashAbcdefghijklmnopqrs';
/** missed-call.ami: the trunk (uniqueid .0) rings 101 (.1) for 10 s, no answer. */
const MISSED = '1795331344.0';
/** answered-call.ami: the trunk (.2) rings 101 (.3), 101 answers after 2 s, they talk 4 s. */
const ANSWERED = '1795331357.2';

/** A recording as frames to emit (exact wire pairs) and as the events AmiClient makes of them. */
function recording(file: string): { frames: AmiFrame[]; events: AmiEvent[] } {
  const frames = parseAmiFrames(fs.readFileSync(path.join(AMI_FIXTURES, file), 'utf8')).filter((f) => frameKind(f) === 'event');
  const events = loadAmiEvents(file);
  assert.equal(frames.length, events.length);
  return { frames, events };
}

/** The index of the first event matching: the recording is cut there. */
function indexOf(events: AmiEvent[], match: (e: AmiEvent) => boolean): number {
  const i = events.findIndex(match);
  assert.ok(i > 0);
  return i;
}

function emit(ami: AmiServer, frames: AmiFrame[]): void {
  for (const f of frames) ami.emitEvent(f.pairs);
}

/** How many journal rows the tracker writes for these events (the same tracker code, on fake time). */
function journalRowsFor(events: AmiEvent[]): number {
  let rows = 0;
  const t = trackerOnFakeTime({ journal: { append: () => rows++ } });
  for (const e of events) t.tracker.handle(e);
  return rows;
}

/** The real module (src/main.ts) in a child process on `dataDir`. */
async function spawnModule(dataDir: string, env: Record<string, string>): Promise<{ child: ChildProcess; exited: Promise<NodeJS.Signals | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    // The data dir's database: its SQLite file, or on the PostgreSQL pass its own database.
    env: { ...process.env, ...(await testDatabaseEnv(dataDir)), TGPBX_DATA_DIR: dataDir, TGPBX_HTTP_PORT: '0', TGPBX_FASTAGI_PORT: '0', TGPBX_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { child, exited: new Promise((resolve) => child.on('exit', (_c, signal) => resolve(signal))) };
}

/** Waits until the child's journal holds `rows` rows for each call (read beside the running child). */
async function journaled(dataDir: string, expected: Record<string, number>): Promise<void> {
  const db = await openTestDatabase(dataDir, { migrate: false });
  try {
    await until(`journal rows ${JSON.stringify(expected)}`, async () => {
      const rows: { linkedid: string; n: number }[] = (await db('call_journal').select('linkedid').count({ n: '*' }).groupBy('linkedid')) as never;
      const have = Object.fromEntries(rows.map((r) => [r.linkedid, Number(r.n)]));
      return Object.entries(expected).every(([id, n]) => have[id] === n);
    });
    assert.equal(Number((await db('calls').count({ n: '*' }))[0]!.n), 0, 'no call stored before the kill');
  } finally {
    await db.destroy();
  }
}

/**
 * Answers CoreShowChannels with the channels `live()` names at that moment, as Asterisk lists
 * them; with `hold`, only once it resolves (the test looks at the restored calls first: the
 * module's start does not wait for AMI, so an answer could otherwise end them before).
 */
function listChannels(ami: AmiServer, live: () => { channel: string; uniqueid: string; linkedid: string }[], hold?: Promise<void>): { asked: () => number } {
  let asked = 0;
  ami.onAction('CoreShowChannels', (action, conn) => {
    asked++;
    void (hold ?? Promise.resolve()).then(() => answer(action.fields.actionid ?? '', conn));
    return undefined;
  });
  function answer(id: string, conn: AmiConnection): void {
    const channels = live();
    conn.send([['Response', 'Success'], ['ActionID', id], ['EventList', 'start'], ['Message', 'Channels will follow']]);
    for (const c of channels) {
      conn.send([['Event', 'CoreShowChannel'], ['ActionID', id], ['Channel', c.channel], ['ChannelState', '5'], ['ChannelStateDesc', 'Ringing'], ['Uniqueid', c.uniqueid], ['Linkedid', c.linkedid]]);
    }
    conn.send([['Event', 'CoreShowChannelsComplete'], ['ActionID', id], ['EventList', 'Complete'], ['ListItems', String(channels.length)]]);
  }
  return { asked: () => asked };
}

describe('calls in progress survive kill -9 of tgpbx (call journal)', function () {
  this.timeout(90_000);
  let ami: AmiServer;
  let telegram: BotApiServer;
  let ann: ReturnType<BotApiServer['user']>;
  let dataDir: string;

  beforeEach(async () => {
    ami = await AmiServer.start();
    telegram = await BotApiServer.start({ limits: { globalPerSecond: 1000, privateChatPerSecond: 1000 } });
    telegram.addBot({ token: TOKEN, username: 'tgpbx_journal_bot' });
    ann = telegram.user({ id: 1001, first_name: 'Ann' });
    dataDir = tempDataDir('tgpbx-journal-crash-');
    // Ann subscribes to the missed calls of extension 101.
    const setup = await startModule({ TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir, start: false });
    await setup.app.settings.update({ 'telegram.bot_token': TOKEN, 'telegram.rate.private_chat_per_second': 1000 });
    await setup.app.missedCalls.store.addByAdmin('Ann', '1001', { kind: 'extension', id: '101' });
    await setup.app.stop();
  });
  afterEach(async () => {
    await telegram.stop();
    await ami.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a call ringing at the kill ends after the restart: stored complete (not partial), missed for 101 after 10 s of ringing, one notice', async () => {
    const missed = recording('missed-call.ami');
    const cut = indexOf(missed.events, (e) => e.event === 'DialEnd');

    // 1. The child sees the call start and 101 ring; its journal holds those events; kill -9.
    const { child, exited } = await spawnModule(dataDir, { TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot });
    await ami.waitForAction('Events');
    emit(ami, missed.frames.slice(0, cut));
    await journaled(dataDir, { [MISSED]: journalRowsFor(missed.events.slice(0, cut)) });
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    // 2. Restart on the same data: the call is back before AMI connects; Asterisk still has both channels.
    const channels = listChannels(ami, () => [
      { channel: 'PJSIP/trunk-00000000', uniqueid: '1795331344.0', linkedid: MISSED },
      { channel: 'PJSIP/101-00000001', uniqueid: '1795331344.1', linkedid: MISSED },
    ]);
    const again = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir, callSettleMs: 0 });
    try {
      assert.equal(again.app.calls.tracker.active, 1, 'the ringing call was restored from the journal');
      await ami.waitForLogins(2);
      await until('the reconcile after login', () => channels.asked() === 1);

      // 3. The rest of the call arrives live: Dial times out, both channels hang up.
      emit(ami, missed.frames.slice(cut));
      await callStored(again.app, MISSED);
      const call = await again.app.db('calls').where({ linkedid: MISSED }).first();
      // Complete: its first events came from the journal, so it is not "seen from the middle";
      // the ring time spans the crash (DialBegin before it, DialEnd after it).
      assert.equal(Boolean(call.partial), false);
      assert.equal(call.disposition, 'missed');
      assert.equal(call.caller_number, '+79990001122');
      assert.equal(call.ring_seconds, 10);
      const targets = await again.app.db('call_missed').where({ call_id: call.id }).select('target', 'reason');
      assert.deepEqual(targets.map((t) => [t.target, t.reason]), [['101', 'no_answer']]);
      assert.equal(await again.app.calls.journal.count(), 0, 'the stored call left the journal');

      const notice = await ann.waitForMessage((m) => m.text?.startsWith('📞') ?? false);
      assert.match(notice.text!, /From: \+79990001122/);
      // An AMI replay of the whole call changes nothing; the next call is the barrier.
      ami.emitEvent(missed.frames[0]!.pairs);
      await ami.replay(path.join(AMI_FIXTURES, 'missed-call.ami'), { timing: 'fast' });
      await ami.replay(path.join(AMI_FIXTURES, 'answered-call.ami'), { timing: 'fast' });
      await callStored(again.app, ANSWERED);
      await outboxDrained(again.app);
      assert.equal(ann.inbox().filter((m) => m.text?.startsWith('📞')).length, 1, 'exactly one notice');
      assert.equal(Number((await again.app.db('calls').count({ n: '*' }))[0]!.n), 2);
    } finally {
      await again.app.stop();
    }
  });

  it('calls that end while tgpbx is down are closed by the reconcile with what the journal knows: the answered one as answered, the ringing one as missed', async () => {
    const answered = recording('answered-call.ami');
    const talking = indexOf(answered.events, (e) => e.event === 'Cdr'); // both BridgeEnter seen: 101 and the caller talk
    const missed = recording('missed-call.ami');
    const ringing = indexOf(missed.events, (e) => e.event === 'DialEnd'); // 101 rings

    // 1. The child sees one call answered and another one ringing, journals them, and is killed.
    const { child, exited } = await spawnModule(dataDir, { TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot });
    await ami.waitForAction('Events');
    emit(ami, answered.frames.slice(0, talking));
    emit(ami, missed.frames.slice(0, ringing));
    await journaled(dataDir, { [ANSWERED]: journalRowsFor(answered.events.slice(0, talking)), [MISSED]: journalRowsFor(missed.events.slice(0, ringing)) });
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    await ami.waitForConnections(0);

    // 2. Both calls end while nobody listens: Asterisk sends their last events to no one and never again.
    emit(ami, answered.frames.slice(talking));
    emit(ami, missed.frames.slice(ringing));

    // 3. Restart: both calls are restored; after login Asterisk lists no channel, so the reconcile ends them.
    let release = (): void => undefined;
    const channels = listChannels(ami, () => [], new Promise<void>((resolve) => (release = resolve)));
    const again = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_BOT_API_ROOT: telegram.apiRoot }, { dataDir, callSettleMs: 0 });
    try {
      assert.equal(again.app.calls.tracker.active, 2, 'both calls restored from the journal');
      release();
      await callStored(again.app, ANSWERED);
      await callStored(again.app, MISSED);
      assert.equal(channels.asked(), 1);
      const rows = await again.app.db('calls').orderBy('linkedid').select('id', 'linkedid', 'disposition', 'answered_by', 'partial', 'ring_seconds', 'talk_seconds');
      // Partial: their ends were not seen. Answered by 101: the journal holds the answer (DialEnd ANSWER,
      // BridgeEnter) made before the crash, so it is not missed for anyone and sends nothing.
      // The ringing call: the journal says 101 was still ringing when tgpbx died; whatever happened
      // next (the caller gave up, Dial timed out, or 101 answered) went to nobody. tgpbx decides it
      // as it would for a Hangup it never saw: missed for 101 (caller_hung_up, the reason for a leg
      // still ringing at the end), and notifies: a notice that might be one too many beats a lost one.
      // Their ends are unknown: the lost channels end at the last event seen, so the times are what
      // tgpbx saw (101 answered after 2 s of ringing; the missed call had just begun ringing), never
      // the downtime.
      assert.deepEqual(rows.map((r) => [r.linkedid, r.disposition, r.answered_by, Boolean(r.partial), r.ring_seconds, r.talk_seconds]), [
        [MISSED, 'missed', null, true, 0, 0],
        [ANSWERED, 'answered', '101', true, 2, 0],
      ]);
      const missedFor = await again.app.db('call_missed').whereIn('call_id', rows.map((r) => r.id)).select('target', 'reason');
      assert.deepEqual(missedFor.map((m) => [m.target, m.reason]), [['101', 'caller_hung_up']]);
      assert.equal(await again.app.calls.journal.count(), 0);
      await ann.waitForMessage((m) => m.text?.startsWith('📞') ?? false);
      await outboxDrained(again.app);
      assert.equal(ann.inbox().filter((m) => m.text?.startsWith('📞')).length, 1, 'one notice: the ringing call, not the answered one');
    } finally {
      await again.app.stop();
    }
  });
});
