import type { VersionedState } from '@grammyjs/conversations';
import type { Database } from '../../storage/database.js';

/**
 * Where /profit conversations keep their state between updates (table rp_conversations):
 * a user halfway through choosing a peer and an interval carries on after a restart.
 */
export function conversationStorage<S>(db: Database, now: () => number) {
  return {
    async read(key: string): Promise<VersionedState<S> | undefined> {
      const row = await db('rp_conversations').where({ key }).first('state');
      return row ? (JSON.parse(String(row.state)) as VersionedState<S>) : undefined;
    },
    async write(key: string, state: VersionedState<S>): Promise<void> {
      await db('rp_conversations').insert({ key, state: JSON.stringify(state), updated_at: now() }).onConflict('key').merge();
    },
    async delete(key: string): Promise<void> {
      await db('rp_conversations').where({ key }).delete();
    },
  };
}
