import assert from 'node:assert/strict';
import { SecretScrubber, mask } from '../../src/log/secret-scrubber.js';

describe('secret scrubber', () => {
  it('masks anything shaped like a bot token, even inside a URL', () => {
    const s = new SecretScrubber();
    const out = s.scrub('GET https://api.telegram.org/bot123456789:XYZdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe failed');
    assert.doesNotMatch(out, /XYZdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/);
    assert.match(out, /<bot-token ••••Dsaw>/);
  });

  it('masks registered secrets, plain and URL-encoded, and forgets removed ones', () => {
    const s = new SecretScrubber();
    s.add('p@ss w0rd!');
    assert.equal(s.scrub('login p@ss w0rd! or p%40ss%20w0rd!'), 'login <secret> or <secret>');
    s.remove('p@ss w0rd!');
    assert.equal(s.scrub('p@ss w0rd!'), 'p@ss w0rd!');
  });

  it('ignores values too short to be secrets', () => {
    const s = new SecretScrubber();
    s.add('abc');
    assert.equal(s.scrub('abc'), 'abc');
  });

  it('shows the last four characters only', () => {
    assert.equal(mask('123456:ABCDEFGH'), '••••EFGH');
    assert.equal(mask(''), '');
  });
});
