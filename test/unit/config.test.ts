import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration from the environment', () => {
  it('starts with defaults when nothing is set', () => {
    const c = loadConfig({}, '/srv/tgpbx');
    assert.equal(c.dataDir, '/srv/tgpbx/db');
    assert.deepEqual(c.http, { host: '127.0.0.1', port: 8085 });
    assert.equal(c.ami, null);
    assert.equal(c.ari, null);
    assert.equal(c.botApiRoot, 'https://api.telegram.org');
    assert.equal(c.databaseUrl, null);
    assert.equal(c.fastAgiPort, 4573);
    assert.equal(c.adminToken, null);
    assert.equal(c.logLevel, 'info');
  });

  it('places the FastAGI server on 127.0.0.1 and the dialplan include in the data directory unless told otherwise', () => {
    const d = loadConfig({}, '/srv/tgpbx');
    assert.equal(d.fastAgiHost, '127.0.0.1');
    assert.equal(d.dialplanPath, '/srv/tgpbx/db/extensions_tgpbx.conf');
    assert.equal(loadConfig({ TGPBX_DATA_DIR: '/var/tgpbx' }, '/srv/tgpbx').dialplanPath, '/var/tgpbx/extensions_tgpbx.conf');
    const c = loadConfig({ TGPBX_FASTAGI_HOST: '0.0.0.0', TGPBX_FASTAGI_PORT: '4600', TGPBX_DIALPLAN_PATH: 'asterisk/extensions_tgpbx.conf' }, '/srv/tgpbx');
    assert.deepEqual([c.fastAgiHost, c.fastAgiPort, c.dialplanPath], ['0.0.0.0', 4600, '/srv/tgpbx/asterisk/extensions_tgpbx.conf']);
    const err = catchError(() => loadConfig({ TGPBX_DIALPLAN_PATH: '/etc/asterisk/' })) as ConfigError;
    assert.match(err.message, /TGPBX_DIALPLAN_PATH must name a file/);
  });

  it('reads AMI and ARI URLs with credentials and keeps a display form without them', () => {
    const c = loadConfig({ TGPBX_AMI_URL: 'ami://tgpbx:p%40ss@10.0.0.5', TGPBX_ARI_URL: 'http://ari:s3cret@pbx:8088/ari' });
    assert.deepEqual(
      { host: c.ami?.host, port: c.ami?.port, user: c.ami?.username, secret: c.ami?.secret, display: c.ami?.display },
      { host: '10.0.0.5', port: 5038, user: 'tgpbx', secret: 'p@ss', display: 'ami://10.0.0.5:5038' },
    );
    assert.equal(c.ari?.display, 'http://pbx:8088/ari');
    assert.equal(c.ari?.secret, 's3cret');
  });

  it('names every bad variable in one error, with the rule it breaks', () => {
    const err = catchError(() =>
      loadConfig({
        TGPBX_HTTP_PORT: 'eighty',
        TGPBX_FASTAGI_PORT: '70000',
        TGPBX_AMI_URL: 'http://tgpbx:x@pbx:5038',
        TGPBX_ARI_URL: 'http://pbx:8088/ari',
        TGPBX_DATABASE_URL: 'mysql://x',
        TGPBX_LOG_LEVEL: 'loud',
        TGPBX_ADMIN_TOKEN: 'short',
        TGPBX_BOT_API_ROOT: 'api.telegram.org',
      }),
    );
    assert.ok(err instanceof ConfigError);
    const lines = err.problems;
    assert.equal(lines.length, 8, lines.join('\n'));
    for (const [variable, rule] of [
      ['TGPBX_HTTP_PORT', 'must be a port number'],
      ['TGPBX_FASTAGI_PORT', 'between 0 and 65535'],
      ['TGPBX_AMI_URL', 'must start with ami://'],
      ['TGPBX_ARI_URL', 'must contain a user name and a secret'],
      ['TGPBX_DATABASE_URL', 'postgres://'],
      ['TGPBX_LOG_LEVEL', 'must be one of'],
      ['TGPBX_ADMIN_TOKEN', 'at least 16 characters'],
      ['TGPBX_BOT_API_ROOT', 'http(s) URL'],
    ]) {
      assert.ok(lines.some((l) => l.startsWith(variable!) && l.includes(rule!)), `${variable}: ${rule} in\n${lines.join('\n')}`);
    }
  });

  it('never repeats a secret value in its error messages', () => {
    const err = catchError(() => loadConfig({ TGPBX_AMI_URL: 'ftp://tgpbx:TopSecretAmi@pbx', TGPBX_ADMIN_TOKEN: 'tiny-secret' }));
    assert.ok(err instanceof ConfigError);
    assert.doesNotMatch(err.message, /TopSecretAmi|tiny-secret/);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}
