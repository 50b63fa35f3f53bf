import assert from 'node:assert/strict';
import { sipHeaderFunction } from '../../src/pbx/agi-handlers/tg-callerid.js';
import { combineRouteDecisions, type RouteDecision } from '../../src/pbx/route-guard.js';

const allow: RouteDecision = { allow: true };
const block = (policy: string): RouteDecision => ({ allow: false, cause: 21, reason: `${policy} says no`, policy });

describe('route decisions', () => {
  const table: [string, RouteDecision[], RouteDecision][] = [
    ['no policy allows', [], allow],
    ['all allow', [allow, allow], allow],
    ['one block is enough', [allow, block('loss')], block('loss')],
    ['the first block wins', [block('loss'), block('hours')], block('loss')],
  ];
  for (const [name, decisions, expected] of table) it(name, () => assert.deepEqual(combineRouteDecisions(decisions), expected));
});

describe('SIP header function per channel technology', () => {
  const table: [string, string | null][] = [
    ['PJSIP', 'PJSIP_HEADER(read,X-TG-Phone)'],
    ['pjsip', 'PJSIP_HEADER(read,X-TG-Phone)'],
    ['SIP', 'SIP_HEADER(X-TG-Phone)'],
    ['Local', null],
    ['IAX2', null],
    ['', null],
  ];
  for (const [type, expected] of table) it(`${type || '(none)'} -> ${expected}`, () => assert.equal(sipHeaderFunction(type)?.('X-TG-Phone') ?? null, expected));
});
