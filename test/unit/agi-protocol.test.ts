import assert from 'node:assert/strict';
import {
  agiEnvironment,
  agiRoute,
  isAgiHangupNotice,
  isAgiUsageStart,
  parseAgiEnvironmentLine,
  parseAgiReplyLine,
  quoteAgiArgument,
} from '../../src/pbx/agi-protocol.js';
import { parseAgiArgs } from '../support/agi-client.js';

describe('AGI wire format', () => {
  describe('reply lines', () => {
    const table: [string, { code: number; result: string | null; value: string | null; rest: string } | null][] = [
      ['200 result=1', { code: 200, result: '1', value: null, rest: '' }],
      ['200 result=0', { code: 200, result: '0', value: null, rest: '' }],
      ['200 result=-1', { code: 200, result: '-1', value: null, rest: '' }],
      ['200 result=1 (+79990001122)', { code: 200, result: '1', value: '+79990001122', rest: '' }],
      ['200 result=1 (Alice (work) Smith)', { code: 200, result: '1', value: 'Alice (work) Smith', rest: '' }],
      ['200 result=1 ()', { code: 200, result: '1', value: '', rest: '' }],
      ['200 result=1 (timeout) endpos=1234', { code: 200, result: '1', value: 'timeout', rest: 'endpos=1234' }],
      ['200 result=0 endpos=24807', { code: 200, result: '0', value: null, rest: 'endpos=24807' }],
      ['200 result= (timeout)', { code: 200, result: '', value: 'timeout', rest: '' }],
      ['100 result=0 Trying...', { code: 100, result: '0', value: null, rest: 'Trying...' }],
      ['510 Invalid or unknown command', { code: 510, result: null, value: null, rest: 'Invalid or unknown command' }],
      ['511 Command Not Permitted on a dead channel or intercept routine', { code: 511, result: null, value: null, rest: 'Command Not Permitted on a dead channel or intercept routine' }],
      ['520 End of proper usage.', { code: 520, result: null, value: null, rest: 'End of proper usage.' }],
      ['HANGUP', null],
      ['hello', null],
      ['', null],
      ['20 result=1', null],
    ];
    for (const [line, expected] of table) {
      it(`${JSON.stringify(line)} -> ${expected ? `${expected.code} result=${expected.result} value=${expected.value}` : 'not a reply'}`, () => {
        const reply = parseAgiReplyLine(line);
        if (expected === null) assert.equal(reply, null);
        else assert.deepEqual({ code: reply!.code, result: reply!.result, value: reply!.value, rest: reply!.rest }, expected);
      });
    }

    it('recognises the first line of a multi-line usage reply and the HANGUP notice', () => {
      assert.equal(isAgiUsageStart('520-Invalid command syntax.  Proper usage follows:'), true);
      assert.equal(isAgiUsageStart('520 Invalid command syntax.  Proper usage not available.'), false);
      assert.equal(isAgiHangupNotice('HANGUP'), true);
      assert.equal(isAgiHangupNotice('HANGUP '), true);
      assert.equal(isAgiHangupNotice('200 result=1'), false);
    });
  });

  describe('environment', () => {
    const table: [string, [string, string] | null][] = [
      ['agi_network: yes', ['network', 'yes']],
      ['agi_channel: PJSIP/tgpbx-line-1-0000000e', ['channel', 'PJSIP/tgpbx-line-1-0000000e']],
      ['agi_accountcode: ', ['accountcode', '']],
      ['agi_accountcode:', ['accountcode', '']],
      ['agi_arg_1: direction=in', ['arg_1', 'direction=in']],
      ['agi_calleridname: Alice: the caller', ['calleridname', 'Alice: the caller']],
      ['channel: PJSIP/x', null],
      ['agi-channel: x', null],
      ['garbage', null],
    ];
    for (const [line, expected] of table) {
      it(`${JSON.stringify(line)} -> ${JSON.stringify(expected)}`, () => assert.deepEqual(parseAgiEnvironmentLine(line), expected));
    }

    it('names the fields tgpbx reads and lists the arguments in order', () => {
      const env = agiEnvironment({ network: 'yes', network_script: 'tg-callerid?line=1', request: 'agi://127.0.0.1:4573/tg-callerid?line=1', channel: 'SIP/t-1', uniqueid: '1.2', type: 'SIP', arg_1: 'a', arg_2: 'b', arg_4: 'd' });
      assert.equal(env.network, true);
      assert.equal(env.type, 'SIP');
      assert.deepEqual(env.args, ['a', 'b']);
      assert.equal(agiEnvironment({ request: '/x' }).network, false);
    });
  });

  describe('routes', () => {
    const table: [{ networkScript: string; request: string }, string, string][] = [
      [{ networkScript: 'tg-callerid', request: 'agi://127.0.0.1:4573/tg-callerid' }, 'tg-callerid', ''],
      [{ networkScript: 'tg-callerid?line=1', request: '' }, 'tg-callerid', 'line=1'],
      [{ networkScript: 'route-guard?direction=in&peer=trunk', request: '' }, 'route-guard', 'direction=in&peer=trunk'],
      [{ networkScript: 'tgpbx/TG-CallerID', request: '' }, 'tg-callerid', ''],
      [{ networkScript: '?x=1', request: '' }, '', 'x=1'],
      [{ networkScript: '', request: 'agi://127.0.0.1:4573/route-guard?direction=out' }, 'route-guard', 'direction=out'],
      [{ networkScript: '', request: 'agi://127.0.0.1' }, '', ''],
      [{ networkScript: '', request: '/opt/tgpbx/agi/tg-callerid' }, 'tg-callerid', ''],
      [{ networkScript: '', request: 'tg-callerid' }, 'tg-callerid', ''],
    ];
    for (const [env, handler, query] of table) {
      it(`${JSON.stringify(env.networkScript || env.request)} -> ${handler || '(none)'} ${query}`, () => {
        const route = agiRoute(env);
        assert.equal(route.handler, handler);
        assert.equal(route.params.toString(), query);
      });
    }
  });

  describe('quoting arguments as res_agi parses them', () => {
    const values = ['Alice Smith', 'O"Brien', 'back\\slash', 'tab\there', '', '"', 'Анна 🚀', 'a  b', 'trailing\\'];
    for (const value of values) {
      it(`${JSON.stringify(value)} comes back whole`, () => {
        const argv = parseAgiArgs(`SET VARIABLE CALLERID(name) ${quoteAgiArgument(value)}`);
        assert.equal(argv.length, 4);
        assert.equal(argv[3], value);
      });
    }
    it('line breaks and NULs become spaces (they would end the command)', () => {
      assert.equal(quoteAgiArgument('a\r\nb\0c'), '"a  b c"');
    });
  });
});
