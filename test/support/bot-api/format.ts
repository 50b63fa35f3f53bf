/**
 * Text formatting as Telegram applies it to message texts and captions:
 * parse_mode (HTML, MarkdownV2, Markdown) turned into plain text + entities,
 * with tdlib's error wording, then whitespace trimming and the automatic
 * entities (bot_command, mention, url) Telegram adds to every message.
 */
import type { MessageEntity } from 'grammy/types';
import { ApiError, badRequest } from './errors.js';

/** Plain text plus entities, as stored in a Message. */
export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

type EntityType = MessageEntity['type'];

const parseError = (what: string): ApiError => badRequest(`can't parse entities: ${what}`);
const byteOffset = (src: string, index: number): number => Buffer.byteLength(src.slice(0, index), 'utf8');

/**
 * Applies `parse_mode` (case-insensitive; empty means none) or explicit entities,
 * then trims and adds automatic entities. Throws ApiError with Telegram's wording.
 */
export function formatText(raw: string, parseMode: string | undefined, explicit?: MessageEntity[]): FormattedText {
  const mode = (parseMode ?? '').toLowerCase();
  let parsed: FormattedText;
  if (mode === '') parsed = { text: raw, entities: explicit ?? [] };
  else if (mode === 'html') parsed = parseHtml(raw);
  else if (mode === 'markdownv2') parsed = parseMarkdownV2(raw);
  else if (mode === 'markdown') parsed = parseMarkdown(raw);
  else throw badRequest('unsupported parse_mode');
  return withAutoEntities(trim(parsed));
}

/** Entities Telegram detects by itself in any text. */
export function withAutoEntities({ text, entities }: FormattedText): FormattedText {
  const opaque = entities.filter((e) => ['code', 'pre', 'text_link', 'url', 'bot_command', 'mention'].includes(e.type));
  const free = (offset: number, length: number): boolean =>
    opaque.every((e) => offset + length <= e.offset || offset >= e.offset + e.length);
  const found: MessageEntity[] = [];
  const detect = (re: RegExp, type: 'bot_command' | 'mention' | 'url', trimEnd?: RegExp): void => {
    for (const m of text.matchAll(re)) {
      let value = m[0];
      if (trimEnd) value = value.replace(trimEnd, '');
      if (m.index !== undefined && value.length > 0 && free(m.index, value.length)) {
        found.push({ type, offset: m.index, length: value.length });
      }
    }
  };
  detect(/(?<![\p{L}\p{N}_/<>])\/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\p{L}\p{N}_/<>])/gu, 'bot_command');
  detect(/(?<![\p{L}\p{N}_])@[a-zA-Z0-9_]{5,32}(?![\p{L}\p{N}_])/gu, 'mention');
  detect(/\bhttps?:\/\/[^\s<>"]+/gu, 'url', /[.,;:!?)\]]+$/u);
  return { text, entities: sortEntities([...entities, ...found]) };
}

function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
}

/** Telegram strips leading and trailing whitespace from texts; entities follow. */
function trim({ text, entities }: FormattedText): FormattedText {
  const lead = text.length - text.trimStart().length;
  const out = text.trim();
  const clipped = entities.flatMap((e) => {
    const start = Math.max(0, e.offset - lead);
    const end = Math.min(out.length, e.offset + e.length - lead);
    return end > start ? [{ ...e, offset: start, length: end - start }] : [];
  });
  return { text: out, entities: clipped };
}

// ---------------------------------------------------------------- HTML

const HTML_TAGS: Record<string, EntityType> = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough',
  'tg-spoiler': 'spoiler', span: 'spoiler', a: 'text_link', code: 'code', pre: 'pre',
  blockquote: 'blockquote', 'tg-emoji': 'custom_emoji',
};

interface HtmlFrame {
  tag: string;
  offset: number;
  attrs: Map<string, string>;
  language?: string;
}

