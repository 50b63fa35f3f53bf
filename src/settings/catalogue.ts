import { z } from 'zod';

/** One setting an admin can edit: how it is validated, shown and whether it is a secret. */
export interface SettingDefinition<T = unknown> {
  key: string;
  label: string;
  help: string;
  /** Validates the value given from a form or the REST API (strings from forms are coerced). */
  schema: z.ZodType<T>;
  defaultValue: T;
  /** Secrets are never echoed back: pages and the API show `••••1234`. */
  secret: boolean;
  input: 'text' | 'number' | 'secret' | 'select';
  options?: string[];
}

function setting<T>(def: SettingDefinition<T>): SettingDefinition<T> {
  return def;
}

const timeZones = Intl.supportedValuesOf('timeZone');

/** The settings of the foundation; features add theirs to this list. */
export const settingsCatalogue = [
  setting({
    key: 'telegram.bot_token',
    label: 'Default bot token',
    help: 'From @BotFather. Used for notifications unless a feature names its own bot. Checked with getMe.',
    schema: z
      .string()
      .trim()
      .refine((v) => v === '' || /^\d{5,12}:[A-Za-z0-9_-]{30,}$/.test(v), 'does not look like a bot token (digits, a colon, then 35 letters)'),
    defaultValue: '',
    secret: true,
    input: 'secret',
  }),
  setting({
    key: 'general.language',
    label: 'Language of messages',
    help: 'Language of the texts tgpbx sends to Telegram users.',
    schema: z.enum(['en', 'ru']),
    defaultValue: 'en',
    secret: false,
    input: 'select',
    options: ['en', 'ru'],
  }),
  setting({
    key: 'general.timezone',
    label: 'PBX time zone',
    help: 'Times in notices and reports are shown in this zone.',
    schema: z.string().refine((v) => timeZones.includes(v) || v === 'UTC', 'is not a known IANA time zone (e.g. Europe/Moscow)'),
    defaultValue: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    secret: false,
    input: 'text',
  }),
  setting({
    key: 'telegram.rate.global_per_second',
    label: 'Messages per second per bot',
    help: 'Telegram allows about 30. Raise only for bots with paid broadcasts.',
    schema: z.coerce.number().int().min(1).max(1000),
    defaultValue: 30,
    secret: false,
    input: 'number',
  }),
  setting({
    key: 'telegram.rate.private_chat_per_second',
    label: 'Messages per second to one private chat',
    help: 'Telegram allows about 1.',
    schema: z.coerce.number().int().min(1).max(1000),
    defaultValue: 1,
    secret: false,
    input: 'number',
  }),
  setting({
    key: 'telegram.rate.group_per_minute',
    label: 'Messages per minute to one group',
    help: 'Telegram allows about 20.',
    schema: z.coerce.number().int().min(1).max(60000),
    defaultValue: 20,
    secret: false,
    input: 'number',
  }),
  setting({
    key: 'telegram.in_flight',
    label: 'Requests in flight per bot',
    help: 'How many messages one bot sends at once. Few keep the duplicate window after a crash small.',
    schema: z.coerce.number().int().min(1).max(32),
    defaultValue: 4,
    secret: false,
    input: 'number',
  }),
  setting({
    key: 'calls.ivr_hangup_is_missed',
    label: 'Hang-ups in the IVR count as missed',
    help: 'An inbound caller who hangs up in the voice menu, before any phone rang: "yes" reports it as missed for the number dialed; "no" only marks it "ended in IVR" in the history.',
    schema: z.enum(['no', 'yes']),
    defaultValue: 'no',
    secret: false,
    input: 'select',
    options: ['no', 'yes'],
  }),
] as const;

export type SettingKey = (typeof settingsCatalogue)[number]['key'];
export type SettingValue<K extends SettingKey> = Extract<(typeof settingsCatalogue)[number], { key: K }>['defaultValue'];

/** Finds a setting's definition; undefined for keys tgpbx does not know. */
export function findSetting(key: string): SettingDefinition | undefined {
  return (settingsCatalogue as readonly SettingDefinition[]).find((d) => d.key === key);
}
