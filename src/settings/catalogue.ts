import { z } from 'zod';
import { parseTelegramLines } from '../pbx/telegram-lines.js';

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
  input: 'text' | 'number' | 'secret' | 'select' | 'textarea';
  options?: string[];
  /** A feature page that edits this setting itself; the Settings page leaves it out. */
  section?: 'provider';
}

/** The shape of a Telegram bot token (the default bot's setting and the custom bots share it). */
export const BOT_TOKEN_SHAPE = /^\d{5,12}:[A-Za-z0-9_-]{30,}$/;
export const BOT_TOKEN_SHAPE_PROBLEM = 'does not look like a bot token (digits, a colon, then 35 letters)';

function setting<T>(def: SettingDefinition<T>): SettingDefinition<T> {
  return def;
}

const timeZones = Intl.supportedValuesOf('timeZone');

/** A bot token setting: empty (none) or shaped like a token. */
function optionalBotToken() {
  return z
    .string()
    .trim()
    .refine((v) => v === '' || BOT_TOKEN_SHAPE.test(v), BOT_TOKEN_SHAPE_PROBLEM);
}

/** One of the provider's editable texts: empty means the default in the language of messages. */
function providerTextSetting(key: string, label: string, help: string) {
  return setting({ key, label, help, schema: z.string().trim().max(1000, 'is at most 1000 characters'), defaultValue: '', secret: false, input: 'textarea', section: 'provider' });
}

/** An Asterisk context name: letters, digits, '-' and '_' (nothing that could break the generated dialplan). */
function contextName() {
  return z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,79}$/, 'must be an Asterisk context name (letters, digits, - and _)');
}

/** The settings of the foundation; features add theirs to this list. */
export const settingsCatalogue = [
  setting({
    key: 'telegram.bot_token',
    label: 'Default bot token',
    help: 'From @BotFather. Used for notifications unless a feature names its own bot. Checked with getMe.',
    schema: optionalBotToken(),
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
  setting({
    key: 'reports.unregistered_chats',
    label: 'Report commands in chats not registered',
    help: 'What the bot does when /profit or a report button comes from a chat that is not registered on the Reports page: "silent" ignores it, "not_allowed" says reports are not available there. Either way the attempt is logged.',
    schema: z.enum(['silent', 'not_allowed']),
    defaultValue: 'silent',
    secret: false,
    input: 'select',
    options: ['silent', 'not_allowed'],
  }),
  setting({
    key: 'dialplan.telegram_lines',
    label: 'Telegram lines (while the provider has no number)',
    help: 'Only while the Telegram provider page has no number (its numbers are the lines then). The Telegram numbers the gateway offers as SIP lines, as <id>:<phone>, e.g. "1:+79990001122, 2:+79990002233". Line <id> is the provider 127.0.0.1:<30000+id> in the generated dialplan. Empty: no line yet.',
    schema: z
      .string()
      .trim()
      .superRefine((v, ctx) => {
        const { problems } = parseTelegramLines(v);
        if (problems.length) ctx.addIssue({ code: 'custom', message: problems.join('; ') });
      }),
    defaultValue: '',
    secret: false,
    input: 'text',
  }),
  setting({
    key: 'dialplan.incoming_context',
    label: 'Incoming routing context',
    help: 'Where calls from the Telegram lines continue after the caller-ID hook: the context of the PBX\'s incoming routes (plain Asterisk often from-trunk or from-pstn).',
    schema: contextName(),
    defaultValue: 'from-trunk',
    secret: false,
    input: 'text',
  }),
  setting({
    key: 'dialplan.internal_context',
    label: 'Internal context',
    help: 'Where a call-back first rings the agent, extension or queue (plain Asterisk often from-internal).',
    schema: contextName(),
    defaultValue: 'from-internal',
    secret: false,
    input: 'text',
  }),
  setting({
    key: 'dialplan.outgoing_context',
    label: 'Outgoing routing context',
    help: 'Through which context call-backs and campaigns dial customers: the one holding the PBX\'s outbound routes.',
    schema: contextName(),
    defaultValue: 'from-internal',
    secret: false,
    input: 'text',
  }),
  setting({
    key: 'provider.api_id',
    label: 'App api_id',
    help: 'From my.telegram.org, "API development tools". Identifies tgpbx to Telegram when it logs in as your accounts.',
    schema: z
      .string()
      .trim()
      .regex(/^(\d{1,12})?$/, 'is a number (digits only)'),
    defaultValue: '',
    secret: false,
    input: 'text',
    section: 'provider',
  }),
  setting({
    key: 'provider.api_hash',
    label: 'App api_hash',
    help: 'From my.telegram.org next to the api_id: 32 hexadecimal characters. A secret: stored on the PBX only.',
    schema: z
      .string()
      .trim()
      .refine((v) => v === '' || /^[0-9a-fA-F]{32}$/.test(v), 'is 32 hexadecimal characters'),
    defaultValue: '',
    secret: true,
    input: 'secret',
    section: 'provider',
  }),
  setting({
    key: 'provider.bot_token',
    label: 'Provider bot token',
    help: 'The bot with inline mode (@BotFather /setinline) that builds the extension keypad during calls. May be the default bot.',
    schema: optionalBotToken(),
    defaultValue: '',
    secret: true,
    input: 'secret',
    section: 'provider',
  }),
  providerTextSetting('provider.text.keyboard', 'Extension keypad message', 'Sent with the keypad to a caller during an incoming Telegram call. Empty: the default text in the language of messages.'),
  providerTextSetting('provider.text.business_card', 'Business card', 'Sent after an outgoing Telegram call the customer did not answer, with a Call back button. Empty: the default text.'),
  providerTextSetting('provider.text.auto_reply', 'Auto-reply to messages', 'Answer to text messages sent to the Telegram numbers, at most once per 30 s per chat. Empty: the default text.'),
] as const;

export type SettingKey = (typeof settingsCatalogue)[number]['key'];
export type SettingValue<K extends SettingKey> = Extract<(typeof settingsCatalogue)[number], { key: K }>['defaultValue'];

/** Finds a setting's definition; undefined for keys tgpbx does not know. */
export function findSetting(key: string): SettingDefinition | undefined {
  return (settingsCatalogue as readonly SettingDefinition[]).find((d) => d.key === key);
}
