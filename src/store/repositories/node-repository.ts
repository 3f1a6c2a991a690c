// The edge node registry, and each URL's per-node results.
import type { Kysely, Selectable } from 'kysely';
import type { Database, EdgeNodeTable } from '../database.js';
import { yieldToEventLoop } from '../event-loop-yield.js';

export type EdgeNodeRow = Selectable<EdgeNodeTable>;

const INSERT_CHUNK = 400;

export async function listNodes(db: Kysely<Database>): Promise<EdgeNodeRow[]> {
  return db.selectFrom('edge_nodes').selectAll().orderBy('name').execute();
}

export async function insertNode(db: Kysely<Database>, row: EdgeNodeRow): Promise<void> {
  await db.insertInto('edge_nodes').values(row).execute();
}

/** true when a node of that name was there. */
export async function deleteNode(db: Kysely<Database>, name: string): Promise<boolean> {
  const r = await db.deleteFrom('edge_nodes').where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function insertNodeResults(db: Kysely<Database>, rows: Array<{ url_id: number; results: string }>): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    // On SQLite each statement runs on the event loop: let others in between chunks.
    if (i > 0) await yieldToEventLoop();
    await db.insertInto('url_node_results').values(rows.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.column('url_id').doUpdateSet((eb) => ({ results: eb.ref('excluded.results') })))
      .execute();
  }
}

export async function nodeResultsOf(db: Kysely<Database>, urlIds: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let i = 0; i < urlIds.length; i += INSERT_CHUNK) {
    const rows = await db.selectFrom('url_node_results').selectAll().where('url_id', 'in', urlIds.slice(i, i + INSERT_CHUNK)).execute();
    for (const r of rows) out.set(Number(r.url_id), r.results);
  }
  return out;
}
