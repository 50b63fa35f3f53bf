import assert from 'node:assert/strict';
import { billableSeconds, chargeMicro, parseIncrements } from '../../src/features/reports/billing.js';
import { parseDeckCsv, type DeckRate } from '../../src/features/reports/deck-csv.js';
import { formatMoney, parseMoney } from '../../src/features/reports/money.js';
import { intervalSpan, parseRange, periodAt } from '../../src/features/reports/periods.js';
import { PrefixTrie } from '../../src/features/reports/prefix-trie.js';
import { changeText, countOf } from '../../src/features/reports/deck-import.js';
import { deckChange, RateDeck } from '../../src/features/reports/rate-decks.js';
import { numberDigits, rateCall } from '../../src/features/reports/rating.js';
import { ruPlural } from '../../src/features/reports/texts.js';

const rate = (prefix: string, name: string, perMinute: string, opts: Partial<DeckRate> = {}): DeckRate => ({
  prefix,
  name,
  rateMicro: parseMoney(perMinute)!,
  firstIncrement: 60,
  nextIncrement: 60,
  connectionFeeMicro: 0,
  effectiveFrom: 0,
  ...opts,
});
const deck = (rates: DeckRate[]) => new RateDeck({ id: 1, peer: 'carrier', kind: 'cost', version: 1 }, rates);

const NOV_1 = Date.UTC(2026, 10, 1);
const DEC_1 = Date.UTC(2026, 11, 1);

describe('longest-prefix match over a rate deck', () => {
  const d = deck([rate('7', 'Russia', '0.05'), rate('79', 'Russia mobile', '0.08'), rate('7916', 'Russia MTS Moscow', '0.10'), rate('1', 'USA', '0.01')]);

  it('overlapping prefixes: the longest one that matches wins', () => {
    assert.equal(d.match('79161234567', NOV_1)?.name, 'Russia MTS Moscow');
    assert.equal(d.match('79031234567', NOV_1)?.name, 'Russia mobile');
    assert.equal(d.match('74951234567', NOV_1)?.name, 'Russia');
  });

  it('a number no prefix covers matches nothing', () => {
    assert.equal(d.match('441234567890', NOV_1), undefined);
    assert.equal(d.match('', NOV_1), undefined);
  });

  it('a number shorter than the prefix matches the shorter prefix only', () => {
    assert.equal(d.match('791', NOV_1)?.name, 'Russia mobile');
  });

  it('effective dates: the latest rate already in effect applies, a future one does not', () => {
    const dated = deck([
      rate('44', 'UK', '0.02', { effectiveFrom: 0 }),
      rate('44', 'UK', '0.03', { effectiveFrom: NOV_1 }),
      rate('447', 'UK mobile', '0.09', { effectiveFrom: DEC_1 }),
    ]);
    assert.equal(dated.match('447700900123', NOV_1 - 1)?.rateMicro, 20_000, 'before November: the old rate');
    assert.equal(dated.match('447700900123', NOV_1)?.rateMicro, 30_000, 'from November on: the new rate');
    assert.equal(dated.match('447700900123', DEC_1 - 1)?.name, 'UK', 'the mobile prefix does not shadow 44 before it takes effect');
    assert.equal(dated.match('447700900123', DEC_1)?.name, 'UK mobile');
  });

  it('a prefix in effect only later leaves a call before then unmatched', () => {
    assert.equal(deck([rate('33', 'France', '0.02', { effectiveFrom: DEC_1 })]).match('33123456789', NOV_1), undefined);
  });

  it('holds 60 000 prefixes and still finds the longest', () => {
    const many: DeckRate[] = [];
    for (let i = 0; i < 60_000; i++) many.push(rate(String(100000 + i), `range ${i}`, '0.01'));
    many.push(rate('1000', 'short', '0.02'));
    const trie = new PrefixTrie(many);
    assert.equal(trie.size, 60_001);
    assert.equal(trie.match('1599991234', 0)?.name, 'range 59999');
    assert.equal(trie.match('1000', 0)?.name, 'short');
  });
});

