import type { PbxDirectory } from '../../pbx/pbx-directory.js';
import type { Database } from '../../storage/database.js';
import { MissedCallAdminQueries, scopeKey, type DeliveryRefusal } from './admin-queries.js';
import { displayStatus, extensionLabel, type DisplayStatus } from './admin-view.js';
import type { MissedCallNotifier } from './notifier.js';
import type { MissedCallStore, Scope, Subscriber } from './store.js';

/** A refused admin action: `invalid` input (400) or an id that names nothing (404). The message is fit to show. */
export class MissedCallsAdminError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

/** A group or an extension with its activation key. */
export interface KeyedScope {
  scope: Scope;
  /** The group's name, or the extension's name ('' when it has none). */
  name: string;
  /** `Sales`, `101 (Reception)`. */
  label: string;
  key: string;
  /** Subscribers of this scope, whatever their status. */
  subscribers: number;
}

/** A user group on the Missed calls page: members, the notify flag, the key. */
export interface GroupEntry extends KeyedScope {
  id: number;
  members: string[];
  /** "Notify about missed calls in Telegram". */
  notify: boolean;
}

/** A subscriber as the admin sees him: what he is subscribed to and the status to show. */
export interface SubscriberEntry {
  subscriber: Subscriber;
  /** `group` / `extension`, the label of the scope (`Sales`, `101 (Reception)`), and whether the scope still exists. */
  scope: Scope & { label: string; exists: boolean };
  display: DisplayStatus;
  /** When the shown status began (the stored status change, or Telegram's refusal). */
  displaySince: number;
  refusal: DeliveryRefusal | null;
}

/** What the admin may subscribe a chat to: every group and every extension. */
export interface ScopeChoice {
  scope: Scope;
  label: string;
}

export interface MissedCallsAdminDeps {
  store: MissedCallStore;
  notifier: MissedCallNotifier;
  directory: PbxDirectory;
  db: Database;
}

/**
 * The admin's side of missed-call notices, shared by the page and the REST API: groups
 * with their flag and key, extensions with their key, subscribers with the status to
 * show, and the actions on them. Changes the user should hear about go through
 * MissedCallNotifier, which writes the service message in the same transaction.
 */
export class MissedCallsAdmin {
  private readonly queries: MissedCallAdminQueries;

  constructor(private readonly deps: MissedCallsAdminDeps) {
    this.queries = new MissedCallAdminQueries(deps.db);
  }

  /** Every group with its members, flag and key (keys are made on first sight). */
  async groups(): Promise<GroupEntry[]> {
    const [groups, flags, keys, counts] = await Promise.all([this.deps.directory.groups(), this.deps.store.groupFlags(), this.queries.keys(), this.queries.subscriberCounts()]);
    const out: GroupEntry[] = [];
    for (const g of groups) {
      const scope: Scope = { kind: 'group', id: String(g.id) };
      out.push({
        id: g.id,
        scope,
        name: g.name,
        label: g.name,
        members: g.members,
        notify: flags.get(g.id) ?? true,
        key: keys.get(scopeKey(scope)) ?? (await this.deps.store.keyFor(scope)),
        subscribers: counts.get(scopeKey(scope)) ?? 0,
      });
    }
    return out;
  }

  /** Every extension with its key (keys are made on first sight). */
  async extensions(): Promise<KeyedScope[]> {
    const [endpoints, keys, counts] = await Promise.all([this.deps.directory.endpoints(), this.queries.keys(), this.queries.subscriberCounts()]);
    const out: KeyedScope[] = [];
    for (const e of endpoints) {
      if (e.kind !== 'extension') continue;
      const scope: Scope = { kind: 'extension', id: e.endpoint };
      out.push({
        scope,
        name: e.name,
        label: extensionLabel(e.endpoint, e.name),
        key: keys.get(scopeKey(scope)) ?? (await this.deps.store.keyFor(scope)),
        subscribers: counts.get(scopeKey(scope)) ?? 0,
      });
    }
    return out;
  }