const HTML_ENTITY = /^&(?:(lt|gt|amp|quot)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

function decodeHtmlEntity(src: string, i: number): { value: string; length: number } {
  const m = HTML_ENTITY.exec(src.slice(i, i + 12));
  if (!m) return { value: '&', length: 1 };
  if (m[1]) return { value: NAMED[m[1]] ?? '', length: m[0].length };
  const code = m[2] ? Number(m[2]) : parseInt(m[3] ?? '0', 16);
  return { value: code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '', length: m[0].length };
}

function parseHtml(src: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: HtmlFrame[] = [];
  const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '&') {
      const { value, length } = decodeHtmlEntity(src, i);
      text += value;
      i += length;
      continue;
    }
    if (c !== '<') {
      text += c;
      i += 1;
      continue;
    }
    const at = byteOffset(src, i);
    if (src[i + 1] === '/') {
      const open = stack.pop();
      if (!open) throw parseError(`Unexpected end tag at byte offset ${at}`);
      let j = i + 2;
      while (j < src.length && !isSpace(src[j]) && src[j] !== '>') j += 1;
      const name = src.slice(i + 2, j).toLowerCase();
      while (isSpace(src[j])) j += 1;
      if (src[j] !== '>') throw parseError(`Unclosed end tag at byte offset ${at}`);
      if (name !== '' && name !== open.tag) {
        throw parseError(`Unmatched end tag at byte offset ${at}, expected "</${open.tag}>", found "</${name}>"`);
      }
      closeHtml(open, text.length, stack, entities);
      i = j + 1;
      continue;
    }
    let j = i + 1;
    while (j < src.length && !isSpace(src[j]) && src[j] !== '>') j += 1;
    const tag = src.slice(i + 1, j).toLowerCase();
    if (j >= src.length) throw parseError(`Unclosed start tag at byte offset ${at}`);
    if (!(tag in HTML_TAGS)) throw parseError(`Unsupported start tag "${tag}" at byte offset ${at}`);
    const attrs = new Map<string, string>();
    for (;;) {
      while (isSpace(src[j])) j += 1;
      if (j >= src.length) throw parseError(`Unclosed start tag "${tag}" at byte offset ${at}`);
      if (src[j] === '>') break;
      const nameStart = j;
      while (j < src.length && !isSpace(src[j]) && src[j] !== '=' && src[j] !== '>') j += 1;
      const attr = src.slice(nameStart, j).toLowerCase();
      if (attr === '') throw parseError(`Empty attribute name in the tag "${tag}" at byte offset ${at}`);
      while (isSpace(src[j])) j += 1;
      if (src[j] !== '=') {
        attrs.set(attr, '');
        continue;
      }
      j += 1;
      while (isSpace(src[j])) j += 1;
      const quote = src[j];
      let value: string;
      if (quote === '"' || quote === "'") {
        const close = src.indexOf(quote, j + 1);
        if (close < 0) throw parseError(`Unclosed start tag at byte offset ${at}`);
        value = src.slice(j + 1, close).replace(/&[^;\s]{1,10};/g, (e) => decodeHtmlEntity(e, 0).value);
        j = close + 1;
      } else {
        const valueStart = j;
        while (j < src.length && !isSpace(src[j]) && src[j] !== '>') j += 1;
        value = src.slice(valueStart, j);
      }
      attrs.set(attr, value);
    }
    if (tag === 'span' && attrs.get('class') !== 'tg-spoiler') {
      throw parseError(`Tag "span" must have class "tg-spoiler" at byte offset ${at}`);
    }
    stack.push({ tag, offset: text.length, attrs });
    i = j + 1;
  }
  const unclosed = stack.at(-1);
  if (unclosed) throw parseError(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  return { text, entities };
}

function closeHtml(frame: HtmlFrame, end: number, stack: HtmlFrame[], out: MessageEntity[]): void {
  const length = end - frame.offset;
  const parent = stack.at(-1);
  const language = /^language-(.+)$/.exec(frame.attrs.get('class') ?? '')?.[1];
  if (frame.tag === 'code' && parent?.tag === 'pre' && language) {
    parent.language = language;
    return;
  }
  if (length <= 0) return;
  const base = { offset: frame.offset, length };
  switch (frame.tag) {
    case 'a': {
      const url = frame.attrs.get('href');
      if (url) out.push({ type: 'text_link', url, ...base });
      return;
    }
    case 'pre':
      out.push(frame.language ? { type: 'pre', language: frame.language, ...base } : { type: 'pre', ...base });
      return;
    case 'blockquote':
      out.push({ type: frame.attrs.has('expandable') ? 'expandable_blockquote' : 'blockquote', ...base });
      return;
    case 'tg-emoji': {
      const id = frame.attrs.get('emoji-id');
      if (id) out.push({ type: 'custom_emoji', custom_emoji_id: id, ...base });
      return;
    }
    default:
      out.push({ type: HTML_TAGS[frame.tag] as 'bold', ...base });
  }
}

// ---------------------------------------------------------------- MarkdownV2

const RESERVED_V2 = '_*[]()~`>#+-=|{}.!';
const TD_NAMES: Record<string, string> = {
  bold: 'Bold', italic: 'Italic', underline: 'Underline', strikethrough: 'Strikethrough',
  spoiler: 'Spoiler', code: 'Code', pre: 'Pre', text_link: 'TextUrl',
};

interface MdFrame {
  kind: 'bold' | 'italic' | 'underline' | 'strikethrough' | 'spoiler' | 'code' | 'pre' | 'text_link';
  offset: number;
  at: number;
  language?: string;
}

