import assert from 'node:assert/strict';
import path from 'node:path';
import { AmiServer } from '../support/ami-server.js';
import { AMI_FIXTURES } from '../support/ami-fixtures.js';
import { startModule, waitForLight, type TestModule, callsStored } from '../support/module.js';
import { WebClient } from '../support/web-client.js';

const TOKEN = 'api-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('REST API: call history, endpoints and groups', () => {
  let ami: AmiServer;
  let mod: TestModule;
  let web: WebClient;
  const json = async (p: Promise<{ status: number; text: string }>) => {
    const r = await p;
    return { status: r.status, body: r.text ? JSON.parse(r.text) : null };
  };
  const send = (method: string, url: string, body?: unknown) =>
    json(web.request(method, url, body === undefined ? undefined : JSON.stringify(body), { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }));

  before(async () => {
    ami = await AmiServer.start();
    mod = await startModule({ TGPBX_AMI_URL: ami.url, TGPBX_ADMIN_TOKEN: TOKEN }, { callSettleMs: 0 });
    web = new WebClient(mod.app.url);
    await waitForLight(mod.app.status, 'ami', 'green');
    await ami.replay(path.join(AMI_FIXTURES, 'burst.ami'), { timing: 'fast' });
    await callsStored(mod.app, 20);
  });
  after(async () => {
    await mod.close();
    await ami.stop();
  });

  it('lists calls with filters and opens one with its legs', async () => {
    const missed = await send('GET', '/api/v1/calls?disposition=missed');
    assert.equal(missed.status, 200);
    assert.equal(missed.body.calls.length, 11);
    const for102 = await send('GET', '/api/v1/calls?disposition=missed&extension=102');
    assert.equal(for102.body.calls.length, 5);
    const one = await send('GET', `/api/v1/calls/${for102.body.calls[0].id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.legs.map((l: { endpoint: string }) => l.endpoint).sort(), ['101', '102']);
    // Booleans are booleans on either database (SQLite hands back 0/1).
    assert.deepEqual([one.body.call.originated, one.body.call.voicemail_left, one.body.call.partial], [false, false, false]);
    assert.deepEqual(one.body.legs.map((l: { consult: unknown }) => l.consult), [false, false]);
    assert.deepEqual(one.body.cdrs.map((c: { disposition: string }) => c.disposition), ['NO ANSWER', 'NO ANSWER'], 'the CDRs of both dialed legs');
    assert.equal((await send('GET', '/api/v1/calls/99999')).status, 404);
  });

  it('pages through the history, newest first', async () => {
    const first = await send('GET', '/api/v1/calls?limit=15');
    assert.equal(first.body.calls.length, 15);
    const last = first.body.calls[14];
    const rest = await send('GET', `/api/v1/calls?limit=15&before=${last.started_at}_${last.id}`);
    assert.equal(rest.body.calls.length, 5);
    const all = [...first.body.calls, ...rest.body.calls];
    assert.equal(new Set(all.map((c: { id: number }) => c.id)).size, 20);
    const starts = all.map((c: { started_at: number }) => c.started_at);
    assert.deepEqual(starts, [...starts].sort((a, b) => b - a));
  });

  it('explains a bad filter', async () => {
    const bad = await send('GET', '/api/v1/calls?from=yesterday');
    assert.equal(bad.status, 400);
    assert.match(bad.body.problems.join(), /from must be a date YYYY-MM-DD/);
  });

  it('creates, renames, lists and deletes groups, and filters calls by group', async () => {
    const created = await send('POST', '/api/v1/groups', { name: 'Sales', members: ['102'] });
    assert.equal(created.status, 201);
    const id = created.body.id;
    assert.equal((await send('GET', `/api/v1/calls?group=${id}`)).body.calls.length, 10);
    const dup = await send('POST', '/api/v1/groups', { name: 'Sales', members: [] });
    assert.equal(dup.status, 400);
    assert.match(dup.body.error, /exists already/);
    const renamed = await send('PUT', `/api/v1/groups/${id}`, { name: 'Sales team', members: ['101', '102'] });
    assert.deepEqual(renamed.body.groups, [{ id, name: 'Sales team', members: ['101', '102'] }]);
    assert.equal((await send('DELETE', `/api/v1/groups/${id}`)).status, 204);
    assert.equal((await send('DELETE', `/api/v1/groups/${id}`)).status, 404);
  });

  it('lets the admin mark an endpoint as a trunk and name an extension', async () => {
    assert.equal((await send('PUT', '/api/v1/endpoints/101', { kind: 'extension', name: 'Reception' })).status, 200);
    assert.equal((await send('PUT', '/api/v1/endpoints/provider-1', { kind: 'trunk' })).status, 200);
    const bad = await send('PUT', '/api/v1/endpoints/101', { kind: 'printer' });
    assert.equal(bad.status, 400);
    const list = await send('GET', '/api/v1/endpoints');
    assert.deepEqual(
      list.body.endpoints.map((e: { endpoint: string; kind: string; name: string; source: string }) => [e.endpoint, e.kind, e.name, e.source]),
      [
        ['101', 'extension', 'Reception', 'admin'],
        ['provider-1', 'trunk', '', 'admin'],
      ],
    );
  });

  it('refuses every call-history request without the bearer token', async () => {
    for (const url of ['/api/v1/calls', '/api/v1/groups', '/api/v1/endpoints']) assert.equal((await web.get(url)).status, 401, url);
  });
});
