import { callerIdFromTelegramHeaders, TELEGRAM_HEADER_NAMES, type TelegramHeaders } from '../caller-id-from-telegram-headers.js';
import type { TelegramChannel } from '../telegram-channel-store.js';
import type { AgiHandler, AgiRequest } from './agi-handler.js';

/** Where the hook records channel <-> Telegram user (the TelegramChannelStore). */
export interface TelegramChannelRecorder {
  remember(entry: Omit<TelegramChannel, 'createdAt' | 'expiresAt'>): Promise<unknown>;
}

/**
 * The dialplan function that reads a SIP header on a channel of technology `type`
 * (`agi_type`): PJSIP_HEADER on chan_pjsip, SIP_HEADER on chan_sip; null for other
 * technologies, whose channels carry no SIP headers.
 */
export function sipHeaderFunction(type: string): ((header: string) => string) | null {
  const tech = type.trim().toUpperCase();
  if (tech === 'PJSIP') return (header) => `PJSIP_HEADER(read,${header})`;
  if (tech === 'SIP') return (header) => `SIP_HEADER(${header})`;
  return null;
}

/** The order the headers are read in (priority order first, then the name parts). */
const READ_ORDER: (keyof TelegramHeaders)[] = ['phone', 'username', 'id', 'firstName', 'lastName'];

/**
 * `tg-callerid`: names a Telegram caller. Reads X-TG-Phone, X-TG-Username, X-TG-ID,
 * X-TG-FirstName and X-TG-LastName from the INVITE, sets CALLERID(num) from the first
 * valid of phone (E.164 with +), username, id, and CALLERID(name) from the names or the
 * @username; sets the inheritable `__TG_ID` for the dialplan and the dialed legs; and
 * records channel <-> Telegram user in tgpbx's database for the duration of the call.
 * A call without X-TG-* headers is left exactly as it was. Parameter `line=<id>`: the
 * Telegram line the call came in on (the generated dialplan passes `${TGPBX_LINE}`).
 */
export class TelegramCallerIdHandler implements AgiHandler {
  readonly name = 'tg-callerid';
  readonly summary = 'Sets the caller ID of a Telegram call from its X-TG-Phone, X-TG-Username, X-TG-ID headers and remembers the channel of the Telegram user.';

  constructor(private readonly channels: TelegramChannelRecorder) {}

  async handle({ env, params, channel }: AgiRequest): Promise<void> {
    const header = sipHeaderFunction(env.type);
    if (!header) return;
    const headers: TelegramHeaders = {};
    for (const field of READ_ORDER) headers[field] = await channel.getVariable(header(TELEGRAM_HEADER_NAMES[field]));
    const callerId = callerIdFromTelegramHeaders(headers);
    if (callerId.number !== null) await channel.setVariable('CALLERID(num)', callerId.number);
    if (callerId.name !== null) await channel.setVariable('CALLERID(name)', callerId.name);
    if (!callerId.telegramUserId && !callerId.username && !callerId.phone) return;
    if (callerId.telegramUserId) await channel.setVariable('__TG_ID', callerId.telegramUserId);
    const linkedid = await channel.getVariable('CHANNEL(linkedid)');
    await this.channels.remember({
      uniqueid: env.uniqueid,
      channel: env.channel,
      linkedid: linkedid || null,
      telegramUserId: callerId.telegramUserId,
      telegramUsername: callerId.username,
      phone: callerId.phone,
      lineId: lineIdFrom(params.get('line')),
    });
  }
}

function lineIdFrom(raw: string | null): number | null {
  return raw && /^[1-9]\d{0,8}$/.test(raw) ? Number(raw) : null;
}