function parseMarkdownV2(src: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: MdFrame[] = [];
  let quoteStart: number | undefined;
  const close = (frame: MdFrame, extra: Partial<MessageEntity> = {}): void => {
    stack.pop();
    const length = text.length - frame.offset;
    if (length <= 0) return;
    if (frame.kind === 'pre' && frame.language) {
      entities.push({ type: 'pre', offset: frame.offset, length, language: frame.language });
    } else if (frame.kind !== 'text_link') {
      entities.push({ type: frame.kind, offset: frame.offset, length });
    } else if ('url' in extra && extra.url) {
      entities.push({ type: 'text_link', offset: frame.offset, length, url: extra.url });
    }
  };
  const open = (kind: MdFrame['kind'], i: number): void => {
    stack.push({ kind, offset: text.length, at: byteOffset(src, i) });
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    const next = src.charCodeAt(i + 1);
    if (c === '\\' && next > 0 && next <= 126) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    const top = stack.at(-1);
    if (top?.kind === 'code' || top?.kind === 'pre') {
      if (top.kind === 'code' && c === '`') {
        close(top);
        i += 1;
      } else if (top.kind === 'pre' && src.startsWith('```', i)) {
        close(top);
        i += 3;
      } else {
        text += c;
        i += 1;
      }
      continue;
    }
    if (c === '\n' && quoteStart !== undefined && src[i + 1] !== '>') {
      entities.push({ type: 'blockquote', offset: quoteStart, length: text.length - quoteStart });
      quoteStart = undefined;
    }
    if (!RESERVED_V2.includes(c)) {
      text += c;
      i += 1;
      continue;
    }
    if (top?.kind === 'bold' && c === '*') { close(top); i += 1; continue; }
    if (top?.kind === 'underline' && src.startsWith('__', i)) { close(top); i += 2; continue; }
    if (top?.kind === 'italic' && c === '_') { close(top); i += 1; continue; }
    if (top?.kind === 'strikethrough' && c === '~') { close(top); i += 1; continue; }
    if (top?.kind === 'spoiler' && src.startsWith('||', i)) { close(top); i += 2; continue; }
    if (top?.kind === 'text_link' && c === ']') {
      i += 1;
      let url = '';
      if (src[i] === '(') {
        const urlAt = byteOffset(src, i + 1);
        i += 1;
        while (i < src.length && src[i] !== ')') {
          if (src[i] === '\\' && i + 1 < src.length) i += 1;
          url += src[i];
          i += 1;
        }
        if (i >= src.length) throw parseError(`Can't find end of a URL at byte offset ${urlAt}`);
        i += 1;
      }
      close(top, { url });
      continue;
    }
    if (c === '*') { open('bold', i); i += 1; continue; }
    if (c === '_') {
      if (src[i + 1] === '_') { open('underline', i); i += 2; } else { open('italic', i); i += 1; }
      continue;
    }
    if (c === '~') { open('strikethrough', i); i += 1; continue; }
    if (c === '|' && src[i + 1] === '|') { open('spoiler', i); i += 2; continue; }
    if (c === '[') { open('text_link', i); i += 1; continue; }
    if (c === '`') {
      if (src.startsWith('```', i)) {
        open('pre', i);
        i += 3;
        const eol = src.indexOf('\n', i);
        const lang = eol >= 0 ? src.slice(i, eol) : '';
        if (eol >= 0 && /^[^\s`]+$/.test(lang)) {
          (stack.at(-1) as MdFrame).language = lang;
          i = eol + 1;
        }
      } else {
        open('code', i);
        i += 1;
      }
      continue;
    }
    if (c === '>' && (i === 0 || src[i - 1] === '\n')) {
      quoteStart ??= text.length;
      i += 1;
      continue;
    }
    throw parseError(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
  }
  const unclosed = stack.at(-1);
  if (unclosed) throw parseError(`Can't find end of ${TD_NAMES[unclosed.kind]} entity at byte offset ${unclosed.at}`);
  if (quoteStart !== undefined && text.length > quoteStart) {
    entities.push({ type: 'blockquote', offset: quoteStart, length: text.length - quoteStart });
  }
  return { text, entities: sortEntities(entities) };
}

// ---------------------------------------------------------------- Markdown (legacy)

function parseMarkdown(src: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '\\' && '_*`['.includes(src[i + 1] ?? ' ')) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (!'_*`['.includes(c)) {
      text += c;
      i += 1;
      continue;
    }
    const at = byteOffset(src, i);
    const fence = c === '`' && src.startsWith('```', i) ? '```' : c === '[' ? ']' : c;
    const start = i + (fence === '```' ? 3 : 1);
    const end = src.indexOf(fence, start);
    if (end < 0) throw parseError(`Can't find end of the entity starting at byte offset ${at}`);
    const content = src.slice(start, end);
    const offset = text.length;
    text += content;
    i = end + fence.length;
    if (content.length === 0) continue;
    const base = { offset, length: content.length };
    if (fence === '```') entities.push({ type: 'pre', ...base });
    else if (c === '`') entities.push({ type: 'code', ...base });
    else if (c === '*') entities.push({ type: 'bold', ...base });
    else if (c === '_') entities.push({ type: 'italic', ...base });
    else if (src[i] === '(') {
      const close = src.indexOf(')', i);
      if (close < 0) throw parseError(`Can't find end of the entity starting at byte offset ${at}`);
      const url = src.slice(i + 1, close);
      if (url) entities.push({ type: 'text_link', url, ...base });
      i = close + 1;
    }
  }
  return { text, entities };
}