describe('billing increments', () => {
  it('reads 60/60, 1/1, 30/6 and a single 60; refuses 0 and words', () => {
    assert.deepEqual(parseIncrements('60/60'), { first: 60, next: 60 });
    assert.deepEqual(parseIncrements(' 30 / 6 '), { first: 30, next: 6 });
    assert.deepEqual(parseIncrements('60'), { first: 60, next: 60 });
    assert.equal(parseIncrements('0/1'), undefined);
    assert.equal(parseIncrements('per minute'), undefined);
  });

  const table: [string, number, number][] = [
    ['60/60', 0, 0],
    ['60/60', 1, 60],
    ['60/60', 60, 60],
    ['60/60', 61, 120],
    ['1/1', 61, 61],
    ['30/6', 1, 30],
    ['30/6', 30, 30],
    ['30/6', 31, 36],
    ['30/6', 36, 36],
    ['30/6', 37, 42],
  ];
  for (const [inc, talk, billed] of table) {
    it(`${inc}: ${talk} s talked bills ${billed} s`, () => assert.equal(billableSeconds(talk, parseIncrements(inc)!), billed));
  }

  it('charges the connection fee plus the rate per billed minute, rounded to the micro-unit', () => {
    assert.equal(chargeMicro(100_000, 0, 60), 100_000);
    assert.equal(chargeMicro(100_000, 5_000, 90), 155_000);
    assert.equal(chargeMicro(10_001, 0, 1), 167, '10001/60 = 166.68');
    assert.equal(chargeMicro(100_000, 5_000, 0), 0, 'no talk, no fee');
  });
});

describe('rating a call', () => {
  const cost = deck([rate('7', 'Russia', '0.05'), rate('7916', 'Russia MTS', '0.08', { firstIncrement: 1, nextIncrement: 1 })]);
  const sell = deck([rate('79', 'Russia mobile', '0.12', { firstIncrement: 30, nextIncrement: 6, connectionFeeMicro: 10_000 })]);

  it('each side bills by its own increments; the code and name are the sell rate\'s', () => {
    const r = rateCall({ peer: 'carrier', dialed: '+7 916 123-45-67', startedAt: NOV_1, talkSeconds: 31 }, cost, sell);
    assert.equal(r.number, '79161234567');
    assert.equal(r.code, '79');
    assert.equal(r.destination, 'Russia mobile');
    assert.equal(r.costPrefix, '7916');
    assert.equal(r.costMicro, Math.round((80_000 * 31) / 60));
    assert.equal(r.billedSeconds, 36);
    assert.equal(r.revenueMicro, 10_000 + Math.round((120_000 * 36) / 60));
    assert.equal(r.profitMicro, r.revenueMicro - r.costMicro);
  });

  it('a number no deck matches is rated at zero under the empty code', () => {
    const r = rateCall({ peer: 'carrier', dialed: '0044123', startedAt: NOV_1, talkSeconds: 10 }, cost, sell);
    assert.equal(r.number, '44123');
    assert.deepEqual([r.code, r.costMicro, r.revenueMicro], ['', 0, 0]);
  });

  it('normalizes what the PBX dialed to E.164 digits', () => {
    assert.equal(numberDigits('+79161234567'), '79161234567');
    assert.equal(numberDigits('0079161234567'), '79161234567');
    assert.equal(numberDigits('(7) 916-123'), '7916123');
  });
});

describe('money in micro-units', () => {
  it('parses decimals exactly and formats them back', () => {
    assert.equal(parseMoney('0.0125'), 12_500);
    assert.equal(parseMoney('12'), 12_000_000);
    assert.equal(parseMoney('3,5'), 3_500_000);
    assert.equal(parseMoney('-1.000001'), -1_000_001);
    assert.equal(parseMoney('0.1234567'), undefined, 'seven decimals');
    assert.equal(parseMoney('1e3'), undefined);
    assert.equal(formatMoney(12_345_678), '12.35');
    assert.equal(formatMoney(-4_999), '0.00', 'rounds to zero without a minus');
    assert.equal(formatMoney(-1_005_000), '-1.01');
  });

  it('a million small amounts sum exactly', () => {
    let sum = 0;
    for (let i = 0; i < 1_000_000; i++) sum += 1_667; // 0.001667 a call
    assert.equal(sum, 1_667_000_000);
    assert.equal(formatMoney(sum), '1667.00');
  });
});

