// Settings the store keeps about itself.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';

/**
 * This database's identity, made on first use: several processes on one database share it, and a new
 * database gets a new one. URL ids repeat across databases; the id makes refs unique beyond one.
 */
export async function deploymentId(db: Kysely<Database>): Promise<string> {
  const fresh = randomBytes(8).toString('hex');
  // Several processes may start at once: the first insert wins, everyone reads what was stored.
  await db.insertInto('meta').values({ key: 'deployment_id', value: fresh }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await db.selectFrom('meta').select('value').where('key', '=', 'deployment_id').executeTakeFirstOrThrow();
  return row.value;
}
