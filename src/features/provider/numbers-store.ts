import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Database } from '../../storage/database.js';
import { gatewayPort } from '../../pbx/telegram-lines.js';

/** A Telegram number of the provider: its line id and SIP line address. */
export interface ProviderNumber {
  /** The line id: the SIP line is 127.0.0.1:(30000 + id). */
  id: number;
  /** E.164, e.g. +79990001122. */
  phone: string;
  /** `127.0.0.1:30001`: the address the PBX uses as an IP-authenticated provider. */
  sipLine: string;
  createdAt: number;
}

/** Why a phone number was refused, for the form and the API. */
export class NumberInputError extends Error {}

/**
 * Validates a phone number as the admin typed it ("+7 999 000-11-22") and returns E.164.
 * International form only: the PBX has no country to assume.
 */
export function toE164(input: string): string {
  const text = input.trim();
  if (!text) throw new NumberInputError('enter the phone number of the Telegram account');
  const withPlus = text.startsWith('+') ? text : text.startsWith('00') ? `+${text.slice(2)}` : `+${text}`;
  const parsed = parsePhoneNumberFromString(withPlus);
  if (!parsed || !parsed.isValid()) throw new NumberInputError(`"${text.slice(0, 40)}" is not a valid phone number in international form (e.g. +79990001122)`);
  return parsed.number;
}

const SIP_HOST = '127.0.0.1';

/** The provider's numbers in the database. */
export class NumberStore {
  constructor(private readonly db: Database) {}

  async list(): Promise<ProviderNumber[]> {
    const rows = await this.db('provider_numbers').select('*').orderBy('id');
    return rows.map(toNumber);
  }

  async get(id: number): Promise<ProviderNumber | null> {
    const row = await this.db('provider_numbers').where({ id }).first();
    return row ? toNumber(row) : null;
  }

  /** Adds a number; refuses an invalid one or one already added. */
  async add(input: string, now = Date.now()): Promise<ProviderNumber> {
    const phone = toE164(input);
    const existing = await this.db('provider_numbers').where({ phone }).first();
    if (existing) throw new NumberInputError(`${phone} is already added (line ${existing.id})`);
    const [row] = await this.db('provider_numbers').insert({ phone, created_at: now }).returning('*');
    return toNumber(row);
  }

  async remove(id: number): Promise<void> {
    await this.db('provider_numbers').where({ id }).delete();
  }
}

function toNumber(row: { id: number; phone: string; created_at: number | string }): ProviderNumber {
  const id = Number(row.id);
  return { id, phone: row.phone, sipLine: `${SIP_HOST}:${gatewayPort(id)}`, createdAt: Number(row.created_at) };
}
