import { EventEmitter } from 'node:events';
import type { Database } from '../storage/database.js';
import type { SecretScrubber } from '../log/secret-scrubber.js';
import { mask } from '../log/secret-scrubber.js';
import { findSetting, settingsCatalogue, type SettingKey, type SettingValue } from './catalogue.js';

/** A bad value for a setting; `problems` maps each key to a message fit to show the admin. */
export class SettingsValidationError extends Error {
  constructor(readonly problems: Record<string, string>) {
    super('invalid settings: ' + Object.entries(problems).map(([k, m]) => `${k} ${m}`).join('; '));
    this.name = 'SettingsValidationError';
  }
}

/** A setting as pages and the REST API show it: secrets masked. */
export interface PublicSetting {
  key: string;
  label: string;
  help: string;
  input: string;
  options?: string[];
  secret: boolean;
  /** The value, or for a secret `••••1234` (empty when unset). */
  value: unknown;
  isSet: boolean;
  /** The feature page that edits it (not the Settings page), if any. */
  section?: string;
}

/**
 * The settings table, cached in memory. Values are JSON; unknown keys are refused.
 * Emits `change` with the list of changed keys after a successful update.
 * Secret values are registered with the scrubber so they never reach a log.
 */
export class SettingsStore extends EventEmitter {
  private cache = new Map<string, unknown>();

  constructor(private readonly db: Database, private readonly scrubber: SecretScrubber) {
    super();
  }

  /** Loads every stored value; call once at start. */
  async load(): Promise<void> {
    const rows: { key: string; value: string }[] = await this.db('settings').select('key', 'value');
    this.cache = new Map(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
    for (const def of settingsCatalogue) if (def.secret) this.scrubber.add(this.cache.get(def.key) as string | undefined);
  }

  /** The current value of a catalogued setting (its default when never set). */
  get<K extends SettingKey>(key: K): SettingValue<K> {
    const def = findSetting(key)!;
    return (this.cache.has(key) ? this.cache.get(key) : def.defaultValue) as SettingValue<K>;
  }

  /** Internal values that are not admin settings (e.g. the admin password hash). */
  getInternal(key: string): string | undefined {
    const v = this.cache.get(key);
    return typeof v === 'string' ? v : undefined;
  }

  async setInternal(key: string, value: string): Promise<void> {
    await this.write({ [key]: value });
  }

  /**
   * Validates and stores several settings at once (all or nothing).
   * A secret given as empty string or as its masked form keeps its stored value,
   * so a form that shows `••••1234` can be submitted unchanged.
   */
  async update(input: Record<string, unknown>): Promise<string[]> {
    const problems: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    for (const [key, raw] of Object.entries(input)) {
      const def = findSetting(key);
      if (!def) {
        problems[key] = 'is not a known setting';
        continue;
      }
      if (def.secret && (raw === undefined || (typeof raw === 'string' && (raw === '' || raw.startsWith('••••'))))) continue;
      const parsed = def.schema.safeParse(raw);
      if (!parsed.success) problems[key] = parsed.error.issues[0]?.message ?? 'is not valid';
      else if (JSON.stringify(parsed.data) !== JSON.stringify(this.get(key as SettingKey))) values[key] = parsed.data;
    }
    if (Object.keys(problems).length) throw new SettingsValidationError(problems);
    await this.write(values);
    const changed = Object.keys(values);
    if (changed.length) this.emit('change', changed);
    return changed;
  }

  /** Removes a stored secret (e.g. the admin clears a bot token). */
  async clear(key: SettingKey): Promise<void> {
    const old = this.cache.get(key);
    await this.db('settings').where({ key }).delete();
    this.cache.delete(key);
    if (typeof old === 'string') this.scrubber.remove(old);
    this.emit('change', [key]);
  }

  /** Every catalogued setting with secrets masked: what pages and the API may show. */
  list(): PublicSetting[] {
    return settingsCatalogue.map((def) => {
      const stored = this.cache.get(def.key);
      const isSet = stored !== undefined && stored !== '';
      return {
        key: def.key,
        label: def.label,
        help: def.help,
        input: def.input,
        options: def.options ? [...def.options] : undefined,
        secret: def.secret,
        value: def.secret ? mask(stored as string | undefined) : (stored ?? def.defaultValue),
        isSet,
        section: def.section,
      };
    });
  }

  private async write(values: Record<string, unknown>): Promise<void> {
    const now = Date.now();
    const entries = Object.entries(values);
    if (!entries.length) return;
    await this.db.transaction(async (trx) => {
      for (const [key, value] of entries) {
        await trx('settings')
          .insert({ key, value: JSON.stringify(value), updated_at: now })
          .onConflict('key')
          .merge(['value', 'updated_at']);
      }
    });
    for (const [key, value] of entries) {
      const def = findSetting(key);
      if (def?.secret) {
        this.scrubber.remove(this.cache.get(key) as string | undefined);
        this.scrubber.add(value as string);
      }
      this.cache.set(key, value);
    }
  }
}
