import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log/logger.js';
import { SecretScrubber } from '../../src/log/secret-scrubber.js';
import { AmiActionError, AmiClient, type AmiEvent } from '../../src/pbx/ami.js';
import { Metrics } from '../../src/status/metrics.js';
import { StatusBoard } from '../../src/status/status-board.js';
import { AmiServer } from '../support/ami-server.js';
import { parseAmiFrames, frameKind } from '../support/ami-frames.js';
import { LogCapture, nextEvent, waitForLight } from '../support/module.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ami');

describe('AMI client against the AMI emulator', () => {
  let server: AmiServer;
  let client: AmiClient;
  let status: StatusBoard;
  let metrics: Metrics;
  let logs: LogCapture;

  function makeClient(url = server.url, extra: Partial<ConstructorParameters<typeof AmiClient>[0]> = {}): AmiClient {
    const scrubber = new SecretScrubber();
    const endpoint = loadConfig({ TGPBX_AMI_URL: url }).ami!;
    scrubber.add(endpoint.secret);
    logs = new LogCapture();
    status = new StatusBoard();
    metrics = new Metrics();
    return new AmiClient({
      endpoint,
      logger: createLogger({ level: 'debug', scrubber, sink: logs }),
      status,
      metrics,
      backoff: { initialMs: 5, maxMs: 20 },
      ...extra,
    });
  }

  beforeEach(async () => {
    server = await AmiServer.start();
  });

  afterEach(async () => {
    await client?.stop();
    await server.stop();
  });

  it('logs in, asks for the event classes it needs, and turns the light green', async () => {
    client = makeClient();
    client.start();
    await waitForLight(status, 'ami', 'green');
    const events = await server.waitForAction('Events');
    assert.equal(events.fields.eventmask, 'call,cdr,agent,dialplan,user,system');
    assert.match(status.get('ami')!.detail, /logged in to ami:\/\/127\.0\.0\.1:\d+/);
  });

  it('delivers every event of a recorded call as a typed event, in order', async () => {
    client = makeClient();
    let emitted = 0;
    client.on('event', () => emitted++);
    client.start();
    await nextEvent(client, 'connected');
    const file = path.join(fixtures, 'missed-call.ami');
    // Asterisk sends only the classes asked for with the Events action (security events are not).
    const asked = new Set(['call', 'cdr', 'agent', 'dialplan', 'user', 'system', 'all']);
    const expected = parseAmiFrames(fs.readFileSync(file, 'utf8')).filter(
      (f) => frameKind(f) === 'event' && (f.fields.privilege ?? '').split(',').every((c) => asked.has(c)),
    );
    assert.ok(expected.length > 50);
    const received: AmiEvent[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('event', (e: AmiEvent) => {
        received.push(e);
        if (received.length === expected.length) resolve();
      }),
    );
    await server.replay(file, { timing: 'fast', chunkSize: 97 });
    await all;
    assert.deepEqual(
      received.map((e) => e.event),
      expected.map((f) => f.fields.event),
    );
    const hangup = received.find((e) => e.event === 'Hangup' && e.fields.channel?.startsWith('PJSIP/trunk'));
    assert.equal(hangup?.fields.cause, '16');
    assert.equal(hangup?.fields.linkedid, '1795331344.0');
    assert.equal((await metrics.registry.getSingleMetricAsString('tgpbx_ami_events_total')).trim().split('\n').pop(), `tgpbx_ami_events_total ${emitted}`);
  });

  it('answers an action through a promise and reports a refused one as an error', async () => {
    client = makeClient();
    client.start();
    await nextEvent(client, 'connected');
    const pong = await client.action({ action: 'Ping' });
    assert.equal(pong.response, 'Success');
    assert.equal(pong.fields.ping, 'Pong');
    await assert.rejects(client.action({ action: 'NoSuchAction' }), (err: unknown) => err instanceof AmiActionError && /Invalid\/unknown command/.test(err.message));
  });

  it('collects the events of a list action until EventList Complete', async () => {
    server.setEndpoints([{ objectName: '101' }, { objectName: '102' }, { objectName: 'trunk' }]);
    client = makeClient();
    client.start();
    await nextEvent(client, 'connected');
    const { response, events } = await client.listAction({ action: 'PJSIPShowEndpoints' });
    assert.equal(response.response, 'Success');
    assert.deepEqual(
      events.map((e) => e.fields.objectname),
      ['101', '102', 'trunk'],
    );
  });

  it('refuses actions while disconnected instead of hanging', async () => {
    client = makeClient();
    await assert.rejects(client.action({ action: 'Ping' }), /not connected/);
  });

  it('reconnects after Asterisk drops the link: light red, then green again', async () => {
    client = makeClient();
    client.start();
    await waitForLight(status, 'ami', 'green');
    const red = waitForLight(status, 'ami', 'red');
    await server.dropConnections();
    await red;
    assert.match(status.get('ami')!.detail, /retrying in/);
    await waitForLight(status, 'ami', 'green');
    await server.waitForLogins(2);
    assert.equal(client.state, 'connected');
  });

  it('notices a hung Asterisk by its unanswered Ping and reconnects', async () => {
    client = makeClient(server.url, { pingIntervalMs: 10, replyTimeoutMs: 50 });
    client.start();
    await waitForLight(status, 'ami', 'green');
    server.setUnresponsive(true);
    await waitForLight(status, 'ami', 'red');
    assert.match(status.get('ami')!.detail, /did not answer Ping/);
    server.setUnresponsive(false);
    await waitForLight(status, 'ami', 'green');
  });

  it('keeps retrying while Asterisk is away and shows why', async () => {
    const port = server.port;
    await server.stop();
    client = makeClient(`ami://tgpbx:tgpbx-secret@127.0.0.1:${port}`);
    client.start();
    await waitForLight(status, 'ami', 'red');
    assert.match(status.get('ami')!.detail, /connection refused/);
    server = await AmiServer.start();
    // the client keeps trying the old port; two failed attempts prove it retries
    await nextEvent(client, 'state', (s: string) => s === 'connecting');
    await nextEvent(client, 'state', (s: string) => s === 'disconnected');
  });

  it('shows a refused login with the reason and never logs the secret', async () => {
    client = makeClient(`ami://tgpbx:WrongSecret99@127.0.0.1:${server.port}`);
    client.start();
    await waitForLight(status, 'ami', 'red');
    assert.match(status.get('ami')!.detail, /login refused: Authentication failed/);
    assert.doesNotMatch(logs.text, /WrongSecret99/);
  });
});
