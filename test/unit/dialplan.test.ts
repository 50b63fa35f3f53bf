import assert from 'node:assert/strict';
import { NAVIGATION } from '../../src/web/page.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DIALPLAN_CONTEXTS,
  extensionLines,
  fastAgiUrlFor,
  generateDialplan,
  type DialplanOptions,
} from '../../src/pbx/dialplan.js';
import { MIKOPBX_HOOKS, mikopbxHookTexts } from '../../src/pbx/mikopbx-hooks.js';
import { pjsipLineSnippet } from '../../src/pbx/pjsip-snippets.js';
import { parseTelegramLines } from '../../src/pbx/telegram-lines.js';

const base: DialplanOptions = {
  fastAgiUrl: 'agi://127.0.0.1:4573',
  lines: [],
  incomingContext: 'from-trunk',
  internalContext: 'from-internal',
  outgoingContext: 'outgoing-routes',
};
const twoLines: DialplanOptions = { ...base, lines: [{ id: 1, phone: '+79990001122' }, { id: 2, phone: '+79990002233' }] };

/** The application of each priority: `AGI(agi://…)` from ` same => n,AGI(agi://…)`. */
function apps(dialplan: string, context: string, exten: string): string[] {
  return extensionLines(dialplan, context, exten).map((l) => l.replace(/^(exten => [^,]+,1|\s*same => n)(\([^)]*\))?,/, ''));
}

