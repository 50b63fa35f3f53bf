/** Something keyed by a digit prefix that takes effect at a moment (ms since the epoch). */
export interface PrefixEntry {
  readonly prefix: string;
  readonly effectiveFrom: number;
}

/**
 * Longest-prefix match over digits, built once from a deck's rates and then only read.
 * A prefix may carry several entries with different effective dates; a lookup at time `t`
 * considers only entries already in effect at `t` (effectiveFrom <= t) and, among those,
 * takes the longest prefix and its latest entry. A prefix whose only entries start later
 * does not shadow a shorter one in effect now.
 *
 * Nodes live in flat typed arrays (10 children per node), so 60 000 prefixes cost a few
 * megabytes and a lookup is one array read per digit.
 */
export class PrefixTrie<T extends PrefixEntry> {
  private children: Int32Array;
  /** Entries per node, sorted by effectiveFrom ascending. */
  private readonly entries: (T[] | undefined)[] = [undefined];
  private nodes = 1;
  readonly size: number;

  constructor(items: Iterable<T>) {
    this.children = new Int32Array(10 * 1024);
    let size = 0;
    for (const item of items) {
      this.insert(item);
      size++;
    }
    for (const list of this.entries) list?.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
    this.size = size;
  }

  private insert(item: T): void {
    let node = 0;
    for (let i = 0; i < item.prefix.length; i++) {
      const digit = item.prefix.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) throw new Error(`prefix ${item.prefix} has a non-digit`);
      const slot = node * 10 + digit;
      let child = this.children[slot]!;
      if (child === 0) {
        child = this.nodes++;
        if (child * 10 + 10 > this.children.length) {
          const grown = new Int32Array(this.children.length * 2);
          grown.set(this.children);
          this.children = grown;
        }
        this.children[slot] = child;
        this.entries.push(undefined);
      }
      node = child;
    }
    (this.entries[node] ??= []).push(item);
  }

  /** The entry for `digits` at time `at`: longest prefix in effect, its latest entry; undefined when none matches. */
  match(digits: string, at: number): T | undefined {
    let node = 0;
    let best = this.inEffect(0, at);
    for (let i = 0; i < digits.length; i++) {
      const digit = digits.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      node = this.children[node * 10 + digit]!;
      if (node === 0) break;
      best = this.inEffect(node, at) ?? best;
    }
    return best;
  }

  private inEffect(node: number, at: number): T | undefined {
    const list = this.entries[node];
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.effectiveFrom <= at) return list[i];
    return undefined;
  }
}