  /** The scopes a subscriber can be added to, groups first. */
  async scopeChoices(): Promise<ScopeChoice[]> {
    const [groups, endpoints] = await Promise.all([this.deps.directory.groups(), this.deps.directory.endpoints()]);
    return [
      ...groups.map((g) => ({ scope: { kind: 'group' as const, id: String(g.id) }, label: g.name })),
      ...endpoints.filter((e) => e.kind === 'extension').map((e) => ({ scope: { kind: 'extension' as const, id: e.endpoint }, label: extensionLabel(e.endpoint, e.name) })),
    ];
  }

  /** Every subscriber, oldest first, with the status to show. */
  async subscribers(): Promise<SubscriberEntry[]> {
    const [subscribers, refusals, labels] = await Promise.all([this.deps.store.list(), this.queries.refusals(this.deps.notifier.botId()), this.scopeLabels()]);
    return subscribers.map((s) => entry(s, refusals.get(s.chatId), labels));
  }

  /** One subscriber with the status to show. */
  async subscriber(id: number): Promise<SubscriberEntry> {
    const s = await this.deps.store.get(id);
    if (!s) throw notFound('subscriber');
    const [refusals, labels] = await Promise.all([this.queries.refusals(this.deps.notifier.botId()), this.scopeLabels()]);
    return entry(s, refusals.get(s.chatId), labels);
  }

  /**
   * Adds a subscriber by hand. An existing subscription of that chat and scope is renamed
   * and switched on; if it was off, the user is told, as with the switch.
   */
  async addSubscriber(input: { name: string; chatId: string; scope: Scope }): Promise<number> {
    if (!(await this.scopeExists(input.scope))) {
      throw new MissedCallsAdminError('invalid', input.scope.kind === 'group' ? 'There is no such group.' : `There is no extension ${input.scope.id}.`);
    }
    const existing = (await this.deps.store.subscriptionsOf(input.chatId)).find((s) => s.scope.kind === input.scope.kind && s.scope.id === input.scope.id);
    if (!existing) return this.deps.store.addByAdmin(input.name, input.chatId, input.scope);
    await this.deps.store.rename(existing.id, input.name);
    if (existing.status !== 'on') await this.deps.notifier.setSubscriberByAdmin(existing.id, true);
    return existing.id;
  }

  async rename(id: number, name: string): Promise<void> {
    if (!(await this.deps.store.rename(id, name))) throw notFound('subscriber');
  }

  /** Switches a subscriber on or off; the user is told (when it changes). */
  async setEnabled(id: number, on: boolean): Promise<void> {
    if (!(await this.deps.notifier.setSubscriberByAdmin(id, on))) throw notFound('subscriber');
  }

  async remove(id: number): Promise<void> {
    if (!(await this.deps.store.remove(id))) throw notFound('subscriber');
  }

  /** Replaces a scope's key: the old one stops working at once; subscribers stay. Returns the new key. */
  async revokeKey(scope: Scope): Promise<string> {
    if (!(await this.scopeExists(scope))) throw notFound(scope.kind);
    return this.deps.store.revokeKey(scope);
  }

  /** Sets a group's "notify about missed calls" flag; the group's active subscribers hear of a change. True when it changed. */
  async setGroupFlag(groupId: number, notify: boolean): Promise<boolean> {
    if (!(await this.scopeExists({ kind: 'group', id: String(groupId) }))) throw notFound('group');
    return this.deps.notifier.setGroupFlag(groupId, notify);
  }

  private async scopeExists(scope: Scope): Promise<boolean> {
    if (scope.kind === 'group') return (await this.deps.directory.groups()).some((g) => String(g.id) === scope.id);
    return (await this.deps.directory.endpoints()).some((e) => e.kind === 'extension' && e.endpoint === scope.id);
  }

  private async scopeLabels(): Promise<Map<string, string>> {
    return new Map((await this.scopeChoices()).map((c) => [scopeKey(c.scope), c.label]));
  }
}

function notFound(what: string): MissedCallsAdminError {
  return new MissedCallsAdminError('not_found', `No such ${what}.`);
}

function entry(s: Subscriber, refusal: DeliveryRefusal | undefined, labels: Map<string, string>): SubscriberEntry {
  const label = labels.get(scopeKey(s.scope));
  const shown = displayStatus(s, refusal);
  return {
    subscriber: s,
    scope: { ...s.scope, label: label ?? `${s.scope.id} (deleted)`, exists: label !== undefined },
    display: shown.status,
    displaySince: shown.since,
    refusal: refusal ?? null,
  };
}
