import { parseDeckCsv, type RejectedLine } from './deck-csv.js';
import type { DeckChange, DeckKind, RateDeckStore } from './rate-decks.js';

/** How many rejected lines an import result lists (the total is given as well). */
export const REJECTED_SHOWN = 100;

/** A rejected line's text is cut to this many characters in results. */
const REJECTED_TEXT_CHARS = 200;

/**
 * Whether to store the good lines of a file that also has rejected lines: `false` (the
 * default) refuses the whole file; `true` stores them; a number stores them only when the
 * file still has exactly that many good lines (the page's checkbox carries the count it
 * showed, so a file edited since cannot be stored by a stale tick; -1 never matches).
 */
export type PartialImport = boolean | number;

interface ImportBase {
  peer: string;
  kind: DeckKind;
  /** Good lines in the file. */
  accepted: number;
  /** The first REJECTED_SHOWN rejected lines (text cut to 200 characters). */
  rejected: RejectedLine[];
  rejectedTotal: number;
  /** What storing the good lines does (or would do) to the deck. */
  change: DeckChange;
}

export type DeckImportResult =
  | (ImportBase & { stored: true; version: number; partial: boolean })
  | (ImportBase & {
      stored: false;
      /** no_lines: nothing to import; rejected_lines: the file has rejected lines and partial was not asked for; not_confirmed: partial was confirmed for another file or deck. */
      why: 'no_lines' | 'rejected_lines' | 'not_confirmed';
    });

/**
 * A deck import, all or nothing by default: a file with any rejected line leaves the deck
 * as it was (a typo in one of 60 000 lines, or columns in the wrong order, must not shrink
 * a carrier's deck to its good lines); only an explicit `partial` stores the good lines
 * anyway. Either way the result tells what the import changes (or would change).
 */
export async function importDeck(decks: RateDeckStore, input: { peer: string; kind: DeckKind; csv: string; partial: PartialImport; timeZone: string }): Promise<DeckImportResult> {
  const parsed = parseDeckCsv(input.csv, input.timeZone);
  const base = {
    peer: input.peer,
    kind: input.kind,
    accepted: parsed.rates.length,
    rejected: parsed.rejected.slice(0, REJECTED_SHOWN).map((r) => ({ ...r, text: r.text.length > REJECTED_TEXT_CHARS ? `${r.text.slice(0, REJECTED_TEXT_CHARS)}…` : r.text })),
    rejectedTotal: parsed.rejected.length,
  };
  const refuse = async (why: 'no_lines' | 'rejected_lines' | 'not_confirmed'): Promise<DeckImportResult> => ({ ...base, change: await decks.preview(input.peer, input.kind, parsed.rates), stored: false, why });
  if (!parsed.rates.length) return refuse('no_lines');
  const partial = parsed.rejected.length > 0;
  if (partial) {
    if (input.partial === false) return refuse('rejected_lines');
    if (typeof input.partial === 'number' && input.partial !== parsed.rates.length) return refuse('not_confirmed');
  }
  const { version, change } = await decks.replace(input.peer, input.kind, parsed.rates);
  return { ...base, change, stored: true, version, partial };
}

/** "1 rate", "5 rates". */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * What an import does to a deck, in words: "replaced 6 rates with 5 (2 new, 1 changed,
 * 2 unchanged, 3 removed)" (past), "would replace …" (conditional), "replaces …"
 * (present); "created the deck with 5 rates" when there was none.
 */
export function changeText(c: DeckChange, tense: 'past' | 'conditional' | 'present'): string {
  const verb = (base: string) => (tense === 'past' ? `${base}d` : tense === 'conditional' ? `would ${base}` : `${base}s`);
  if (c.before === 0) return `${verb('create')} the deck with ${countOf(c.after, 'rate')}`;
  const parts = [c.added && `${c.added} new`, c.changed && `${c.changed} changed`, c.unchanged && `${c.unchanged} unchanged`, c.removed && `${c.removed} removed`].filter(Boolean);
  return `${verb('replace')} ${countOf(c.before, 'rate')} with ${c.after}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
