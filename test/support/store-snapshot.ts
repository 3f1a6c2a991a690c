// What a refused call must leave as it was: every row a call could write (tasks, URLs, domains, quota use,
// identities, nodes, successful audit records) and every operation the built-in edges were asked for.
// Taken once the server is at rest (quiesce), so that earlier allowed calls cannot change it meanwhile.
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestServer } from './test-server.js';

const TABLES = [
  'tasks',
  'task_urls',
  'task_counts',
  'url_node_results',
  'quota_usage',
  'domains',
  'accounts',
  'users',
  'access_keys',
  'tokens',
  'iam_groups',
  'iam_group_members',
  'iam_policies',
  'iam_group_policies',
  'projects',
  'edge_nodes',
] as const;

/** Per table its row count and a digest of its rows; the edges' operation counters; successful audit rows. */
export type Snapshot = Record<string, string>;

export async function snapshot(s: TestServer): Promise<Snapshot> {
  const db = s.server.store.db;
  const out: Snapshot = {};
  for (const table of TABLES) {
    const rows = (await db.selectFrom(table).selectAll().execute()) as Array<Record<string, unknown>>;
    // A signed call notes its key's last use: that is not a change the call made.
    const kept = rows.map((r) => JSON.stringify(Object.entries(r).filter(([k]) => k !== 'last_used_at').map(([k, v]) => [k, String(v)]))).sort();
    out[table] = `${rows.length} rows ${crypto.createHash('sha256').update(kept.join('\n')).digest('hex').slice(0, 12)}`;
  }
  const audit = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '<', 400).executeTakeFirstOrThrow();
  out.audit_successes = String(audit.n);
  for (const edge of s.server.edges) {
    const res = await fetch(`${edge.controlUrl}/health`, { headers: { authorization: `Bearer ${edge.secret}` } });
    const health = (await res.json()) as { ops: Record<string, number>; domainPushes: number };
    out[`edge ${edge.name}`] = JSON.stringify({ ...health.ops, domainPushes: health.domainPushes });
  }
  return out;
}

/** Waits until no task is in process, no domain is being configured and no domain push is running (none is asked for). */
export async function quiesce(s: TestServer): Promise<void> {
  const db = s.server.store.db;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const open = await db.selectFrom('tasks').select('id').where('status', '=', 'task_inprocess').limit(1).execute();
    const configuring = await db.selectFrom('domains').select('id').where('status', '=', 'configuring').limit(1).execute();
    if (open.length === 0 && configuring.length === 0) break;
    if (Date.now() > deadline) throw new Error(`the server does not come to rest: ${open.length} task(s) in process, ${configuring.length} domain(s) configuring`);
    await sleep(20);
  }
  await s.server.domainSync.idle();
}