describe('rate deck CSV import', () => {
  const tz = 'Europe/Moscow';

  it('accepts good lines, skips the header, blank lines and comments, reads quotes and optional fields', () => {
    const csv = ['prefix,name,rate,increments,from-date,connection fee', '# comment', '7,Russia,0.05,60/60,,', '', '7916,"Russia, MTS Moscow",0.08,1/1,2026-11-01,0.01', '44,UK,0.02'].join('\n');
    const { rates, rejected } = parseDeckCsv(csv, tz);
    assert.deepEqual(rejected, []);
    assert.equal(rates.length, 3);
    assert.deepEqual(rates[1], { prefix: '7916', name: 'Russia, MTS Moscow', rateMicro: 80_000, firstIncrement: 1, nextIncrement: 1, connectionFeeMicro: 10_000, effectiveFrom: Date.UTC(2026, 9, 31, 21) });
    assert.deepEqual([rates[2]!.firstIncrement, rates[2]!.nextIncrement, rates[2]!.effectiveFrom], [60, 60, 0], 'defaults: 60/60, always');
  });

  it('rejects bad lines with their line number and the reason, and keeps the good ones', () => {
    const csv = [
      '7,Russia,0.05,60/60,2026-01-01', // 1 ok
      '+7x,Bad prefix,0.05,60/60,', // 2
      '49,Germany,cheap,60/60,', // 3
      '33,France,0.02,sixty,', // 4
      '34,Spain,0.02,60/60,2026-02-30', // 5
      '7,Russia again,0.06,60/60,2026-01-01', // 6 duplicate of 1
      '39', // 7
      '40,"Romania,0.02,60/60,', // 8
      '41,Switzerland,0.02,60/60,,0.01,extra', // 9
      '42,Czech,-0.02,60/60,', // 10
      '1234567890123456,Too long,0.01,1/1,', // 11
    ].join('\n');
    const { rates, rejected } = parseDeckCsv(csv, tz);
    assert.equal(rates.length, 1);
    assert.deepEqual(rejected.map((r) => r.line), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const reason = (line: number) => rejected.find((r) => r.line === line)!.reason;
    assert.match(reason(2), /prefix must be 1 to 15 digits/);
    assert.match(reason(3), /rate "cheap" is not a price per minute/);
    assert.match(reason(4), /increments "sixty"/);
    assert.match(reason(5), /date "2026-02-30" is not a date/);
    assert.match(reason(6), /already on line 1/);
    assert.match(reason(7), /found 1 field/);
    assert.match(reason(8), /quoted field is not closed/);
    assert.match(reason(9), /too many fields/);
    assert.match(reason(10), /rate "-0.02"/);
    assert.match(reason(11), /1 to 15 digits/);
    assert.equal(rejected[0]!.text, '+7x,Bad prefix,0.05,60/60,');
  });

  it('reads semicolon files with decimal commas', () => {
    const { rates, rejected } = parseDeckCsv('380;Ukraine;0,045;30/6;2026-11-01;0,01', tz);
    assert.deepEqual(rejected, []);
    assert.deepEqual([rates[0]!.rateMicro, rates[0]!.firstIncrement, rates[0]!.nextIncrement, rates[0]!.connectionFeeMicro], [45_000, 30, 6, 10_000]);
  });
});

describe('what a deck import changes', () => {
  it('compares by prefix and date: new, changed (price, name, increments or fee), unchanged, removed', () => {
    const before = [rate('7', 'Russia', '0.05'), rate('44', 'UK', '0.02'), rate('49', 'Germany', '0.02'), rate('44', 'UK', '0.03', { effectiveFrom: 1000 })];
    const after = [rate('7', 'Russia', '0.05'), rate('44', 'UK', '0.025'), rate('33', 'France', '0.02'), rate('44', 'UK', '0.03', { effectiveFrom: 1000, firstIncrement: 1 })];
    assert.deepEqual(deckChange(before, after), { before: 4, after: 4, added: 1, removed: 1, changed: 2, unchanged: 1 });
    assert.equal(changeText(deckChange(before, after), 'past'), 'replaced 4 rates with 4 (1 new, 2 changed, 1 unchanged, 1 removed)');
    assert.equal(changeText(deckChange(before, after.slice(0, 1)), 'conditional'), 'would replace 4 rates with 1 (1 unchanged, 3 removed)');
    assert.equal(changeText(deckChange(before, after.slice(0, 1)), 'present'), 'replaces 4 rates with 1 (1 unchanged, 3 removed)');
    assert.equal(changeText(deckChange([], after.slice(0, 1)), 'past'), 'created the deck with 1 rate');
    assert.deepEqual([countOf(1, 'rate'), countOf(0, 'rate'), countOf(2, 'line')], ['1 rate', '0 rates', '2 lines']);
  });
});

describe('Russian plurals in the bot\'s messages', () => {
  it('1 звонок, 2 звонка, 5 звонков, 11 звонков, 21 звонок, 22 звонка, 112 звонков', () => {
    const calls = (n: number) => `${n} ${ruPlural(n, 'звонок', 'звонка', 'звонков')}`;
    assert.deepEqual([1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 112].map(calls), ['1 звонок', '2 звонка', '4 звонка', '5 звонков', '11 звонков', '12 звонков', '14 звонков', '21 звонок', '22 звонка', '25 звонков', '101 звонок', '111 звонков', '112 звонков']);
  });
});

describe('periods in the PBX time zone', () => {
  const tz = 'Europe/Moscow'; // UTC+3, no DST
  const at = Date.UTC(2026, 10, 22, 7, 30); // 10:30 in Moscow, a Sunday

  it('hour, day and month start at local boundaries', () => {
    assert.deepEqual(periodAt('hour', at, tz), { from: Date.UTC(2026, 10, 22, 7), to: Date.UTC(2026, 10, 22, 8) });
    assert.deepEqual(periodAt('day', at, tz), { from: Date.UTC(2026, 10, 21, 21), to: Date.UTC(2026, 10, 22, 21) });
    assert.deepEqual(periodAt('month', at, tz), { from: Date.UTC(2026, 9, 31, 21), to: Date.UTC(2026, 10, 30, 21) });
  });

  it('report intervals: yesterday is a whole local day, the week starts on Monday', () => {
    assert.deepEqual(intervalSpan('yesterday', at, tz), { from: Date.UTC(2026, 10, 20, 21), to: Date.UTC(2026, 10, 21, 21) });
    assert.deepEqual(intervalSpan('this_week', at, tz), { from: Date.UTC(2026, 10, 15, 21), to: at });
    assert.deepEqual(intervalSpan('last_hour', at, tz), { from: at - 3_600_000, to: at });
  });

  it('a day across a DST change is 23 hours long', () => {
    const span = periodAt('day', Date.UTC(2026, 2, 29, 12), 'Europe/Berlin');
    assert.equal(span.to - span.from, 23 * 3_600_000);
  });

  it('custom ranges: whole days both included, or hours; nonsense refused', () => {
    assert.deepEqual(parseRange('2026-11-01 2026-11-15', tz), { from: Date.UTC(2026, 9, 31, 21), to: Date.UTC(2026, 10, 15, 21) });
    assert.deepEqual(parseRange('2026-11-01 10:00 - 2026-11-01 18:00', tz), { from: Date.UTC(2026, 10, 1, 7), to: Date.UTC(2026, 10, 1, 15) });
    assert.equal(parseRange('2026-11-15 2026-11-01', tz), undefined);
    assert.equal(parseRange('last tuesday', tz), undefined);
  });
});