describe('generated dialplan (extensions_tgpbx.conf)', () => {
  it('defines every context once, in order, and nothing outside them', () => {
    const text = generateDialplan(twoLines);
    const contexts = [...text.matchAll(/^\[([^\]]+)\]$/gm)].map((m) => m[1]);
    assert.deepEqual(contexts, [...DIALPLAN_CONTEXTS]);
    const beforeFirst = text.slice(0, text.indexOf('[tgpbx-hooks]'));
    assert.ok(beforeFirst.split('\n').every((l) => l === '' || l.startsWith(';')), 'only comments before the first context');
    assert.match(beforeFirst, /#include extensions_tgpbx\.conf/);
  });

  it('is deterministic: the same options give the same text', () => {
    assert.equal(generateDialplan(twoLines), generateDialplan(twoLines));
  });

  it('every extension starts at priority 1 and continues with n', () => {
    for (const line of generateDialplan(twoLines).split('\n')) {
      if (line.startsWith('exten => ')) assert.match(line, /^exten => [^,]+,1(\([a-z]+\))?,\w+\(/);
      else if (line.startsWith(' same => ')) assert.match(line, /^ same => n(\([a-z]+\))?,\w+\(/);
      else assert.ok(line === '' || line.startsWith(';') || /^\[[a-z-]+\]$/.test(line), `unexpected line ${line}`);
    }
  });

  it('hooks: callerid runs tg-callerid over FastAGI with the line, route-guard passes direction, peer and campaign', () => {
    const text = generateDialplan(base);
    assert.deepEqual(apps(text, 'tgpbx-hooks', 'callerid'), [
      'NoOp(tgpbx: caller ID from the X-TG-* headers)',
      'AGI(agi://127.0.0.1:4573/tg-callerid?line=${TGPBX_LINE})',
      'Return()',
    ]);
    assert.deepEqual(apps(text, 'tgpbx-hooks', 'route-guard'), [
      'NoOp(tgpbx: route guard, ${ARG1})',
      'AGI(agi://127.0.0.1:4573/route-guard?direction=${ARG1}&peer=${ARG2}&campaign=${ARG3})',
      'Return()',
    ]);
  });

  it('incoming from Telegram: caller ID first, then the route guard, then the PBX\'s incoming routing', () => {
    const text = generateDialplan(base);
    for (const [exten, target] of [['_[+0-9a-zA-Z].', '${EXTEN}'], ['s', 's']]) {
      assert.deepEqual(apps(text, 'tgpbx-from-telegram', exten!), [
        'NoOp(tgpbx: Telegram call on line ${TGPBX_LINE} to ${EXTEN})',
        'Gosub(tgpbx-hooks,callerid,1)',
        'Gosub(tgpbx-hooks,route-guard,1(in,tgpbx-line-${TGPBX_LINE}))',
        `Goto(from-trunk,${target},1)`,
      ]);
    }
  });

  it('outgoing to Telegram: the + rule, the route guard, then each line in order while unavailable', () => {
    const text = generateDialplan(twoLines);
    assert.deepEqual(apps(text, 'tgpbx-to-telegram', '_X.'), ['Goto(tgpbx-to-telegram,+${EXTEN},1)']);
    assert.deepEqual(apps(text, 'tgpbx-to-telegram', '_00X.'), ['Goto(tgpbx-to-telegram,+${EXTEN:2},1)']);
    const until = 'GotoIf($["${DIALSTATUS}" != "CHANUNAVAIL" & "${DIALSTATUS}" != "CONGESTION"]?done)';
    assert.deepEqual(apps(text, 'tgpbx-to-telegram', '_+X.'), [
      'NoOp(tgpbx: call to ${EXTEN} on Telegram)',
      'Gosub(tgpbx-hooks,route-guard,1(out,telegram))',
      'GotoIf($["${TGPBX_LINE}" != ""]?chosen)',
      'Dial(PJSIP/${EXTEN}@tgpbx-line-1,120)',
      until,
      'Dial(PJSIP/${EXTEN}@tgpbx-line-2,120)',
      until,
      'Hangup(34)',
      'Dial(PJSIP/${EXTEN}@tgpbx-line-${TGPBX_LINE},120)',
      'Hangup()',
    ]);
    assert.ok(extensionLines(text, 'tgpbx-to-telegram', '_+X.').some((l) => l.startsWith(' same => n(chosen),Dial(')));
    assert.ok(extensionLines(text, 'tgpbx-to-telegram', '_+X.').some((l) => l === ' same => n(done),Hangup()'));
  });

  it('outgoing to Telegram without a line: refused with cause 34, after the route guard', () => {
    const text = generateDialplan(base);
    assert.deepEqual(apps(text, 'tgpbx-to-telegram', '_+X.'), [
      'NoOp(tgpbx: call to ${EXTEN} on Telegram)',
      'Gosub(tgpbx-hooks,route-guard,1(out,telegram))',
      'NoOp(tgpbx: no Telegram line yet)',
      'Hangup(34)',
    ]);
    assert.doesNotMatch(text, /Dial\(/);
  });

  it('originate contexts: call-back rings the agent in the internal context, customers go through the route guard', () => {
    const text = generateDialplan(base);
    assert.deepEqual(apps(text, 'tgpbx-callback-agent', '_[+0-9a-zA-Z].'), ['NoOp(tgpbx: call-back, ringing ${EXTEN} first)', 'Goto(from-internal,${EXTEN},1)']);
    for (const [context, direction] of [['tgpbx-callback', 'callback'], ['tgpbx-campaign', 'campaign']]) {
      const steps = apps(text, context!, '_[+0-9].');
      assert.equal(steps[1], `Gosub(tgpbx-hooks,route-guard,1(${direction},\${TGPBX_VIA},\${TGPBX_CAMPAIGN}))`);
      assert.deepEqual(steps.slice(2), ['GotoIf($["${TGPBX_VIA}" = "telegram"]?telegram)', 'Goto(outgoing-routes,${EXTEN},1)', 'Goto(tgpbx-to-telegram,${EXTEN},1)']);
    }
  });

  it('names the FastAGI server the dialplan can reach', () => {
    assert.equal(fastAgiUrlFor('127.0.0.1', 4573), 'agi://127.0.0.1:4573');
    assert.equal(fastAgiUrlFor('0.0.0.0', 4573), 'agi://127.0.0.1:4573');
    assert.equal(fastAgiUrlFor('::', 4000), 'agi://127.0.0.1:4000');
    assert.equal(fastAgiUrlFor('10.0.0.5', 4573), 'agi://10.0.0.5:4573');
    assert.equal(fastAgiUrlFor('::1', 4573), 'agi://[::1]:4573');
    assert.match(generateDialplan({ ...base, fastAgiUrl: 'agi://127.0.0.1:39001' }), /AGI\(agi:\/\/127\.0\.0\.1:39001\/tg-callerid/);
  });
});

describe('PJSIP provider of a Telegram line', () => {
  const text = pjsipLineSnippet({ id: 3, phone: '+79990003344' });
  const section = (type: string) => text.split('\n\n').find((s) => s.includes(`type = ${type}`))!;

  it('is an IP-authenticated provider at 127.0.0.1:30000+id', () => {
    assert.match(section('aor'), /^\[tgpbx-line-3\]\ntype = aor\ncontact = sip:127\.0\.0\.1:30003\n/m);
    assert.match(section('identify'), /endpoint = tgpbx-line-3\nmatch = 127\.0\.0\.1:30003/);
    assert.match(section('endpoint'), /identify_by = ip/);
    assert.doesNotMatch(text, /^(auth|outbound_auth|password|username)\b/m);
    assert.equal(text.match(/^\[tgpbx-line-3\]$/gm)?.length, 3, 'endpoint, aor and identify share the name');
  });

  it('allows Opus, leaves from_user off, lands in tgpbx-from-telegram with TGPBX_LINE set', () => {
    const endpoint = section('endpoint');
    assert.match(endpoint, /^disallow = all\nallow = opus,alaw,ulaw$/m);
    assert.doesNotMatch(endpoint, /^from_user\b/m);
    assert.match(endpoint, /^context = tgpbx-from-telegram$/m);
    assert.match(endpoint, /^set_var = TGPBX_LINE=3$/m);
    assert.match(endpoint, /^aors = tgpbx-line-3$/m);
  });
});

describe('Telegram lines setting', () => {
  const table: [string, { id: number; phone: string }[], number][] = [
    ['', [], 0],
    ['1:+79990001122', [{ id: 1, phone: '+79990001122' }], 0],
    ['2: 79990002233, 1=+7 999 000-11-22', [{ id: 1, phone: '+79990001122' }, { id: 2, phone: '+79990002233' }], 0],
    ['1:+79990001122\n3:+12125550123;', [{ id: 1, phone: '+79990001122' }, { id: 3, phone: '+12125550123' }], 0],
    ['+79990001122', [], 1],
    ['0:+79990001122', [], 1],
    ['1:hello', [], 1],
    ['1:+79990001122, 1:+79990002233', [{ id: 1, phone: '+79990001122' }], 1],
  ];
  for (const [text, lines, problems] of table) {
    it(`${JSON.stringify(text)} -> ${lines.map((l) => l.id).join(',') || 'no line'}${problems ? `, ${problems} problem` : ''}`, () => {
      const parsed = parseTelegramLines(text);
      assert.deepEqual(parsed.lines, lines);
      assert.equal(parsed.problems.length, problems);
    });
  }
});

describe('MikoPBX hooks', () => {
  it('has a text for every hook module.json names, without the include\'s header comments', () => {
    const dialplan = generateDialplan(twoLines);
    const texts = mikopbxHookTexts(dialplan, twoLines.lines);
    for (const h of MIKOPBX_HOOKS) assert.ok(texts[h.hook]?.trim(), `${h.hook} has a text`);
    assert.match(texts.extensionGenContexts!, /^\[tgpbx-hooks\]/);
    assert.match(texts.generateIncomingRoutBeforeDial!, /^\tsame => n,Gosub\(tgpbx-hooks,callerid,1\)\n/);
    assert.match(texts.generatePeersPj!, /\[tgpbx-line-2\]/);
  });
});

describe('module.json names what the code does', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'module.json'), 'utf8')) as {
    tgpbx: { daemon: { environment: string[] }; agi: { scripts: { name: string; path: string }[] }; dialplan: { contexts: string[]; mikopbxHooks: { hook: string; returns: string }[] } };
  };

  it('lists every MikoPBX hook tgpbx answers, with what it returns', () => {
    assert.deepEqual(manifest.tgpbx.dialplan.mikopbxHooks, MIKOPBX_HOOKS.map((h) => ({ hook: h.hook, returns: h.returns })));
  });

  it('lists the contexts of the include and an executable script per AGI handler', () => {
    assert.deepEqual(manifest.tgpbx.dialplan.contexts, [...DIALPLAN_CONTEXTS]);
    assert.deepEqual(manifest.tgpbx.agi.scripts.map((s) => s.name), ['tg-callerid', 'route-guard']);
    for (const s of manifest.tgpbx.agi.scripts) assert.ok(fs.statSync(path.join(root, s.path)).mode & 0o111, `${s.path} is executable`);
  });

  it('lists every page of the sidebar', () => {
    const pages = JSON.stringify(manifest);
    for (const item of NAVIGATION.filter((n) => n.ready)) assert.ok(pages.includes(`"path":"${item.href}"`), `${item.href} is in module.json`);
  });

  it('names the variables of the dialplan hooks among the daemon\'s environment', () => {
    for (const v of ['TGPBX_FASTAGI_PORT', 'TGPBX_FASTAGI_HOST', 'TGPBX_DIALPLAN_PATH']) assert.ok(manifest.tgpbx.daemon.environment.includes(v), v);
  });
});
