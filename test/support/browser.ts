import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, started as the project's rules say (no network chatter, no sandbox as root). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Where browser tests leave their screenshots (gitignored) for a human to look at. */
export function screenshotPath(name: string): string {
  const dir = path.resolve('test-results/screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}

/**
 * Sets the admin password of a running module and logs in through the login page, landing
 * on `path` (the page asked for before the login redirect).
 */
export async function logInAsAdmin(page: import('playwright-core').Page, app: import('../../src/app.js').App, path: string): Promise<void> {
  const password = 'browser-test-password';
  const { AdminAuth } = await import('../../src/web/admin-auth.js');
  await new AdminAuth(app.db, app.settings).setPassword(password);
  await page.goto(app.url + path);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`**${path}`);
}

/** A fresh browser context with the admin logged in, on `path`. */
export async function adminPage(
  browser: import('playwright-core').Browser,
  app: import('../../src/app.js').App,
  path: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: import('playwright-core').BrowserContext; page: import('playwright-core').Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await logInAsAdmin(page, app, path);
  return { context, page };
}
