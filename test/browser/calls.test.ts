import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { AmiServer } from '../support/ami-server.js';
import { AMI_FIXTURES } from '../support/ami-fixtures.js';
import { launchChromium, logInAsAdmin, screenshotPath } from '../support/browser.js';
import { startModule, waitForLight, type TestModule, callsStored } from '../support/module.js';


describe('call history and groups pages in Chromium', function () {
  let browser: Browser;
  let ami: AmiServer;
  let mod: TestModule;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
    ami = await AmiServer.start();
    ami.setEndpoints([{ objectName: '101' }, { objectName: '102' }, { objectName: 'trunk' }]);
    mod = await startModule({ TGPBX_AMI_URL: ami.url }, { callSettleMs: 0 });
    await mod.app.settings.update({ 'general.timezone': 'Europe/Moscow' });
    await waitForLight(mod.app.status, 'ami', 'green');
    await ami.replay(path.join(AMI_FIXTURES, 'burst.ami'), { timing: 'fast' });
    await callsStored(mod.app, 20);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await logInAsAdmin(page, mod.app, '/status');
  });
  after(async () => {
    await page?.close();
    await browser?.close();
    await mod?.close();
    await ami?.stop();
  });

  it('lists the calls newest first, and filters by outcome and by extension', async () => {
    await page.goto(mod.app.url + '/calls');
    assert.equal(await page.locator('tr[data-call]').count(), 20);
    await page.screenshot({ path: screenshotPath('calls-list'), fullPage: true });
    await page.selectOption('select[name=disposition]', 'missed');
    await page.click('form.filters button');
    await page.waitForURL('**/calls?**disposition=missed**');
    assert.equal(await page.locator('tr[data-call]').count(), 11);
    await page.goto(mod.app.url + '/calls?extension=102');
    assert.equal(await page.locator('tr[data-call]').count(), 10, 'the ten ring-group calls rang 102');
  });

  it('a group made on the Extensions & groups page filters the history', async () => {
    await page.goto(mod.app.url + '/directory');
    assert.deepEqual(await page.locator('tr[data-endpoint] code.endpoint').allTextContents(), ['101', '102', 'trunk']);
    await page.fill('#new-group input[name=name]', 'Sales');
    await page.fill('#new-group input[name=members]', '102');
    await page.click('#new-group button');
    await page.waitForURL('**/directory?saved');
    assert.equal(await page.inputValue('tr[data-group="Sales"] input[name=members]'), '102');
    await page.screenshot({ path: screenshotPath('directory'), fullPage: true });
    await page.goto(mod.app.url + '/calls');
    await page.selectOption('select[name=group]', { label: 'Sales' });
    await page.click('form.filters button');
    await page.waitForURL('**/calls?**group=**');
    assert.equal(await page.locator('tr[data-call]').count(), 10);
  });

  it('opens a missed ring-group call as a timeline of its legs', async () => {
    await page.goto(mod.app.url + '/calls?disposition=missed&extension=102');
    await page.click('tr[data-call] a >> nth=0');
    await page.waitForURL('**/calls/*');
    assert.equal(await page.locator('table.legs tbody tr').count(), 2);
    assert.equal(await page.locator('svg.timeline rect.ring').count(), 2);
    assert.equal(await page.locator('table.cdrs tbody tr').count(), 2);
    assert.match((await page.textContent('dl.facts')) ?? '', /Missed for\s*101 \(.*\), 102/);
    await page.screenshot({ path: screenshotPath('call-detail'), fullPage: true });
  });
});
