// The store the API, service and engine tests run on: scripts/test.mjs runs them once per store, as
// Kysely runs its suite once per dialect, and says which through CACHECTL_TEST_STORE (default sqlite).
// A PostgreSQL run gives each server its own scratch database, dropped when the server closes.
import { freshDatabase } from './postgres.js';

export const STORES = ['sqlite', 'postgres'] as const;
export type TestStore = (typeof STORES)[number];

function storeFromEnv(): TestStore {
  const v = process.env.CACHECTL_TEST_STORE ?? 'sqlite';
  if (!(STORES as readonly string[]).includes(v)) throw new Error(`CACHECTL_TEST_STORE must be one of ${STORES.join(', ')} (got '${v}')`);
  return v as TestStore;
}

export const TEST_STORE: TestStore = storeFromEnv();

/** Server flags for the store under test (none on SQLite: the file in the data dir), and how to drop it. */
export async function storeFlags(): Promise<{ flags: Record<string, string>; drop(): Promise<void> }> {
  if (TEST_STORE === 'sqlite') return { flags: {}, drop: async () => undefined };
  const db = await freshDatabase();
  return { flags: { 'database-url': db.url }, drop: db.drop };
}

