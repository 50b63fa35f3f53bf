/**
 * Telegram provider: how many Telegram sessions one tgpbx supervises, against the MTProto
 * emulator on 127.0.0.1 (GramJS over TCP, real auth keys and encryption). Numbers with a
 * saved client and gateway session each are started with the module: time until every
 * session is connected (getMe answered), memory per session, and the health round (every
 * session's updates.getState at once). Run alone: node --expose-gc --import tsx bench/provider-accounts.ts
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { SessionDirs } from '../src/features/provider/session-dirs.js';
import { MtprotoEmulator } from '../test/support/mtproto/emulator.js';
import { authorizedSession, trustEmulatorKey } from '../test/support/mtproto/gramjs-test-client.js';
import { tempDataDir } from '../test/support/module.js';
import { machineLine } from './machine.js';

const API_ID = 424242;
const API_HASH = '00112233445566778899aabbccddeeff';

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

function settle(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function benchProviderAccounts(numbers = 100): Promise<void> {
  const emu = await MtprotoEmulator.start({ apiId: API_ID, apiHash: API_HASH });
  trustEmulatorKey(emu);
  const dataDir = tempDataDir('tgpbx-bench-provider-');
  const config = loadConfig({ TGPBX_DATA_DIR: dataDir, TGPBX_HTTP_PORT: '0', TGPBX_FASTAGI_PORT: '0', TGPBX_LOG_LEVEL: 'warn', TGPBX_BOT_API_ROOT: 'http://127.0.0.1:9' });
  const app = await createApp(config, { logSink: { write: () => undefined }, telegramEndpoint: { dcId: emu.dcId, host: emu.host, port: emu.port } });
  try {
    await app.settings.update({ 'provider.api_id': String(API_ID), 'provider.api_hash': API_HASH });
    const dirs = new SessionDirs(dataDir);
    for (let i = 0; i < numbers; i++) {
      const phone = `+7999100${String(i).padStart(4, '0')}`;
      emu.addAccount({ phone, firstName: `Line ${i + 1}` });
      await app.provider.numbers.add(phone);
      for (const kind of ['client', 'gateway'] as const) dirs.writeSession(kind, phone, await authorizedSession(emu, phone));
    }
    const sessions = numbers * 2;
    settle();
    const before = process.memoryUsage();
    const started = performance.now();
    await app.start();
    const accounts = app.provider.list().flatMap((n) => (['client', 'gateway'] as const).map((k) => app.provider.account(n.id, k)));
    await new Promise<void>((resolve) => {
      const check = () => {
        if (accounts.every((a) => a.view.phase === 'connected')) {
          app.provider.off('change', check);
          resolve();
        }
      };
      app.provider.on('change', check);
      check();
    });
    const connectMs = performance.now() - started;
    settle();
    const after = process.memoryUsage();

    const rounds: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      const views = await Promise.all(accounts.map((a) => a.checkNow()));
      rounds.push(performance.now() - t);
      if (views.some((v) => v.phase !== 'connected')) throw new Error('a session dropped during the health rounds');
    }
    rounds.sort((a, b) => a - b);

    console.log(`provider-accounts: ${numbers} numbers = ${sessions} GramJS sessions (client + gateway) against the MTProto emulator`);
    console.log(`  all connected (connect + getMe) after ${connectMs.toFixed(0)} ms = ${(sessions / (connectMs / 1000)).toFixed(0)} sessions/s`);
    console.log(`  memory: heap +${mib(after.heapUsed - before.heapUsed)} MiB, RSS +${mib(after.rss - before.rss)} MiB -> ~${((after.rss - before.rss) / sessions / 1024).toFixed(0)} KiB RSS per session (the emulator's share included: it runs in this process)`);
    console.log(`  health round (${sessions} x updates.getState at once): median ${rounds[2]!.toFixed(0)} ms, worst ${rounds[4]!.toFixed(0)} ms`);
    console.log(`  lights: ${app.status.get('provider')?.light} (${app.provider.summary().problems.length} components not green: the bot has no token here)`);
    console.log(`  ${machineLine()}`);
  } finally {
    await app.stop();
    await emu.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchProviderAccounts();
