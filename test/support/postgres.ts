// A fresh database on the test PostgreSQL (CACHECTL_TEST_POSTGRES_URL, default the local server),
// dropped afterwards.
import { createScratchDatabase } from '../../src/cluster/scratch-database.js';

export const TEST_POSTGRES = process.env.CACHECTL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function freshDatabase(server = TEST_POSTGRES): Promise<{ url: string; drop(): Promise<void> }> {
  return createScratchDatabase(server);
}
