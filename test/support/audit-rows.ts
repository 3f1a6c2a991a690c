// The audit trail as the store holds it, for tests that compare it with the calls they made.
import type { RunningServer } from '../../src/server.js';

/** The audit rows of the server's store, oldest first. */
export async function auditRows(server: RunningServer) {
  return server.store.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
}
