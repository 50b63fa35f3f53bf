import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPostgres, testDatabaseEnv } from '../support/database.js';
import { tempDataDir } from '../support/module.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs `npm start`'s command with the given environment; collects output and the exit. */
function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const started = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /"url":"(http:[^"]+)".*"msg":"tgpbx started"/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exit.then(() => reject(new Error(`exited before starting: ${stderr}`)));
  });
  return { child, exit, started, output: () => ({ stdout, stderr }) };
}

describe('the tgpbx process', function () {
  this.timeout(30_000);
  let dataDir: string;
  beforeEach(() => (dataDir = tempDataDir()));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a bad configuration with exit code 78 and one message per bad variable', async () => {
    const p = startProcess({ TGPBX_DATA_DIR: dataDir, TGPBX_HTTP_PORT: 'http', TGPBX_AMI_URL: 'tcp://pbx' });
    assert.deepEqual(await p.exit, { code: 78, signal: null });
    const { stderr } = p.output();
    assert.match(stderr, /configuration has 2 problem\(s\)/);
    assert.match(stderr, /TGPBX_HTTP_PORT must be a port number/);
    assert.match(stderr, /TGPBX_AMI_URL is not a URL|TGPBX_AMI_URL must start with ami:\/\//);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`starts without Asterisk, serves /health, and on ${signal} stops cleanly with exit code 0`, async () => {
      const p = startProcess({ ...(await testDatabaseEnv(dataDir)), TGPBX_DATA_DIR: dataDir, TGPBX_HTTP_PORT: '0', TGPBX_FASTAGI_PORT: '0', TGPBX_AMI_URL: 'ami://tgpbx:secret-secret@127.0.0.1:9', TGPBX_BOT_API_ROOT: 'http://127.0.0.1:9' });
      const url = await p.started;
      const health = await fetch(url + '/health');
      assert.equal(health.status, 200);
      const report = (await health.json()) as { components: { id: string; light: string }[] };
      assert.equal(report.components.find((c) => c.id === 'ami')?.light !== 'green', true);
      p.child.kill(signal);
      assert.deepEqual(await p.exit, { code: 0, signal: null });
      assert.match(p.output().stdout, /"msg":"tgpbx stopped"/);
      if (onPostgres) {
        assert.equal(fs.existsSync(path.join(dataDir, 'tgpbx.sqlite')), false, 'no SQLite file beside PostgreSQL');
      } else {
        assert.ok(fs.existsSync(path.join(dataDir, 'tgpbx.sqlite')));
        assert.equal(fs.statSync(path.join(dataDir, 'tgpbx.sqlite')).mode & 0o777, 0o600);
      }
    });
  }
});
