import { normalizeTelegramPhone } from './caller-id-from-telegram-headers.js';

/**
 * A Telegram line: one Telegram account (a phone number) that the tgpbx gateway offers the
 * PBX as an IP-authenticated SIP provider on 127.0.0.1:30000+id.
 */
export interface TelegramLine {
  /** 1, 2, ...: numbers the line's gateway port and PJSIP endpoint. */
  readonly id: number;
  /** The account's number in E.164. */
  readonly phone: string;
}

/** The first gateway port: line `id` listens on GATEWAY_BASE_PORT + id. */
export const GATEWAY_BASE_PORT = 30_000;

/** The gateway's SIP port of a line. */
export function gatewayPort(lineId: number): number {
  return GATEWAY_BASE_PORT + lineId;
}

/** The PJSIP endpoint (and aor, identify) name of a line: `tgpbx-line-<id>`. */
export function lineEndpoint(lineId: number): string {
  return `tgpbx-line-${lineId}`;
}

/** The example line the pages show while no line exists. */
export const EXAMPLE_LINE: TelegramLine = { id: 1, phone: '+79990001122' };

/**
 * Reads the interim `dialplan.telegram_lines` setting (`1:+79990001122, 2:+79990002233`,
 * commas or new lines between lines) until the Telegram provider pages manage lines.
 * Returns the lines in id order and a problem per bad entry (empty input: no lines).
 */
export function parseTelegramLines(text: string): { lines: TelegramLine[]; problems: string[] } {
  const lines: TelegramLine[] = [];
  const problems: string[] = [];
  for (const raw of text.split(/[,;\n]/)) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^(\d{1,4})\s*[:=]\s*(.+)$/.exec(entry);
    const id = m ? Number(m[1]) : NaN;
    if (!m || id < 1 || id > 9999) {
      problems.push(`"${entry.slice(0, 40)}" is not <id>:<phone> with an id from 1 to 9999`);
      continue;
    }
    const phone = normalizeTelegramPhone(m[2]);
    if (!phone) {
      problems.push(`line ${id}: "${m[2]!.slice(0, 30)}" is not a phone number`);
      continue;
    }
    if (lines.some((l) => l.id === id)) {
      problems.push(`line ${id} is listed twice`);
      continue;
    }
    lines.push({ id, phone });
  }
  lines.sort((a, b) => a.id - b.id);
  return { lines, problems };
}

/**
 * The lines the generated dialplan serves: the Telegram provider's numbers once there is
 * one, else the interim `dialplan.telegram_lines` setting (with its problems).
 */
export function effectiveTelegramLines(settingText: string, providerLines: readonly TelegramLine[]): { lines: TelegramLine[]; problems: string[] } {
  if (providerLines.length) return { lines: [...providerLines], problems: [] };
  return parseTelegramLines(settingText);
}
