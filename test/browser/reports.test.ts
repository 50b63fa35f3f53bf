import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adminPage, launchChromium, logInAsAdmin, screenshotPath } from '../support/browser.js';
import { ManualClock } from '../support/manual-clock.js';
import { startModule, type TestModule } from '../support/module.js';
import { outboundCall, storeCalls } from '../support/rated-calls.js';

const T0 = Date.UTC(2026, 10, 22, 7, 0); // 10:00 in Moscow

describe('Reports pages in Chromium', function () {
  let browser: Browser;
  let mod: TestModule;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
    mod = await startModule({}, { clock: new ManualClock(T0 + 3_600_000), start: false });
    await mod.app.settings.update({ 'general.timezone': 'Europe/Moscow' });
    await mod.app.start();
    const { reports } = mod.app;
    await mod.app.calls.directory.saveEndpoint('carrier-a', 'trunk', 'Carrier A');
    const dest: [string, string, number, number][] = [
      ['7916', 'Russia MTS Moscow', 0.08, 0.12],
      ['7903', 'Russia Beeline', 0.07, 0.1],
      ['7495', 'Moscow fixed', 0.03, 0.05],
      ['4420', 'London', 0.01, 0.015],
      ['447', 'UK mobile', 0.09, 0.06],
      ['49', 'Germany', 0.02, 0.018],
    ];
    const micro = (v: number) => Math.round(v * 1_000_000);
    await reports.decks.replace('carrier-a', 'cost', dest.map(([prefix, name, cost]) => ({ prefix, name, rateMicro: micro(cost), firstIncrement: 60, nextIncrement: 60, connectionFeeMicro: 0, effectiveFrom: 0 })));
    await reports.decks.replace('carrier-a', 'sell', dest.map(([prefix, name, , sell]) => ({ prefix, name, rateMicro: micro(sell), firstIncrement: 60, nextIncrement: 60, connectionFeeMicro: 0, effectiveFrom: 0 })));
    const calls = [];
    for (let i = 0; i < 40; i++) {
      const [prefix] = dest[i % dest.length]!;
      calls.push(outboundCall({ trunk: 'carrier-a', dialed: `${prefix}${String(1000000 + i)}`, startedAt: T0 + i * 30_000, talkSeconds: 60 + ((i * 37) % 400) }));
    }
    await storeCalls(mod.app, calls);
    const noc = await reports.chats.register({ chatId: '-1002000', botId: 'default', title: 'NOC', peers: ['carrier-a'] });
    await reports.chats.notePending('-1003000', 'default', 'Sales floor');
    await reports.lossControl.saveLimit({ peer: 'carrier-a', period: 'hour', maxLossMicro: micro(0.5), minMarginBp: null, alertChatRowId: noc, enabled: true });
    await reports.lossControl.saveLimit({ peer: 'carrier-a', period: 'month', maxLossMicro: micro(50), minMarginBp: 500, alertChatRowId: noc, enabled: true });
    // A UK mobile call in this hour loses 0.60 and crosses the hourly limit: the peer is blocked.
    await storeCalls(mod.app, [outboundCall({ trunk: 'carrier-a', dialed: '447700900123', startedAt: T0 + 3_600_000, talkSeconds: 1200 })]);
    ({ context, page } = await adminPage(browser, mod.app, '/reports'));
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await mod?.close();
  });

  it('the profit report: a chart with a bar per code (loss in red) and the table sorted by profit with totals', async () => {
    await page.goto(`${mod.app.url}/reports?peer=carrier-a&interval=today`);
    assert.equal(await page.locator('nav.sidebar a[aria-current=page]').textContent(), 'Reports');
    const codes = await page.locator('#profit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));
    assert.deepEqual(codes, ['7916', '7903', '7495', '4420', '49', '447']);
    assert.equal(await page.locator('svg.rp-chart g.rp-bar').count(), 6);
    assert.equal(await page.locator('svg.rp-chart g.rp-loss').count(), 2, 'UK mobile and Germany lose money');
    assert.equal(await page.locator('#profit-table tfoot td.num').first().textContent(), '40', 'the call that starts now is not in [midnight, now)');
    const csv = await page.request.get(mod.app.url + (await page.locator('#profit-csv').getAttribute('href'))!);
    assert.match(await csv.text(), /^code,destination,calls/);
    await page.screenshot({ path: screenshotPath('reports-profit'), fullPage: true });
  });

  it('loss control: the limits with this period\'s figures, the blocked peer and its Unblock button', async () => {
    await page.goto(`${mod.app.url}/reports/limits`);
    const day = page.locator('tr[data-limit="carrier-a:hour"]');
    assert.match((await day.locator('td.state').textContent())!, /blocked/);
    assert.equal(await page.locator('tr[data-limit="carrier-a:month"] td.state .badge').textContent(), 'open');
    await page.screenshot({ path: screenshotPath('reports-limits'), fullPage: true });
    await day.locator('button.unblock').click();
    await page.waitForURL('**/reports/limits?saved');
    assert.match((await page.locator('tr[data-limit="carrier-a:hour"] td.state').textContent())!, /open/);
    assert.equal(mod.app.reports.lossControl.openBlockOf('carrier-a'), undefined);
  });

  it('chats: a group the bot was added to waits for approval and is approved with one click', async () => {
    await page.goto(`${mod.app.url}/reports/chats`);
    const sales = page.locator('tr[data-chat="-1003000"]');
    assert.equal(await sales.getAttribute('data-status'), 'pending');
    await page.screenshot({ path: screenshotPath('reports-chats'), fullPage: true });
    await sales.locator('button.approve').click();
    await page.waitForURL('**/reports/chats?saved');
    assert.equal(await page.locator('tr[data-chat="-1003000"]').getAttribute('data-status'), 'approved');
  });

  it('decks: an import with rejected lines stores nothing and lists them; the good lines go in only when the admin ticks "anyway"', async () => {
    await page.goto(`${mod.app.url}/reports/decks`);
    await page.fill('.rp-import input[name=peer]', 'carrier-a');
    await page.selectOption('.rp-import select[name=kind]', 'cost');
    await page.fill('#rp-csv', 'prefix,name,rate,increments,from-date\n7916,Russia MTS Moscow,0.09,60/60,\n7x,Bad,0.05,60/60,\n44,UK,cheap,60/60,');
    await page.click('.rp-import button[type=submit]');
    await page.waitForSelector('#import-result');
    assert.equal(await page.locator('#import-result').getAttribute('data-stored'), 'false');
    assert.match((await page.locator('#import-result').textContent())!, /Nothing imported, the deck is as it was\. The file has 1 good line and 2 rejected lines\. Importing the good lines would replace 6 rates with 1 \(1 changed, 5 removed\)/);
    const rejected = await page.locator('.rp-rejected tbody tr').allTextContents();
    assert.equal(rejected.length, 2);
    assert.match(rejected[0]!, /^3.*prefix must be 1 to 15 digits/);
    assert.match(rejected[1]!, /^4.*rate "cheap"/);
    assert.equal((await mod.app.reports.decks.info('carrier-a', 'cost'))!.rates, 6, 'the deck is unchanged');
    // The form comes back filled in, with the explicit choice.
    assert.equal(await page.inputValue('.rp-import input[name=peer]'), 'carrier-a');
    assert.match(await page.inputValue('#rp-csv'), /44,UK,cheap/);
    assert.match((await page.locator('.rp-partial').textContent())!, /Import the 1 good line into carrier-a \(cost\) anyway and leave the 2 rejected lines out: this replaces 6 rates with 1 \(1 changed, 5 removed\)/);
    await page.screenshot({ path: screenshotPath('reports-decks-refused'), fullPage: true });

    // The choice is for that deck: ticked after switching to another peer, it is asked again for that one.
    await page.fill('.rp-import input[name=peer]', 'carrier-b');
    await page.check('.rp-partial input[name=partial]');
    await page.click('.rp-import button[type=submit]');
    await page.waitForSelector('#import-result');
    assert.match((await page.locator('p.error').textContent())!, /changed since you chose to import the good lines, so nothing was imported/);
    assert.equal(await mod.app.reports.decks.info('carrier-b', 'cost'), undefined);
    assert.match((await page.locator('.rp-partial').textContent())!, /into carrier-b \(cost\) anyway and leave the 2 rejected lines out: this creates the deck with 1 rate/);
    await page.check('.rp-partial input[name=partial]');
    await page.click('.rp-import button[type=submit]');
    await page.waitForSelector('#import-result[data-stored=true]');
    assert.match((await page.locator('#import-result .notice').textContent())!, /^1 rate imported: created the deck with 1 rate \(version 1\)\. 2 rejected lines were left out, as you chose\./);
    assert.equal((await mod.app.reports.decks.info('carrier-a', 'cost'))!.rates, 6);
    assert.equal((await mod.app.reports.decks.info('carrier-b', 'cost'))!.rates, 1);
    await page.screenshot({ path: screenshotPath('reports-decks'), fullPage: true });
  });
  it('decks: one rate is added, edited and deleted on the deck view; bad input is explained next to each field', async () => {
    const { decks } = mod.app.reports;
    await page.goto(`${mod.app.url}/reports/decks?deck=carrier-a&kind=sell#rates`);
    assert.equal(await page.locator('.rp-rates tbody tr').count(), 6);
    await page.fill('#rate-prefix', '79x');
    await page.fill('#rate-name', 'Russia test');
    await page.fill('#rate-rate', 'cheap');
    await page.fill('#rate-increments', 'sixty');
    await page.fill('#rate-from', '2026-02-30');
    await page.click('#rate-form button[type=submit]');
    await page.waitForSelector('#rate-prefix-problem');
    const problem = (name: string) => page.locator(`#rate-${name}-problem`).textContent();
    assert.equal(await problem('prefix'), 'The prefix is 1 to 15 digits.');
    assert.equal(await problem('rate'), 'The rate per minute must be an amount like 10 or 0.0125.');
    assert.equal(await problem('increments'), 'Increments are like 60/60, 1/1 or 30/6.');
    assert.equal(await problem('from'), 'The date is like 2026-11-01, or empty for always.');
    assert.equal(await page.locator('#rate-name-problem').count(), 0);
    assert.equal(await page.getAttribute('#rate-prefix', 'aria-invalid'), 'true');
    assert.equal(await page.inputValue('#rate-name'), 'Russia test', 'what was typed stays');
    assert.equal((await decks.info('carrier-a', 'sell'))!.rates, 6);
    await page.screenshot({ path: screenshotPath('reports-rate-problems'), fullPage: true });

    await page.fill('#rate-prefix', '+7999');
    await page.fill('#rate-rate', '0.2');
    await page.fill('#rate-increments', '1/1');
    await page.fill('#rate-from', '');
    await page.click('#rate-form button[type=submit]');
    await page.waitForSelector('#rate-saved');
    assert.deepEqual(await page.locator('.rp-rates tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-rate'))), ['7999'], 'the view narrows to the saved prefix');
    assert.match((await page.locator('tr[data-rate="7999"]').textContent())!, /Russia test\s*0\.20\s*1\/1/);
    assert.equal((await decks.info('carrier-a', 'sell'))!.rates, 7);

    // Edit: the form comes filled in; a new date moves the rate instead of adding another.
    await page.goto(`${mod.app.url}/reports/decks?deck=carrier-a&kind=sell&prefix=447#rates`);
    await page.click('tr[data-rate="447"] a.edit');
    await page.waitForSelector('#rate-form input[name=replaces]', { state: 'attached' });
    assert.equal(await page.locator('#rate-form-title').textContent(), 'Edit the rate');
    assert.deepEqual([await page.inputValue('#rate-prefix'), await page.inputValue('#rate-name'), await page.inputValue('#rate-rate'), await page.inputValue('#rate-increments'), await page.inputValue('#rate-from')], ['447', 'UK mobile', '0.06', '60/60', '']);
    await page.fill('#rate-rate', '0.11');
    await page.fill('#rate-from', '2026-12-01');
    await page.screenshot({ path: screenshotPath('reports-rate-edit'), fullPage: true });
    await page.click('#rate-form button[type=submit]');
    await page.waitForSelector('#rate-saved');
    const uk = await decks.rates('carrier-a', 'sell', { prefix: '447' });
    assert.deepEqual(uk.map((r) => [r.prefix, r.rateMicro, r.effectiveFrom]), [['447', 110_000, Date.UTC(2026, 10, 30, 21)]]);
    assert.equal((await decks.info('carrier-a', 'sell'))!.rates, 7);

    // Delete.
    await page.goto(`${mod.app.url}/reports/decks?deck=carrier-a&kind=sell&prefix=7999#rates`);
    await page.click('tr[data-rate="7999"] button.delete');
    await page.waitForSelector('#rate-saved');
    assert.equal(await page.locator('#rate-saved').textContent().then((t) => t!.startsWith('Rate removed.')), true);
    assert.equal(await page.locator('tr[data-rate="7999"]').count(), 0);
    assert.equal((await decks.info('carrier-a', 'sell'))!.rates, 6);
  });

  it('decks: Remove asks first (confirm() with JavaScript, a page saying what is lost without); calls already rated keep their ratings', async () => {
    const { db, decks } = mod.app.reports;
    const ratingsOf = async () => Number((await db('rp_ratings').where({ peer: 'carrier-a' }).count({ n: '*' }))[0]!.n);
    const rated = await ratingsOf();
    assert.ok(rated > 0);

    // With JavaScript: a confirm() names the deck; Cancel keeps it, OK posts (with the page's CSRF token).
    await page.goto(`${mod.app.url}/reports/decks`);
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    await page.click('tr[data-deck="carrier-b:cost"] form.remove-deck button');
    assert.equal(asked, 'Remove the cost deck of carrier-b (1 rate)? Calls already rated keep their ratings until re-rated.');
    assert.equal(page.url(), `${mod.app.url}/reports/decks`);
    assert.ok(await decks.info('carrier-b', 'cost'), 'Cancel keeps the deck');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('tr[data-deck="carrier-b:cost"] form.remove-deck button');
    await page.waitForSelector('#deck-removed');
    assert.match((await page.textContent('#deck-removed'))!, /^The cost deck of carrier-b was removed\. Calls rated before keep their ratings/);
    assert.equal(await decks.info('carrier-b', 'cost'), undefined);
    assert.equal(await page.locator('tr[data-deck="carrier-b:cost"]').count(), 0);

    // Without JavaScript: the button leads to a page that says what is lost, Keep it goes back.
    const noScript = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    try {
      const plain = await noScript.newPage();
      await logInAsAdmin(plain, mod.app, '/reports/decks');
      await plain.click('tr[data-deck="carrier-a:cost"] form.remove-deck button');
      await plain.waitForSelector('#remove-deck');
      assert.equal(await plain.textContent('#remove-deck h2'), 'Remove the cost deck of carrier-a?');
      const text = (await plain.textContent('#remove-deck'))!.replace(/\s+/g, ' ');
      assert.match(text, /Its 6 rates \(version 1\) are deleted: what the carrier charges you for calls over carrier-a\./);
      assert.match(text, /Calls already rated keep their ratings \(and \/profit and loss control their figures\) until you re-rate their days\./);
      assert.match(text, /Calls from now on are rated with the sell deck only \(no cost\)\./);
      await plain.screenshot({ path: screenshotPath('reports-deck-remove'), fullPage: true });
      await plain.click('#remove-deck a.cancel-link');
      await plain.waitForURL('**/reports/decks');
      assert.ok(await decks.info('carrier-a', 'cost'), 'Keep it keeps the deck');
      await plain.click('tr[data-deck="carrier-a:cost"] form.remove-deck button');
      await plain.click('#remove-deck button.danger');
      await plain.waitForSelector('#deck-removed');
      assert.equal(await decks.info('carrier-a', 'cost'), undefined);
      assert.equal(await ratingsOf(), rated, 'the calls keep their ratings until re-rated');
      assert.equal((await plain.goto(`${mod.app.url}/reports/decks/remove?peer=carrier-a&kind=cost`))!.status(), 404, 'a deck removed already');
      assert.match((await plain.textContent('p.error'))!, /No such deck/);
    } finally {
      await noScript.close();
    }
  });
});
