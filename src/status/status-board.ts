import { EventEmitter } from 'node:events';

/**
 * The light of one component: red = broken or needs the admin, orange = starting or
 * reconnecting, green = working, off = not configured (nothing to do).
 */
export type Light = 'red' | 'orange' | 'green' | 'off';

/** What the Status page shows for one component. */
export interface ComponentStatus {
  id: string;
  name: string;
  light: Light;
  /** One line for the admin: what is wrong, or what is connected. Never a secret. */
  detail: string;
  since: number;
}

/**
 * The status of every component (database, AMI, ARI, FastAGI, each bot...). Components
 * report changes; the Status page, /health and the SSE stream read from here.
 * Emits `change` with the ComponentStatus whenever a light or detail changes.
 */
export class StatusBoard extends EventEmitter {
  private readonly components = new Map<string, ComponentStatus>();

  constructor(private readonly now: () => number = Date.now) {
    super();
    this.setMaxListeners(0);
  }

  /** Sets a component's light and detail; emits `change` only when something changed. */
  set(id: string, name: string, light: Light, detail: string): void {
    const old = this.components.get(id);
    if (old && old.light === light && old.detail === detail && old.name === name) return;
    const status: ComponentStatus = { id, name, light, detail, since: old && old.light === light ? old.since : this.now() };
    this.components.set(id, status);
    this.emit('change', status);
  }

  /** Removes a component (e.g. a bot that was deleted). */
  remove(id: string): void {
    if (this.components.delete(id)) this.emit('removed', id);
  }

  get(id: string): ComponentStatus | undefined {
    return this.components.get(id);
  }

  /** Every component, in the order they first reported. */
  list(): ComponentStatus[] {
    return [...this.components.values()];
  }
}
