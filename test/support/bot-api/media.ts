/**
 * Files for the Bot API emulator: the store behind file_id / getFile / downloads,
 * MIME types by extension, image dimensions sniffing, and a tiny PNG maker for tests.
 */
import { deflateSync } from 'node:zlib';
import type { PhotoSize } from 'grammy/types';

/** Document fields Telegram reports besides the ids and size. */
export interface DocumentMeta {
  file_name?: string;
  mime_type?: string;
}

/** Telegram's size limits, in bytes. */
export const FILE_LIMITS = Object.freeze({
  /** multipart uploads of anything but photos */
  upload: 50 * 1024 * 1024,
  /** multipart photo uploads */
  photo: 10 * 1024 * 1024,
  /** getFile / download */
  download: 20 * 1024 * 1024,
});

/** A stored file. file_ids are per bot, as on Telegram. */
export interface StoredFile {
  file_id: string;
  file_unique_id: string;
  bot_id: number;
  data: Buffer;
  kind: 'document' | 'photo';
  extension: string;
  meta: DocumentMeta;
  /** For photos: the whole size list the file belongs to. */
  photo?: PhotoSize[];
  file_path?: string;
}

/** Keeps uploaded files by file_id and by download path. */
export class FileStore {
  private readonly byId = new Map<string, StoredFile>();
  private readonly byPath = new Map<string, StoredFile>();
  private counter = 0;

  /** Stores bytes for a bot and returns the new file. */
  add(botId: number, kind: StoredFile['kind'], data: Buffer, filename?: string, meta: DocumentMeta = {}): StoredFile {
    this.counter += 1;
    const extension = (kind === 'photo' ? 'jpg' : /\.([A-Za-z0-9]{1,8})$/.exec(filename ?? '')?.[1]) ?? '';
    const file: StoredFile = {
      file_id: Buffer.from(`emu:${kind}:${botId}:${this.counter}`).toString('base64url'),
      file_unique_id: Buffer.from(`u${this.counter}`).toString('base64url'),
      bot_id: botId,
      data,
      kind,
      extension,
      meta,
    };
    this.byId.set(file.file_id, file);
    return file;
  }

  /** A file by id, only for the bot that owns the id (as on Telegram). */
  get(botId: number, fileId: string): StoredFile | undefined {
    const file = this.byId.get(fileId);
    return file && file.bot_id === botId ? file : undefined;
  }

  /** Assigns (once) and returns the download path of a file, as getFile does. */
  pathOf(file: StoredFile): string {
    if (!file.file_path) {
      const folder = file.kind === 'photo' ? 'photos' : 'documents';
      file.file_path = `${folder}/file_${this.byPath.size}${file.extension ? `.${file.extension}` : ''}`;
      this.byPath.set(file.file_path, file);
    }
    return file.file_path;
  }

  /** The file at a download path, for its owning bot. */
  byDownloadPath(botId: number, path: string): StoredFile | undefined {
    const file = this.byPath.get(path);
    return file && file.bot_id === botId ? file : undefined;
  }
}

const MIME: Record<string, string> = {
  pdf: 'application/pdf', txt: 'text/plain', csv: 'text/csv', json: 'application/json',
  html: 'text/html', xml: 'application/xml', zip: 'application/zip', gz: 'application/gzip',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  wav: 'audio/x-wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg',
  mp4: 'video/mp4', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** The MIME type Telegram reports for a document, guessed from its file name. */
export function mimeFor(filename: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase() ?? '';
  return MIME[ext] ?? 'application/octet-stream';
}

/** Width and height of a PNG, JPEG, GIF or WebP image; undefined when not an image. */
export function imageSize(data: Buffer): { width: number; height: number } | undefined {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47 && data.toString('latin1', 12, 16) === 'IHDR') {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  if (data.length >= 10 && data.toString('latin1', 0, 4) === 'GIF8') {
    return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
  }
  if (data.length >= 30 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') {
    const chunk = data.toString('latin1', 12, 16);
    if (chunk === 'VP8X') return { width: data.readUIntLE(24, 3) + 1, height: data.readUIntLE(27, 3) + 1 };
    if (chunk === 'VP8L') {
      const bits = data.readUInt32LE(21);
      return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8 ') return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff };
    return undefined;
  }
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) {
    let pos = 2;
    while (pos + 9 < data.length && data[pos] === 0xff) {
      const marker = data[pos + 1] as number;
      const length = data.readUInt16BE(pos + 2);
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) return { height: data.readUInt16BE(pos + 5), width: data.readUInt16BE(pos + 7) };
      pos += 2 + length;
    }
  }
  return undefined;
}

/**
 * The PhotoSize list Telegram returns for a photo: scaled copies boxed to
 * 90/320/800/1280/2560 px up to the original size. (Simplification: every
 * size is downloadable and holds the uploaded bytes.)
 */
export function photoSizes(width: number, height: number, size: number, ids: () => StoredFile): PhotoSize[] {
  const sizes: PhotoSize[] = [];
  const longest = Math.max(width, height);
  for (const box of [90, 320, 800, 1280, 2560]) {
    const scale = Math.min(1, box / longest);
    const file = ids();
    sizes.push({
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      width: Math.max(1, Math.round(width * scale)),
      height: Math.max(1, Math.round(height * scale)),
      file_size: Math.max(1, Math.round(size * scale * scale)),
    });
    if (box >= longest) break;
  }
  return sizes;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/** A valid grey PNG of the given size, for sendPhoto tests. */
export function fakePng(width = 2, height = 2): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y += 1) rows[y * (width + 1)] = 0; // filter byte
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
