/** How long to wait between attempts: doubling from `initialMs`, capped at `maxMs`. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/**
 * The delay before retry number `failures` (0 for the first retry): exponential with
 * "equal jitter" — half the delay fixed, half random — so many PBX modules restarted at
 * once do not hammer Asterisk or Telegram in step. `random` is injectable for tests.
 */
export function nextBackoff(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(failures, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
