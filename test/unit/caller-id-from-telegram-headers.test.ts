import assert from 'node:assert/strict';
import {
  callerIdFromTelegramHeaders,
  normalizeTelegramPhone,
  normalizeTelegramUsername,
  normalizeTelegramUserId,
  type TelegramHeaders,
} from '../../src/pbx/caller-id-from-telegram-headers.js';

const PHONE = '79990001122';
const USERNAME = 'alice_tg';
const ID = '123456789';

describe('caller ID from X-TG-Phone > X-TG-Username > X-TG-ID', () => {
  // Every combination of the three identity headers, with and without names.
  for (const phone of [true, false])
    for (const username of [true, false])
      for (const id of [true, false])
        for (const names of [true, false]) {
          const headers: TelegramHeaders = {
            phone: phone ? PHONE : null,
            username: username ? USERNAME : null,
            id: id ? ID : null,
            firstName: names ? 'Alice' : null,
            lastName: names ? 'Smith' : null,
          };
          const number = phone ? '+79990001122' : username ? USERNAME : id ? ID : null;
          const name = names ? 'Alice Smith' : username ? `@${USERNAME}` : null;
          const label = [phone && 'phone', username && 'username', id && 'id', names && 'names'].filter(Boolean).join('+') || 'no headers';
          it(`${label}: number ${number ?? 'unchanged'}, name ${name ?? 'unchanged'}`, () => {
            const c = callerIdFromTelegramHeaders(headers);
            assert.equal(c.number, number);
            assert.equal(c.name, name);
            assert.equal(c.source, phone ? 'phone' : username ? 'username' : id ? 'id' : null);
            assert.equal(c.telegramUserId, id ? ID : null);
          });
        }

  it('a header with an invalid value counts as absent: the next one in line is used', () => {
    assert.equal(callerIdFromTelegramHeaders({ phone: 'hidden', username: USERNAME, id: ID }).number, USERNAME);
    assert.equal(callerIdFromTelegramHeaders({ phone: '', username: 'a b', id: ID }).number, ID);
    assert.equal(callerIdFromTelegramHeaders({ phone: '123', username: '@', id: 'x1' }).number, null);
  });

  it('uses the first name or the last name alone, and never a name of blanks', () => {
    assert.equal(callerIdFromTelegramHeaders({ firstName: 'Alice', username: USERNAME }).name, 'Alice');
    assert.equal(callerIdFromTelegramHeaders({ lastName: 'Smith' }).name, 'Smith');
    assert.equal(callerIdFromTelegramHeaders({ firstName: '  ', lastName: '\t', username: USERNAME }).name, `@${USERNAME}`);
  });

  it('cleans names: control characters and runs of blanks go, 64 characters at most, emoji kept whole', () => {
    assert.equal(callerIdFromTelegramHeaders({ firstName: 'Al\r\nice', lastName: ' Smith\u0000 ' }).name, 'Al ice Smith');
    const long = callerIdFromTelegramHeaders({ firstName: '🚀'.repeat(70) }).name!;
    assert.equal(Array.from(long).length, 64);
    assert.equal(long, '🚀'.repeat(64));
    assert.equal(callerIdFromTelegramHeaders({ firstName: 'Анна', lastName: 'Иванова' }).name, 'Анна Иванова');
  });

  describe('phone numbers become E.164 with +', () => {
    const table: [string, string | null][] = [
      ['79990001122', '+79990001122'],
      ['+79990001122', '+79990001122'],
      ['+7 (999) 000-11-22', '+79990001122'],
      ['7.999.000.11.22', '+79990001122'],
      ['12125550123', '+12125550123'],
      ['4915112345678', '+4915112345678'],
      ['88804239960', '+88804239960'],
      ['380501234567', '+380501234567'],
      ['123', null],
      ['89990001122', null],
      ['99912345678', null],
      ['+7999000112233445566', null],
      ['phone', null],
      ['', null],
    ];
    for (const [raw, expected] of table) it(`${JSON.stringify(raw)} -> ${expected}`, () => assert.equal(normalizeTelegramPhone(raw), expected));
  });

  describe('usernames and ids', () => {
    const usernames: [string, string | null][] = [
      ['alice', 'alice'],
      ['@alice', 'alice'],
      ['Alice_99', 'Alice_99'],
      ['abcd', 'abcd'],
      ['abc', null],
      ['9alice', null],
      ['alice-x', null],
      ['a'.repeat(33), null],
    ];
    for (const [raw, expected] of usernames) it(`username ${JSON.stringify(raw)} -> ${expected}`, () => assert.equal(normalizeTelegramUsername(raw), expected));
    const ids: [string, string | null][] = [
      ['123456789', '123456789'],
      [' 42 ', '42'],
      ['0', null],
      ['-100123', null],
      ['12a', null],
      ['1'.repeat(21), null],
    ];
    for (const [raw, expected] of ids) it(`id ${JSON.stringify(raw)} -> ${expected}`, () => assert.equal(normalizeTelegramUserId(raw), expected));
  });
});
