/**
 * A realistic AMI event stream of many calls, made from the recordings of a real Asterisk:
 * each call copies one recorded call (missed, answered, ring group, queue, busy,
 * cancelled, internal) with fresh Uniqueids, Linkedids and channel names, so every copy
 * is a call of its own. Generated on the fly: a million calls never sit in memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { frameKind, parseAmiFrames, type AmiPair } from '../test/support/ami-frames.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The mix: ring groups and queues weigh as much as plain calls. */
const MIX = ['missed-call', 'answered-call', 'ringgroup-missed', 'queue-answered', 'queue-missed', 'busy', 'cancelled-call', 'internal-missed'];
/** The Telegram caller's number in every recording. */
const RECORDED_CALLER = '+79990001122';
const ID_KEYS = new Set(['uniqueid', 'linkedid', 'destuniqueid', 'destlinkedid']);
const CHANNEL_KEYS = new Set(['channel', 'destchannel', 'destinationchannel']);

interface Template {
  frames: AmiPair[][];
  /** Index of the frame that is the call's last Hangup. */
  lastHangup: number;
}

function loadTemplate(name: string): Template {
  const frames = parseAmiFrames(fs.readFileSync(path.join(here, `../test/fixtures/ami/${name}.ami`), 'utf8'))
    .filter((f) => frameKind(f) === 'event' && f.fields.event !== 'FullyBooted' && f.fields.event !== 'SuccessfulAuth')
    .map((f) => [...f.pairs]);
  let lastHangup = -1;
  frames.forEach((f, i) => {
    if (f.some(([k, v]) => k === 'Event' && v === 'Hangup')) lastHangup = i;
  });
  return { frames, lastHangup };
}

/** Generates calls one at a time as AMI bytes. */
export class CallStream {
  private readonly templates: Template[];
  private n = 0;

  /**
   * `mix`: which recordings to copy (default: the realistic mix); `uniqueCallers`: give
   * each copy its own caller number (+7999 followed by the call's number), so a notice can
   * be matched to its call.
   */
  constructor(private readonly opts: { mix?: string[]; uniqueCallers?: boolean } = {}) {
    this.templates = (opts.mix ?? MIX).map(loadTemplate);
  }

  /** Events per call, averaged over the mix. */
  get eventsPerCall(): number {
    return this.templates.reduce((s, t) => s + t.frames.length, 0) / this.templates.length;
  }

  /** The next call: its bytes, its event count, and the byte offset just after its last Hangup frame. */
  next(): { text: string; events: number; lastHangupEnd: number; linkedid: string; caller: string } {
    const t = this.templates[this.n % this.templates.length]!;
    const k = ++this.n;
    const ids = new Map<string, string>();
    const channels = new Map<string, string>();
    let text = '';
    let lastHangupEnd = 0;
    let linkedid = '';
    const caller = this.opts.uniqueCallers ? `+7999${String(k).padStart(7, '0')}` : RECORDED_CALLER;
    t.frames.forEach((pairs, i) => {
      for (const [key, value] of pairs) {
        const lower = key.toLowerCase();
        let v = this.opts.uniqueCallers && value.includes(RECORDED_CALLER) ? value.split(RECORDED_CALLER).join(caller) : value;
        if (ID_KEYS.has(lower) && value) {
          if (!ids.has(value)) ids.set(value, `${2000000000 + k}.${ids.size}`);
          v = ids.get(value)!;
          if (lower === 'linkedid') linkedid = v;
        } else if (CHANNEL_KEYS.has(lower) && value) {
          if (!channels.has(value)) channels.set(value, value.replace(/-[0-9a-f]{8}(;\d)?$/, (_m, half: string | undefined) => `-${(k * 16 + channels.size).toString(16).padStart(8, '0')}${half ?? ''}`));
          v = channels.get(value)!;
        }
        text += `${key}: ${v}\r\n`;
      }
      text += '\r\n';
      if (i === t.lastHangup) lastHangupEnd = text.length;
    });
    return { text, events: t.frames.length, lastHangupEnd, linkedid, caller };
  }
}
