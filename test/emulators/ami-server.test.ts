import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  AmiFrameSplitter, frameKind, getField, getFields, parseAmiFrames, serializeAmiFrame,
  type AmiFieldsInput, type AmiFrame,
} from '../support/ami-frames.js';
import { AmiServer, parseEventMask } from '../support/ami-server.js';

const MISSED_CALL = fileURLToPath(new URL('../fixtures/ami/missed-call.ami', import.meta.url));

/** A minimal raw AMI client over a real socket: collects every frame and the raw text received. */
class RawClient {
  readonly frames: AmiFrame[] = [];
  raw = '';
  readonly closed: Promise<void>;
  private readonly splitter = new AmiFrameSplitter();
  private listeners: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw += chunk.toString('utf8');
      this.frames.push(...this.splitter.push(chunk));
      for (const l of this.listeners) l();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(fields: AmiFieldsInput): void {
    this.socket.write(serializeAmiFrame(fields));
  }

  /** Resolves when `check` holds, re-checked on every chunk received. */
  until<T>(check: () => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      const run = (): boolean => {
        const value = check();
        if (value === undefined) return false;
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(value);
        return true;
      };
      const listener = (): void => void run();
      if (!run()) this.listeners.push(listener);
    });
  }

  /** The response frame carrying this ActionID. */
  response(actionId: string): Promise<AmiFrame> {
    return this.until(() => this.frames.find((f) => frameKind(f) === 'response' && getField(f, 'ActionID') === actionId));
  }

  /** The first event named `name` (at or after frame index `from`). */
  event(name: string, from = 0): Promise<AmiFrame> {
    return this.until(() => this.frames.slice(from).find((f) => frameKind(f) === 'event' && getField(f, 'Event') === name));
  }

  events(): AmiFrame[] {
    return this.frames.filter((f) => frameKind(f) === 'event');
  }

  /** Sends an action and resolves with its response. */
  async action(fields: Record<string, string>): Promise<AmiFrame> {
    this.send(fields);
    return this.response(fields.ActionID ?? '');
  }

  async login(server: AmiServer, extra: Record<string, string> = {}): Promise<AmiFrame> {
    return this.action({ Action: 'Login', ActionID: 'login-1', Username: server.username, Secret: server.secret, ...extra });
  }

  /** A round trip: everything the server wrote before the Pong has arrived. */
  async sync(id = `sync-${this.frames.length}`): Promise<void> {
    await this.action({ Action: 'Ping', ActionID: id });
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('AMI emulator', () => {
  let server: AmiServer;
  const clients: RawClient[] = [];
  const connect = async (): Promise<RawClient> => {
    const c = await RawClient.connect(server.port);
    clients.push(c);
    return c;
  };
  const loggedIn = async (extra: Record<string, string> = {}): Promise<RawClient> => {
    const c = await connect();
    assert.equal(getField(await c.login(server, extra), 'Response'), 'Success');
    return c;
  };

  beforeEach(async () => {
    server = await AmiServer.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.stop();
  });

  describe('frame helpers', () => {
    it('parses frames: banner skipped, repeated keys kept, values split on the first ": "', () => {
      const frames = parseAmiFrames('Asterisk Call Manager/9.0.0\r\nResponse: Success\r\nMessage: a: b: c\r\n\r\n'
        + 'Event: VarSet\r\nVariable: X\r\nVariable: Y\r\nAccountCode: \r\nOutput:   indented\r\n\r\nEvent: Partial\r\n');
      assert.equal(frames.length, 2);
      assert.equal(getField(frames[0]!, 'message'), 'a: b: c');
      assert.deepEqual(getFields(frames[1]!, 'VARIABLE'), ['X', 'Y']);
      assert.equal(frames[1]!.fields.variable, 'X');
      assert.equal(getField(frames[1]!, 'AccountCode'), '');
      assert.equal(getField(frames[1]!, 'Output'), '  indented');
      assert.equal(frameKind(frames[1]!), 'event');
    });

    it('serializes CRLF lines plus a blank line and round-trips', () => {
      const text = serializeAmiFrame([['Action', 'Originate'], ['Variable', 'A=1'], ['Variable', 'B=2']]);
      assert.equal(text, 'Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n');
      assert.deepEqual(parseAmiFrames(text)[0]!.pairs, [['Action', 'Originate'], ['Variable', 'A=1'], ['Variable', 'B=2']]);
    });

    it('splits a stream fed one byte at a time, even inside UTF-8 characters and CRLF', () => {
      const text = 'Asterisk Call Manager/9.0.0\r\nEvent: Newchannel\r\nCallerIDName: Привет\r\n\r\nEvent: Hangup\nCause: 16\n\n';
      const splitter = new AmiFrameSplitter();
      const frames: AmiFrame[] = [];
      for (const byte of Buffer.from(text)) frames.push(...splitter.push(Uint8Array.of(byte)));
      assert.deepEqual(frames.map((f) => f.pairs), [
        [['Event', 'Newchannel'], ['CallerIDName', 'Привет']],
        [['Event', 'Hangup'], ['Cause', '16']],
      ]);
      assert.equal(splitter.hasPartial, false);
    });

    it('parses event masks like Asterisk', () => {
      assert.equal(parseEventMask('on'), 'all');
      assert.equal(parseEventMask('OFF'), 'none');
      assert.equal(parseEventMask(''), undefined);
      assert.deepEqual(parseEventMask('call,dialplan'), new Set(['call', 'dialplan']));
      assert.equal(parseEventMask('bogus'), 'none');
    });
  });

  it('sends the banner on connect and exposes the url', async () => {
    const c = await connect();
    const banner = await c.until(() => (c.raw.includes('\r\n') ? c.raw : undefined));
    assert.equal(banner, 'Asterisk Call Manager/9.0.0\r\n');
    assert.equal(server.url, `ami://tgpbx:tgpbx-secret@127.0.0.1:${server.port}`);
    const custom = await AmiServer.start({ version: '5.0.2', username: 'a b', secret: 's@c' });
    try {
      assert.equal(custom.url, `ami://a%20b:s%40c@127.0.0.1:${custom.port}`);
      const c2 = await RawClient.connect(custom.port);
      clients.push(c2);
      assert.equal(await c2.until(() => (c2.raw.includes('\r\n') ? c2.raw : undefined)), 'Asterisk Call Manager/5.0.2\r\n');
    } finally {
      await custom.stop();
    }
  });

  it('accepts a good login (case-insensitive keys), then sends FullyBooted', async () => {
    const c = await connect();
    c.socket.write('action: login\r\nActionid: 7\r\nUsername: tgpbx\r\nSecret:tgpbx-secret\r\n\r\n');
    const res = await c.response('7');
    assert.deepEqual(res.pairs, [['Response', 'Success'], ['ActionID', '7'], ['Message', 'Authentication accepted']]);
    const booted = await c.event('FullyBooted');
    assert.equal(getField(booted, 'Privilege'), 'system,all');
    assert.equal(getField(booted, 'Status'), 'Fully Booted');
    await server.waitForLogins(1);
    assert.equal(server.logins, 1);
    const login = await server.waitForAction('LOGIN');
    assert.equal(login.fields.actionid, '7');
    assert.equal(login.connection.authenticated, true);
  });

  it('rejects a bad login and closes the socket', async () => {
    const c = await connect();
    const res = await c.action({ Action: 'Login', ActionID: 'l1', Username: 'tgpbx', Secret: 'wrong' });
    assert.deepEqual(res.pairs, [['Response', 'Error'], ['ActionID', 'l1'], ['Message', 'Authentication failed']]);
    await c.closed;
    assert.equal(server.logins, 0);
  });

  it('supports Challenge + MD5 login', async () => {
    const c = await connect();
    const challenge = getField(await c.action({ Action: 'Challenge', ActionID: 'c1', AuthType: 'MD5' }), 'Challenge') ?? '';
    assert.match(challenge, /^\d+$/);
    const key = createHash('md5').update(challenge + server.secret).digest('hex');
    const res = await c.action({ Action: 'Login', ActionID: 'l1', AuthType: 'MD5', Username: 'tgpbx', Key: key });
    assert.equal(getField(res, 'Message'), 'Authentication accepted');
  });

  it('answers Permission denied before login, but lets Logoff through', async () => {
    const c = await connect();
    const res = await c.action({ Action: 'Ping', ActionID: 'p1' });
    assert.deepEqual(res.pairs, [['Response', 'Error'], ['ActionID', 'p1'], ['Message', 'Permission denied']]);
    const bye = await c.action({ Action: 'Logoff', ActionID: 'bye' });
    assert.deepEqual(bye.pairs, [['Response', 'Goodbye'], ['ActionID', 'bye'], ['Message', 'Thanks for all the fish.']]);
    await c.closed;
  });

  it('answers Ping with Pong and a secs.micros Timestamp', async () => {
    const c = await loggedIn();
    const res = await c.action({ Action: 'Ping', ActionID: 'p1' });
    assert.deepEqual(res.pairs.map(([k]) => k), ['Response', 'ActionID', 'Ping', 'Timestamp']);
    assert.equal(getField(res, 'Ping'), 'Pong');
    assert.match(getField(res, 'Timestamp') ?? '', /^\d{10}\.\d{6}$/);
  });

  it('answers unknown and missing actions like Asterisk', async () => {
    const c = await loggedIn();
    const res = await c.action({ Action: 'NoSuchThing', ActionID: 'u1' });
    assert.equal(getField(res, 'Response'), 'Error');
    assert.equal(getField(res, 'Message'), 'Invalid/unknown command: NoSuchThing. Use Action: ListCommands to show available commands.');
    const missing = await c.action({ ActionID: 'm1', Foo: 'bar' });
    assert.equal(getField(missing, 'Message'), 'Missing action in request');
  });

  it('answers Reload like manager.c: a loaded module is reloaded, an unknown one is an error', async () => {
    const c = await loggedIn();
    const ok = await c.action({ Action: 'Reload', ActionID: 'r1', Module: 'pbx_config' });
    assert.deepEqual(ok.pairs, [['Response', 'Success'], ['ActionID', 'r1'], ['Message', 'Module Reloaded']]);
    const all = await c.action({ Action: 'Reload', ActionID: 'r2' });
    assert.equal(getField(all, 'Response'), 'Success');
    const unknown = await c.action({ Action: 'Reload', ActionID: 'r3', Module: 'no_such_module' });
    assert.deepEqual(unknown.pairs, [['Response', 'Error'], ['ActionID', 'r3'], ['Message', 'No such module']]);
  });

  it('honours Events: off at Login and the Events action later', async () => {
    const c = await loggedIn({ Events: 'off' });
    server.emitEvent({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'while-off' });
    const on = await c.action({ Action: 'Events', ActionID: 'e1', EventMask: 'on' });
    assert.deepEqual(on.pairs, [['Response', 'Success'], ['ActionID', 'e1'], ['Events', 'On']]);
    server.emitEvent({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'while-on' });
    const call = await c.action({ Action: 'Events', ActionID: 'e2', EventMask: 'call' });
    assert.equal(getField(call, 'Events'), 'On');
    server.emitEvent({ Event: 'Newexten', Privilege: 'dialplan,all' });
    server.emitEvent({ Event: 'Newchannel', Privilege: 'call,all' });
    const off = await c.action({ Action: 'Events', ActionID: 'e3', EventMask: 'off' });
    assert.equal(getField(off, 'Events'), 'Off');
    server.emitEvent({ Event: 'Hangup', Privilege: 'call,all' });
    const bad = await c.action({ Action: 'Events', ActionID: 'e4' });
    assert.equal(getField(bad, 'Message'), 'Invalid event mask');
    await c.sync();
    assert.deepEqual(c.events().map((e) => getField(e, 'UserEvent') ?? getField(e, 'Event')), ['while-on', 'Newchannel']);
  });

  it('queues Originate and broadcasts OriginateResponse to every connection', async () => {
    const a = await loggedIn();
    const b = await loggedIn();
    const res = await a.action({ Action: 'Originate', ActionID: 'o1', Channel: 'PJSIP/101', Context: 'tg-originate',
      Exten: 's', Priority: '1', CallerID: '"Campaign" <700>', Async: 'true' });
    assert.deepEqual(res.pairs, [['Response', 'Success'], ['ActionID', 'o1'], ['Message', 'Originate successfully queued']]);
    for (const c of [a, b]) {
      const ev = await c.event('OriginateResponse');
      assert.equal(ev.fields.actionid, 'o1');
      assert.equal(ev.fields.response, 'Success');
      assert.equal(ev.fields.reason, '4');
      assert.match(ev.fields.channel ?? '', /^PJSIP\/101-[0-9a-f]{8}$/);
      assert.equal(ev.fields.calleridnum, '700');
      assert.equal(ev.fields.calleridname, 'Campaign');
    }
    server.setOriginateOutcome({ response: 'Failure', reason: 5 });
    const from = a.frames.length;
    await a.action({ Action: 'Originate', ActionID: 'o2', Channel: 'PJSIP/102', Async: 'yes' });
    const failed = await a.event('OriginateResponse', from);
    assert.equal(failed.fields.response, 'Failure');
    assert.equal(failed.fields.reason, '5');
    const sync = await a.action({ Action: 'Originate', ActionID: 'o3', Channel: 'PJSIP/103', Exten: 's', Context: 'x', Priority: '1' });
    assert.equal(getField(sync, 'Message'), 'Originate failed');
    assert.equal(getField(await a.action({ Action: 'Originate', ActionID: 'o4' }), 'Message'), 'Channel not specified');
  });

  it('lists PJSIP endpoints as a list response', async () => {
    const c = await loggedIn();
    const empty = await c.action({ Action: 'PJSIPShowEndpoints', ActionID: 'l0' });
    assert.deepEqual([getField(empty, 'Response'), getField(empty, 'Message')], ['Error', 'No endpoints found']);
    server.setEndpoints([{ objectName: '101', contacts: '101/sip:101@127.0.0.1:5062,' }, { objectName: '102' }]);
    const res = await c.action({ Action: 'PJSIPShowEndpoints', ActionID: 'l1' });
    assert.deepEqual(res.pairs, [['Response', 'Success'], ['ActionID', 'l1'], ['EventList', 'start'],
      ['Message', 'A listing of Endpoints follows, presented as EndpointList events']]);
    const done = await c.event('EndpointListComplete');
    assert.deepEqual(done.pairs, [['Event', 'EndpointListComplete'], ['ActionID', 'l1'], ['EventList', 'Complete'], ['ListItems', '2']]);
    const items = c.events().filter((e) => e.fields.event === 'EndpointList');
    assert.deepEqual(items.map((e) => [e.fields.actionid, e.fields.objectname, e.fields.devicestate]),
      [['l1', '101', 'Not in use'], ['l1', '102', 'Unavailable']]);
  });

  it('lets tests override and add actions', async () => {
    server.onAction('Ping', () => ({ Response: 'Success', Ping: 'Pong', Timestamp: '1.000000' }));
    server.onAction('QueueStatus', (action, conn) => {
      conn.send({ Response: 'Success', ActionID: action.fields.actionid ?? '', EventList: 'start', Message: 'Queue status will follow' });
      conn.send({ Event: 'QueueStatusComplete', ActionID: action.fields.actionid ?? '', EventList: 'Complete', ListItems: '0' });
    });
    const c = await loggedIn();
    assert.deepEqual((await c.action({ Action: 'ping', ActionID: 'p' })).pairs,
      [['Response', 'Success'], ['ActionID', 'p'], ['Ping', 'Pong'], ['Timestamp', '1.000000']]);
    c.send({ Action: 'QueueStatus', ActionID: 'q' });
    assert.equal((await c.event('QueueStatusComplete')).fields.actionid, 'q');
  });

  it('records actions and waitForAction sees ones that already arrived', async () => {
    const c = await loggedIn();
    await c.action({ Action: 'Ping', ActionID: 'early' });
    const early = await server.waitForAction('ping', (a) => a.fields.actionid === 'early');
    assert.equal(early.name, 'Ping');
    const since = server.actions.length;
    const later = server.waitForAction('Ping', undefined, since);
    c.send({ Action: 'Ping', ActionID: 'later' });
    assert.equal((await later).fields.actionid, 'later');
    assert.deepEqual(server.actions.map((a) => a.name), ['Login', 'Ping', 'Ping']);
  });

  describe('replay', () => {
    const fileText = readFileSync(MISSED_CALL, 'utf8');
    const expectedCount = fileText.match(/^Event: /gm)?.length ?? 0;
    const expectedNames = [...fileText.matchAll(/^Event: (.*)\r$/gm)].map((m) => m[1]);

    it('delivers every Event frame of missed-call.ami and nothing else', async () => {
      assert.ok(expectedCount > 50);
      const c = await loggedIn();
      await c.event('FullyBooted');
      const before = c.events().length;
      await server.replay(MISSED_CALL);
      await c.sync();
      const replayed = c.events().slice(before);
      assert.equal(replayed.length, expectedCount);
      assert.deepEqual(replayed.map((e) => e.fields.event), expectedNames);
      assert.equal(c.frames.filter((f) => frameKind(f) === 'response').length, 2, 'only the Login and sync responses');
    });

    it('still parses when written in small chunks splitting frames anywhere', async () => {
      const c = await loggedIn();
      await c.event('FullyBooted');
      const before = c.events().length;
      await server.replay(MISSED_CALL, { chunkSize: 7 });
      await c.sync();
      const expected = parseAmiFrames(fileText).filter((f) => frameKind(f) === 'event').map((f) => f.pairs);
      assert.deepEqual(c.events().slice(before).map((e) => e.pairs), expected);
    });

    it('paces frames by their Timestamp deltas divided by the speed factor', async () => {
      const c = await loggedIn();
      await c.event('FullyBooted');
      const before = c.events().length;
      const delays: number[] = [];
      await server.replay(MISSED_CALL, { timing: 10, sleep: async (ms) => void delays.push(ms) });
      const stamps = [...fileText.matchAll(/^Timestamp: ([\d.]+)\r$/gm)].map((m) => Number(m[1]));
      const total = delays.reduce((s, d) => s + d, 0);
      assert.ok(Math.abs(total - ((stamps.at(-1)! - stamps[0]!) * 1000) / 10) < 1e-6);
      assert.ok(delays.some((d) => d > 900), 'the 10 s ring shows up as ~1 s at speed 10');
      await c.sync();
      assert.equal(c.events().length - before, expectedCount);
    });

    it('does not send to connections that are not logged in', async () => {
      const anon = await connect();
      const c = await loggedIn();
      await server.replay(MISSED_CALL);
      await c.sync();
      await anon.action({ Action: 'Ping', ActionID: 'anon' });
      assert.equal(anon.events().length, 0);
    });
  });

  it('dropConnections closes clients and keeps listening', async () => {
    const c = await loggedIn();
    await server.dropConnections();
    await c.closed;
    assert.equal(server.connections, 0);
    const again = await loggedIn();
    assert.equal(server.connections, 1);
    const shutdown = again.event('Shutdown');
    await server.dropConnections({ shutdownEvent: true });
    assert.equal((await shutdown).fields.restart, 'True');
    await again.closed;
    await server.waitForLogins(2);
  });

  it('setUnresponsive stops Ping from being answered, while the socket stays open', async () => {
    const c = await loggedIn();
    const before = c.frames.length;
    server.setUnresponsive(true);
    c.send({ Action: 'Ping', ActionID: 'lost' });
    await server.waitForAction('Ping', (a) => a.fields.actionid === 'lost');
    server.emitEvent({ Event: 'Newchannel', Privilege: 'call,all' });
    assert.equal(server.connections, 1);
    server.setUnresponsive(false);
    await c.sync('back');
    assert.deepEqual(c.frames.slice(before).map((f) => f.fields.actionid ?? f.fields.event), ['back']);
  });

  it('stop is idempotent and rejects pending waits', async () => {
    const pending = server.waitForAction('Never');
    const login = server.waitForLogin();
    await Promise.all([server.stop(), server.stop()]);
    await assert.rejects(pending, /stopped/);
    await assert.rejects(login, /stopped/);
  });

  describe('with the npm asterisk-manager client', () => {
    interface Manager {
      connect(port: number, host: string, cb: () => void): void;
      login(cb: (err?: unknown) => void): void;
      action(action: Record<string, string>, cb: (err: unknown, res?: Record<string, string>) => void): string;
      on(event: 'managerevent', cb: (e: Record<string, string>) => void): void;
      disconnect(): void;
    }
    const require = createRequire(import.meta.url);
    const AsteriskManager = require('asterisk-manager') as (port: number | undefined, host: string, user: string, secret: string, events: boolean) => Manager;

    it('logs in, pings, originates and receives events with lower-cased keys', async () => {
      const m = AsteriskManager(undefined, server.host, server.username, server.secret, true);
      const events: Record<string, string>[] = [];
      m.on('managerevent', (e) => events.push(e));
      try {
        await new Promise<void>((resolve, reject) => m.connect(server.port, server.host, () => m.login((err) => (err ? reject(err) : resolve()))));
        const login = await server.waitForAction('login');
        assert.equal(getField(login, 'Event'), 'on', 'the client sends "Event: on", which Asterisk ignores');
        const pong = await new Promise<Record<string, string>>((resolve, reject) =>
          m.action({ action: 'ping' }, (err, res) => (err || !res ? reject(err) : resolve(res))));
        assert.equal(pong.ping, 'Pong');
        server.emitEvent({ Event: 'Hangup', Privilege: 'call,all', Channel: 'PJSIP/101-00000001', Cause: '16' });
        const queued = await new Promise<Record<string, string>>((resolve, reject) => m.action(
          { action: 'originate', channel: 'PJSIP/101', context: 'tg-originate', exten: 's', priority: '1', async: 'true' },
          (err, res) => (err || !res ? reject(err) : resolve(res))));
        assert.equal(queued.message, 'Originate successfully queued');
        const origin = await new Promise<Record<string, string>>((resolve) => {
          const hit = (): boolean => {
            const e = events.find((x) => x.event === 'OriginateResponse');
            if (e) resolve(e);
            return Boolean(e);
          };
          if (!hit()) m.on('managerevent', () => void hit());
        });
        assert.equal(origin.reason, '4');
        assert.deepEqual(events.map((e) => e.event), ['FullyBooted', 'Hangup', 'OriginateResponse']);
        assert.equal(events[1]!.cause, '16');
        const denied = await new Promise<unknown>((resolve) => m.action({ action: 'NoSuch' }, (err) => resolve(err)));
        assert.match(String((denied as Record<string, string>).message), /^Invalid\/unknown command: NoSuch\./);
      } finally {
        m.disconnect();
      }
    });
  });
});
