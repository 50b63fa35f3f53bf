import type { Database } from '../storage/database.js';
import type { EndpointClassifier } from './channel-name.js';
import { endpointClassifier } from './channel-name.js';

/** An endpoint of the PBX: a phone (extension) or a trunk. */
export interface PbxEndpoint {
  endpoint: string;
  kind: 'extension' | 'trunk';
  name: string;
  /** `asterisk` when read from Asterisk, `admin` once the admin edited it. */
  source: 'asterisk' | 'admin';
}

/** A user group (department) and its member extensions. */
export interface UserGroup {
  id: number;
  name: string;
  members: string[];
}

/** A rejected edit: the message is fit to show the admin. */
export class DirectoryError extends Error {}

/**
 * The PBX's extensions, trunks and user groups: read from Asterisk where possible
 * (PJSIPShowEndpoints) and edited by the admin. Keeps an in-memory copy for the call
 * tracker's classifier, which runs for every channel.
 */
export class PbxDirectory {
  private extensions = new Set<string>();
  private trunks = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads the endpoint kinds into memory; call at start. */
  async load(): Promise<void> {
    const rows: PbxEndpoint[] = await this.db('pbx_endpoints').select('endpoint', 'kind');
    this.extensions = new Set(rows.filter((r) => r.kind === 'extension').map((r) => r.endpoint));
    this.trunks = new Set(rows.filter((r) => r.kind === 'trunk').map((r) => r.endpoint));
  }

  /** The classifier the call tracker uses: the admin's word first, a digit rule otherwise. */
  classifier(): EndpointClassifier {
    return endpointClassifier(() => ({ extensions: this.extensions, trunks: this.trunks }));
  }

  async endpoints(): Promise<PbxEndpoint[]> {
    return this.db('pbx_endpoints').select('endpoint', 'kind', 'name', 'source').orderBy([{ column: 'kind' }, { column: 'endpoint' }]);
  }

  /**
   * Records the endpoints Asterisk reports. New ones are classified by the digit rule;
   * the kind and name the admin set are never overwritten.
   */
  async importFromAsterisk(endpoints: string[]): Promise<number> {
    const classify = this.classifier();
    const existing = new Set((await this.db('pbx_endpoints').pluck('endpoint')) as string[]);
    const fresh = endpoints.filter((e) => e && !existing.has(e));
    if (fresh.length) {
      await this.db('pbx_endpoints').insert(fresh.map((endpoint) => ({ endpoint, kind: classify(endpoint), name: '', source: 'asterisk', updated_at: this.now() })));
    }
    await this.load();
    return fresh.length;
  }

  /**
   * Learns extension names from the caller ID their phones send (`Ext 101`): only for
   * extensions read from Asterisk that have no name yet; the admin's names stay.
   */
  async learnNames(named: { endpoint: string; name: string }[]): Promise<void> {
    for (const { endpoint, name } of named) {
      if (!name || name === endpoint || !this.extensions.has(endpoint)) continue;
      await this.db('pbx_endpoints').where({ endpoint, source: 'asterisk', name: '' }).update({ name: name.slice(0, 128), updated_at: this.now() });
    }
  }

  /** The admin sets an endpoint's kind and name (adding it if Asterisk did not report it). */
  async saveEndpoint(endpoint: string, kind: 'extension' | 'trunk', name: string): Promise<void> {
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(endpoint)) throw new DirectoryError('An endpoint is 1-64 letters, digits, dots, dashes or underscores.');
    await this.db('pbx_endpoints')
      .insert({ endpoint, kind, name: name.trim().slice(0, 128), source: 'admin', updated_at: this.now() })
      .onConflict('endpoint')
      .merge(['kind', 'name', 'source', 'updated_at']);
    await this.load();
  }

  async groups(): Promise<UserGroup[]> {
    const groups: { id: number; name: string }[] = await this.db('user_groups').select('id', 'name').orderBy('name');
    const members: { group_id: number; extension: string }[] = await this.db('user_group_members').select('group_id', 'extension').orderBy('extension');
    return groups.map((g) => ({ ...g, members: members.filter((m) => m.group_id === g.id).map((m) => m.extension) }));
  }

  /** Creates or renames a group and sets its members (all or nothing). */
  async saveGroup(input: { id?: number; name: string; members: string[] }): Promise<number> {
    const name = input.name.trim();
    if (!name || name.length > 100) throw new DirectoryError('A group needs a name of 1-100 characters.');
    const members = [...new Set(input.members.map((m) => m.trim()).filter(Boolean))];
    const bad = members.filter((m) => !/^[A-Za-z0-9_.-]{1,64}$/.test(m));
    if (bad.length) throw new DirectoryError(`Not extensions: ${bad.join(', ')}`);
    return this.db.transaction(async (trx) => {
      const clash = await trx('user_groups').where({ name }).whereNot('id', input.id ?? -1).first();
      if (clash) throw new DirectoryError(`A group named "${name}" exists already.`);
      let id = input.id;
      if (id === undefined) {
        const [row] = await trx('user_groups').insert({ name, created_at: this.now() }).returning('id');
        id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
      } else {
        const updated = await trx('user_groups').where({ id }).update({ name });
        if (!updated) throw new DirectoryError('No such group.');
        await trx('user_group_members').where({ group_id: id }).delete();
      }
      if (members.length) await trx('user_group_members').insert(members.map((extension) => ({ group_id: id, extension })));
      return id!;
    });
  }

  async deleteGroup(id: number): Promise<boolean> {
    return (await this.db('user_groups').where({ id }).delete()) > 0;
  }
}
