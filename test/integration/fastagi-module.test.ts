import assert from 'node:assert/strict';
import net from 'node:net';
import type { AgiSessionReport } from '../../src/pbx/agi-session.js';
import type { RouteBlocked } from '../../src/pbx/route-guard.js';
import { AsteriskAgiPeer } from '../support/agi-client.js';
import { AmiServer } from '../support/ami-server.js';
import { nextEvent, startModule, waitForLight, type TestModule } from '../support/module.js';

const HEADERS = { 'X-TG-Phone': '79990001122', 'X-TG-Username': 'alice_tg', 'X-TG-ID': '123456789', 'X-TG-FirstName': 'Alice', 'X-TG-LastName': 'Smith' };

describe('FastAGI in the running module', () => {
  let ami: AmiServer;
  let mod: TestModule | null;

  beforeEach(async () => {
    ami = await AmiServer.start();
    mod = null;
  });
  afterEach(async () => {
    await mod?.close();
    await ami.stop();
  });

  /** One AGI() call to the module's FastAGI server. */
  async function call(m: TestModule, script: string, spec: Parameters<typeof AsteriskAgiPeer.fastAgi>[2] = {}) {
    const server = m.app.dialplanHooks.fastAgi;
    const reported = nextEvent(server, 'session');
    const peer = await AsteriskAgiPeer.fastAgi(server.address!.port, script, spec);
    const [report] = (await reported) as [AgiSessionReport];
    await peer.finished;
    return { peer, report };
  }

  it('listens on 127.0.0.1 (light green), names Telegram callers, and forgets their channel at Hangup', async () => {
    mod = await startModule({ TGPBX_AMI_URL: ami.url });
    await ami.waitForLogins(1);
    const port = mod.app.dialplanHooks.fastAgi.address!.port;
    assert.deepEqual(
      { light: mod.app.status.get('fastagi')?.light, detail: mod.app.status.get('fastagi')?.detail },
      { light: 'green', detail: `listening on 127.0.0.1:${port}` },
    );
    const { peer, report } = await call(mod, 'tg-callerid?line=1', { headers: HEADERS, uniqueid: '1795331409.14', linkedid: '1795331409.14' });
    assert.equal(report.outcome, 'ok');
    assert.equal(peer.callerIdNum, '+79990001122');
    assert.equal(peer.callerIdName, 'Alice Smith');
    const [record] = await mod.app.dialplanHooks.telegramChannels.byTelegramUser('123456789');
    assert.equal(record?.uniqueid, '1795331409.14');
    assert.equal(record?.lineId, 1);

    const metrics = await (await fetch(mod.app.url + '/metrics')).text();
    assert.match(metrics, /tgpbx_fastagi_sessions_total\{handler="tg-callerid",outcome="ok"\} 1/);

    await waitForLight(mod.app.status, 'ami', 'green');
    const forgotten = nextEvent(mod.app.dialplanHooks, 'channel-forgotten');
    ami.emitEvent([['Event', 'Hangup'], ['Privilege', 'call,all'], ['Channel', peer.channelName], ['Uniqueid', '1795331409.14'], ['Linkedid', '1795331409.14'], ['Cause', '16'], ['Cause-txt', 'Normal Clearing']]);
    assert.deepEqual(await forgotten, ['1795331409.14']);
    assert.deepEqual(await mod.app.dialplanHooks.telegramChannels.byTelegramUser('123456789'), []);
  });

  it('with its port taken: the light is red with the reason, the module works, and FastAGI starts once the port is free', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    mod = await startModule({ TGPBX_FASTAGI_PORT: String(port) }, { dialplanHooks: { fastAgiListenRetry: { initialMs: 20, maxMs: 40 } } });
    await waitForLight(mod.app.status, 'fastagi', 'red');
    assert.match(mod.app.status.get('fastagi')!.detail, new RegExp(`^port ${port} on 127\\.0\\.0\\.1 is in use \\(another tgpbx or program\\?\\); retrying in \\d+ ms$`));
    const health = await fetch(mod.app.url + '/health');
    assert.equal(health.status, 200, 'the module still serves');
    assert.equal(((await health.json()) as { status: string }).status, 'degraded');
    assert.equal(mod.logs.lines.filter((l) => l.includes('FastAGI server cannot listen')).length, 1, 'logged once, not at every retry');

    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await waitForLight(mod.app.status, 'fastagi', 'green');
    assert.equal(mod.app.status.get('fastagi')?.detail, `listening on 127.0.0.1:${port}`);
    const { report } = await call(mod, 'route-guard?direction=in');
    assert.equal(report.outcome, 'ok');
  });

  it('route-guard asks the features\' policies: today all calls pass, a policy added by a feature can block', async () => {
    mod = await startModule();
    const passed = await call(mod, 'route-guard?direction=out&peer=trunk-7');
    assert.equal(passed.peer.variables.get('TGPBX_ROUTE'), 'allowed');

    const remove = mod.app.dialplanHooks.routeGuard.addPolicy({
      name: 'loss-control',
      decide: (q) => (q.peer === 'trunk-7' ? { allow: false, cause: 21, reason: 'trunk-7 is over its loss limit', policy: 'loss-control' } : { allow: true }),
    });
    const blocked = nextEvent(mod.app.dialplanHooks.routeGuard, 'blocked');
    const stopped = await call(mod, 'route-guard?direction=out&peer=trunk-7');
    assert.deepEqual(stopped.peer.executed, [{ app: 'Hangup', args: '21' }]);
    const [event] = (await blocked) as [RouteBlocked];
    assert.equal(event.question.peer, 'trunk-7');
    assert.equal(event.decision.reason, 'trunk-7 is over its loss limit');
    remove();
    const again = await call(mod, 'route-guard?direction=out&peer=trunk-7');
    assert.equal(again.peer.variables.get('TGPBX_ROUTE'), 'allowed');
  });

  it('stop closes the FastAGI server (before the database): later connections are refused', async () => {
    mod = await startModule();
    const port = mod.app.dialplanHooks.fastAgi.address!.port;
    await mod.close();
    mod = null;
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve('connected')));
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
  });
});
