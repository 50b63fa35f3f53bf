/**
 * Request decoding for the Bot API emulator: the four ways Telegram accepts
 * parameters (query string, JSON, urlencoded, multipart/form-data).
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest } from './errors.js';

/** A file part of a multipart request. */
export interface UploadedFile {
  filename: string;
  contentType: string | undefined;
  data: Buffer;
}

/** Largest request body read into memory; past it the request answers 413. */
export const MAX_BODY_BYTES = 51 * 1024 * 1024;

/** Reads the whole request body; bytes past `cap` are drained, not kept. */
export function readBody(req: IncomingMessage, cap = MAX_BODY_BYTES): Promise<{ data: Buffer; overflow: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) overflow = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ data: overflow ? Buffer.alloc(0) : Buffer.concat(chunks), overflow }));
    req.on('error', reject);
  });
}

/** Decoded request parameters with the coercions Telegram applies. */
export class Params {
  constructor(
    private readonly values: Record<string, unknown>,
    private readonly files: ReadonlyMap<string, UploadedFile> = new Map(),
  ) {}

  /** True when the parameter was sent (even if empty). */
  has(name: string): boolean {
    return this.values[name] !== undefined && this.values[name] !== null;
  }

  /** A string parameter; numbers and booleans are turned into strings. */
  string(name: string): string | undefined {
    const v = this.values[name];
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return undefined;
  }

  /** An integer parameter; undefined when absent or not an integer. */
  int(name: string): number | undefined {
    const v = this.values[name];
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
    return undefined;
  }

  /** A boolean parameter (true, "true", 1 or "1"). */
  bool(name: string): boolean {
    const v = this.values[name];
    return v === true || v === 1 || v === 'true' || v === '1';
  }

  /** A JSON-serialized parameter: an object in a JSON body, a string elsewhere. */
  json<T>(name: string, onError: () => ApiError): T | undefined {
    const v = this.values[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return v as T;
    try {
      return JSON.parse(v) as T;
    } catch {
      throw onError();
    }
  }

  /**
   * An InputFile parameter: an uploaded part (sent under this name or referenced
   * as `attach://<part>`), or a string (file_id or URL).
   */
  upload(name: string): UploadedFile | string | undefined {
    const direct = this.files.get(name);
    if (direct) return direct;
    const v = this.string(name);
    if (v === undefined || v === '') return undefined;
    const attach = /^attach:\/\/(.+)$/.exec(v);
    if (!attach) return v;
    const part = this.files.get(attach[1] ?? '');
    if (!part) throw badRequest(`wrong HTTP URL specified`);
    return part;
  }

  /** The parameters for logging; uploaded files appear as `{ filename, size }`. */
  record(): Record<string, unknown> {
    const out: Record<string, unknown> = { ...this.values };
    for (const [name, file] of this.files) out[name] = { filename: file.filename, size: file.data.length };
    return out;
  }
}

/** Decodes query string and body into Params, by the body's content type. */
export function decodeParams(contentType: string | undefined, body: Buffer, query: URLSearchParams): Params {
  const values: Record<string, unknown> = Object.fromEntries(query);
  const files = new Map<string, UploadedFile>();
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (body.length > 0) {
    if (type === 'application/json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw badRequest("can't parse JSON body");
      }
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) Object.assign(values, parsed);
    } else if (type === 'application/x-www-form-urlencoded') {
      Object.assign(values, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    } else if (type === 'multipart/form-data') {
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
      const b = boundary?.[1] ?? boundary?.[2]?.trim();
      if (!b) throw badRequest("can't parse multipart/form-data: no boundary");
      for (const part of parseMultipart(body, b)) {
        if (part.filename !== undefined) {
          files.set(part.name, { filename: part.filename, contentType: part.contentType, data: part.data });
        } else {
          values[part.name] = part.data.toString('utf8');
        }
      }
    }
  }
  return new Params(values, files);
}

interface Part {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
}

/**
 * Splits a multipart/form-data body. Tolerant of grammY's terse headers
 * (`content-disposition:form-data;name="x";filename=y.pdf`, no spaces, unquoted filename).
 */
function parseMultipart(body: Buffer, boundary: string): Part[] {
  const parts: Part[] = [];
  const opening = Buffer.from(`--${boundary}`);
  const separator = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(opening);
  if (pos < 0) throw badRequest("can't parse multipart/form-data");
  pos += opening.length;
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // "--": closing delimiter
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const end = body.indexOf(separator, pos);
    if (end < 0) throw badRequest("can't parse multipart/form-data");
    const raw = body.subarray(pos, end);
    const headerEnd = raw.indexOf('\r\n\r\n');
    if (headerEnd < 0) throw badRequest("can't parse multipart/form-data");
    const headers = parseHeaders(raw.subarray(0, headerEnd).toString('utf8'));
    const disposition = parseDisposition(headers.get('content-disposition') ?? '');
    const name = disposition.get('name');
    if (name !== undefined) {
      parts.push({
        name,
        filename: disposition.get('filename'),
        contentType: headers.get('content-type'),
        data: raw.subarray(headerEnd + 4),
      });
    }
    pos = end + separator.length;
  }
  return parts;
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function parseDisposition(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const piece of value.split(';')) {
    const eq = piece.indexOf('=');
    if (eq < 0) continue;
    const key = piece.slice(0, eq).trim().toLowerCase();
    let v = piece.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out.set(key, v);
  }
  return out;
}
