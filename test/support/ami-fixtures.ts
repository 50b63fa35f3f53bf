import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { amiEventFromLibrary, type AmiEvent, type RawFields } from '../../src/pbx/ami.js';
import { frameKind, parseAmiFrames } from './ami-frames.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Recordings from a real Asterisk 20 (test/fixtures/ami) and streams written from the AMI docs (ami-synthetic). */
export const AMI_FIXTURES = path.resolve(here, '../fixtures/ami');
export const AMI_SYNTHETIC = path.resolve(here, '../fixtures/ami-synthetic');

/**
 * Reads a recorded AMI stream into events exactly as AmiClient emits them: each frame is
 * shaped the way asterisk-manager parses it (lower-cased keys, repeated keys as arrays,
 * Variable/ChanVariable split at '=') and converted by the same function AmiClient uses.
 */
export function loadAmiEvents(file: string): AmiEvent[] {
  const full = path.isAbsolute(file) ? file : path.join(AMI_FIXTURES, file);
  return parseAmiFrames(fs.readFileSync(full, 'utf8'))
    .filter((f) => frameKind(f) === 'event')
    .map((f) => {
      const raw: Record<string, string | string[] | Record<string, string>> = {};
      for (const [key, value] of f.pairs) {
        const k = key.replace(/ /g, '').toLowerCase();
        if (k === 'chanvariable' || k === 'variable') {
          const vars = (typeof raw[k] === 'object' && !Array.isArray(raw[k]) ? raw[k] : {}) as Record<string, string>;
          const [name, ...rest] = value.split('=');
          vars[name!] = rest.join('=');
          raw[k] = vars;
        } else if (k in raw) {
          const prev = raw[k];
          raw[k] = Array.isArray(prev) ? [...prev, value] : [prev as string, value];
        } else raw[k] = value;
      }
      return amiEventFromLibrary(raw as RawFields);
    });
}
