import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AmiServer } from '../support/ami-server.js';
import { AMI_FIXTURES } from '../support/ami-fixtures.js';
import { startModule, waitForLight, type TestModule, until, callsStored, callStored } from '../support/module.js';

describe('call engine in the running module, fed by the AMI emulator', () => {
  let ami: AmiServer;
  let mod: TestModule;

  beforeEach(async () => {
    ami = await AmiServer.start();
    ami.setEndpoints([{ objectName: '101', contacts: '101/sip:101@127.0.0.1' }, { objectName: '102' }, { objectName: 'trunk' }]);
    mod = await startModule({ TGPBX_AMI_URL: ami.url }, { callSettleMs: 0, amiBackoff: { initialMs: 10, maxMs: 50 } });
    await waitForLight(mod.app.status, 'ami', 'green');
  });
  afterEach(async () => {
    await mod.close();
    await ami.stop();
  });

  it('stores the 20 calls of the burst with their legs, missed targets and 30 CDRs', async () => {
    await ami.replay(path.join(AMI_FIXTURES, 'burst.ami'), { timing: 'fast', chunkSize: 1400 });
    await callsStored(mod.app, 20);
    const db = mod.app.db;
    const byDisposition: { disposition: string; n: number }[] = await db('calls').select('disposition').count({ n: '*' }).groupBy('disposition').orderBy('disposition') as never;
    assert.deepEqual(byDisposition.map((r) => [r.disposition, Number(r.n)]), [
      ['answered', 9],
      ['missed', 11],
    ]);
    const missed: { target: string; n: number }[] = await db('call_missed').select('target').count({ n: '*' }).groupBy('target').orderBy('target') as never;
    assert.deepEqual(missed.map((r) => [r.target, Number(r.n)]), [
      ['101', 11],
      ['102', 5],
    ]);
    assert.equal(Number((await db('call_legs').count({ n: '*' }))[0]!.n), 30);
    await until('30 CDRs', async () => Number((await db('cdr_records').count({ n: '*' }))[0]!.n) === 30);
    const cdr = await db('cdr_records').where({ linkedid: '1795332849.36' }).first();
    assert.equal(cdr.disposition, 'ANSWERED');
    assert.equal(cdr.billable_seconds, 3);
  });

  it("learns extension names from the phones' caller ID, never overriding the admin's", async () => {
    await until('3 endpoints', async () => (await mod.app.calls.directory.endpoints()).length >= 3);
    await mod.app.calls.directory.saveEndpoint('102', 'extension', 'Sales desk');
    await ami.replay(path.join(AMI_FIXTURES, 'ringgroup-missed.ami'), { timing: 'fast' });
    await callsStored(mod.app, 1);
    const names = await until('the name of 101 learned', async () => {
      const byEndpoint = Object.fromEntries((await mod.app.calls.directory.endpoints()).map((e) => [e.endpoint, e.name]));
      return byEndpoint['101'] ? byEndpoint : undefined;
    });
    assert.deepEqual(names, { '101': 'Ext 101', '102': 'Sales desk', trunk: '' });
  });

  it('a replayed call (AMI reconnect) is stored once', async () => {
    await ami.replay(path.join(AMI_FIXTURES, 'missed-call.ami'), { timing: 'fast' });
    await callsStored(mod.app, 1);
    await ami.replay(path.join(AMI_FIXTURES, 'missed-call.ami'), { timing: 'fast' });
    await ami.replay(path.join(AMI_FIXTURES, 'answered-call.ami'), { timing: 'fast' });
    await callsStored(mod.app, 2);
    const rows = await mod.app.db('calls').select('linkedid', 'disposition').orderBy('id');
    assert.deepEqual(rows.map((r) => [r.linkedid, r.disposition]), [
      ['1795331344.0', 'missed'],
      ['1795331357.2', 'answered'],
    ]);
  });

  it('stores a call whose caller name and dial string are longer than their columns, cut to fit (PostgreSQL refuses longer values)', async () => {
    const longName = 'Ж'.repeat(200);
    const longDial = `101/sip:101@${'x'.repeat(200)}.example`;
    const text = fs.readFileSync(path.join(AMI_FIXTURES, 'missed-call.ami'), 'utf8').replaceAll('CallerIDName: @alice', `CallerIDName: ${longName}`).replaceAll('DialString: 101', `DialString: ${longDial}`);
    const file = path.join(mod.dataDir, 'long-fields.ami');
    fs.writeFileSync(file, text);
    await ami.replay(file, { timing: 'fast' });
    await callStored(mod.app, '1795331344.0');
    const call = await mod.app.db('calls').where({ linkedid: '1795331344.0' }).first();
    assert.equal(call.caller_name, longName.slice(0, 128));
    const legs = await mod.app.db('call_legs').where({ call_id: call.id }).whereNot({ dial_string: '' }).pluck('dial_string');
    assert.deepEqual(legs, [longDial.slice(0, 128)]);
  });

  it('survives malformed frames, unknown events and binary garbage in the stream, and still records the next call', async () => {
    await ami.sendRaw('this line has no colon\r\nneither: does: this one\r\n\r\n');
    await ami.sendRaw('Event: NoSuchEventInAsterisk\r\nLinkedid: 42.1\r\nUniqueid: 42.1\r\nChannel: PJSIP/x-00000001\r\n\r\n');
    await ami.sendRaw(Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]));
    await ami.sendRaw('Event: Hangup\r\nLinkedid: 43.1\r\nCause: 16\r\n\r\n');
    await ami.replay(path.join(AMI_FIXTURES, 'missed-call.ami'), { timing: 'fast' });
    await callStored(mod.app, '1795331344.0');
    assert.equal(mod.app.ami!.state, 'connected');
    const metrics = await mod.app.metrics.render();
    assert.match(metrics, /tgpbx_call_events_ignored_total\{reason="missing_field"\} 1/);
    assert.match(mod.logs.text, /call tracker ignored an event: Hangup without Uniqueid \(logged once\)/);
  });

  it('reads the PJSIP endpoints from Asterisk after login', async () => {
    const rows = await until('3 endpoints read', async () => {
      const all = await mod.app.calls.directory.endpoints();
      return all.length === 3 ? all : undefined;
    });
    assert.deepEqual(rows.map((r) => [r.endpoint, r.kind]), [
      ['101', 'extension'],
      ['102', 'extension'],
      ['trunk', 'trunk'],
    ]);
  });

  it('closes a call whose Hangup was lost while AMI was down, once Asterisk says its channels are gone', async () => {
    // the first half of a missed call: the trunk rings 101, then the link drops
    ami.onAction('CoreShowChannels', (action, conn) => {
      const id = action.fields.actionid ?? '';
      conn.send([['Response', 'Success'], ['ActionID', id], ['EventList', 'start'], ['Message', 'Channels will follow']]);
      conn.send([['Event', 'CoreShowChannelsComplete'], ['ActionID', id], ['EventList', 'Complete'], ['ListItems', '0']]);
      return undefined;
    });
    const { loadAmiEvents } = await import('../support/ami-fixtures.js');
    const events = loadAmiEvents('missed-call.ami');
    const half = events.slice(0, events.findIndex((e) => e.event === 'DialEnd'));
    for (const e of half) ami.emitEvent(Object.entries(e.fields).map(([k, v]) => [k, v] as [string, string]));
    await until('the half call', () => mod.app.calls.tracker.active > 0);
    const reconnected = ami.waitForLogins(2);
    await ami.dropConnections();
    await reconnected;
    await callsStored(mod.app, 1);
    const call = await mod.app.db('calls').first();
    assert.equal(call.linkedid, '1795331344.0');
    assert.equal(Boolean(call.partial), true);
  });
});
