/**
 * Pure helpers for the Asterisk Manager Interface (AMI) wire format.
 *
 * An AMI stream is a sequence of frames ("packets"): `Key: Value` lines ended by CRLF, the frame
 * ended by an empty line. Keys may repeat (`Variable`, `ChanVariable`, `Output`), so a frame is an
 * ordered list of pairs. On connect Asterisk first sends a one-line banner
 * `Asterisk Call Manager/<AMI version>` that is not followed by an empty line; the parsers skip it.
 */
import { StringDecoder } from 'node:string_decoder';

/** One `Key: Value` line of a frame, key in its original case. */
export type AmiPair = [key: string, value: string];

/** Fields given either as an object (insertion order kept) or as ordered pairs (keys may repeat). */
export type AmiFieldsInput = Readonly<Record<string, string>> | readonly (readonly [string, string])[];

/** One parsed AMI frame: an action, a response or an event. */
export interface AmiFrame {
  /** The lines in wire order, keys in their original case, repeated keys kept. */
  readonly pairs: readonly AmiPair[];
  /** The first value of each key, keyed by the LOWER-CASED key (`fields.actionid`). */
  readonly fields: Readonly<Record<string, string>>;
}

/** The banner Asterisk sends first on every connection, e.g. `Asterisk Call Manager/9.0.0`. */
export const AMI_BANNER_RE = /^Asterisk Call Manager\/\S+$/;

/** Builds an {@link AmiFrame} from ordered pairs or a fields object. */
export function makeAmiFrame(input: AmiFieldsInput): AmiFrame {
  const pairs: AmiPair[] = toPairs(input);
  const fields: Record<string, string> = {};
  for (const [key, value] of pairs) {
    const lower = key.toLowerCase();
    if (!Object.hasOwn(fields, lower)) fields[lower] = value;
  }
  return { pairs, fields };
}

/** Normalises {@link AmiFieldsInput} to a fresh array of pairs. */
export function toPairs(input: AmiFieldsInput): AmiPair[] {
  if (Array.isArray(input)) return input.map(([k, v]): AmiPair => [k, v]);
  return Object.entries(input as Record<string, string>);
}

/** The first value of `key` (case-insensitive), or undefined. */
export function getField(frame: AmiFrame, key: string): string | undefined {
  const lower = key.toLowerCase();
  return frame.pairs.find(([k]) => k.toLowerCase() === lower)?.[1];
}

/** Every value of `key` (case-insensitive), in wire order; e.g. all `Variable` lines. */
export function getFields(frame: AmiFrame, key: string): string[] {
  const lower = key.toLowerCase();
  return frame.pairs.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/**
 * What a frame is, from its FIRST key: `Event` -> 'event' (note `OriginateResponse` events also
 * carry a `Response:` key, so looking for the key anywhere would misclassify them),
 * `Response` -> 'response', `Action` -> 'action', anything else -> 'unknown'.
 */
export function frameKind(frame: AmiFrame): 'event' | 'response' | 'action' | 'unknown' {
  const first = frame.pairs[0]?.[0].toLowerCase();
  if (first === 'event') return 'event';
  if (first === 'response') return 'response';
  if (first === 'action') return 'action';
  return 'unknown';
}

/**
 * Serialises pairs as an AMI frame: `Key: Value\r\n` per pair and a final `\r\n`.
 * Values are written verbatim (Asterisk itself sometimes puts a bare `\n` inside a value).
 */
export function serializeAmiFrame(input: AmiFieldsInput): string {
  return toPairs(input).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

/**
 * Splits one line into a pair at the FIRST colon; one following space is dropped (Asterisk writes
 * `Key: Value`, and values may themselves contain `: `). Returns undefined for a line with no colon.
 */
export function parseAmiLine(line: string): AmiPair | undefined {
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  const value = line.slice(colon + 1);
  return [line.slice(0, colon), value.startsWith(' ') ? value.slice(1) : value];
}

/**
 * Incremental frame splitter: feed it chunks (strings or Buffers split at any byte boundary, even
 * inside a multi-byte UTF-8 character) and get every frame completed so far.
 * Lines end with CRLF; a bare LF is accepted too, as Asterisk's own reader does. The banner line is
 * skipped; lines without a colon are ignored; empty lines outside a frame are ignored.
 */
export class AmiFrameSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private pairs: AmiPair[] = [];

  /** Adds a chunk and returns the frames it completed, in order. */
  push(chunk: string | Uint8Array): AmiFrame[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const frames: AmiFrame[] = [];
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      if (line === '') {
        if (this.pairs.length > 0) frames.push(makeAmiFrame(this.pairs));
        this.pairs = [];
      } else if (!(this.pairs.length === 0 && AMI_BANNER_RE.test(line))) {
        const pair = parseAmiLine(line);
        if (pair) this.pairs.push(pair);
      }
    }
    return frames;
  }

  /** True when a frame or a line has started but is not complete yet. */
  get hasPartial(): boolean {
    return this.pairs.length > 0 || this.buffer.length > 0;
  }
}

/**
 * Parses a whole AMI stream (e.g. a recorded `.ami` fixture) into its complete frames.
 * A trailing frame that is not ended by an empty line is incomplete and is not returned.
 */
export function parseAmiFrames(text: string): AmiFrame[] {
  return new AmiFrameSplitter().push(text);
}
