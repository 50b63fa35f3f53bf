import assert from 'node:assert/strict';
import { SendRateLimiter, isGroupChat } from '../../src/telegram/send-rate-limiter.js';

const limits = { globalPerSecond: 30, privateChatPerSecond: 1, groupPerMinute: 20 };

describe('Telegram send rate limiter', () => {
  it('lets the first message to a chat go at once', () => {
    assert.equal(new SendRateLimiter(limits).availableAt('42', 1000), 1000);
  });

  it('spaces messages to one private chat by a second plus the safety margin', () => {
    const l = new SendRateLimiter(limits, 1.05);
    l.record('42', 1000);
    assert.equal(l.availableAt('42', 1001), 2050);
    assert.equal(l.availableAt('43', 1001), 1001, 'another chat is not held back');
  });

  it('allows 20 messages a minute to a group, the 21st waits for the window', () => {
    const l = new SendRateLimiter(limits, 1);
    for (let i = 0; i < 20; i++) {
      assert.equal(l.availableAt('-100', i * 100), i * 100);
      l.record('-100', i * 100);
    }
    assert.equal(l.availableAt('-100', 2000), 60_000);
  });

  it('holds the 31st message of a second, whatever the chats', () => {
    const l = new SendRateLimiter(limits, 1);
    for (let i = 0; i < 30; i++) l.record(String(1000 + i), 500);
    assert.equal(l.availableAt('5', 600), 1500);
    assert.equal(l.availableAt('5', 1500), 1500);
  });

  it('applies changed limits at once', () => {
    const l = new SendRateLimiter(limits, 1);
    l.record('42', 0);
    l.setLimits({ ...limits, privateChatPerSecond: 10 });
    assert.equal(l.availableAt('42', 1), 1);
  });

  it('tells groups and channels (negative ids) from private chats', () => {
    assert.equal(isGroupChat('-1001234'), true);
    assert.equal(isGroupChat('-42'), true);
    assert.equal(isGroupChat('42'), false);
  });
});
