// Schema migrations, written with Kysely's schema builder so that each dialect gets its own DDL.
// Never edit a released migration: add a new one.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

// Names the identity migration writes; fixed forever (a migration is never edited).
const ADMIN_GROUP = 'admin';
const CDN_ADMINISTRATOR_ID = 'system:cdn-administrator';

export type DialectName = 'sqlite' | 'postgres';

function migrations(dialect: DialectName): Record<string, Migration> {
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    '0001_initial': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('accounts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('quota_file_refresh', 'integer')
          .addColumn('quota_dir_refresh', 'integer')
          .addColumn('quota_preheat', 'integer')
          .addColumn('quota_domain', 'integer')
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addUniqueConstraint('users_account_name', ['account_id', 'name'])
          .execute();
        await db.schema
          .createTable('access_keys')
          .addColumn('access_key', 'text', (c) => c.primaryKey())
          .addColumn('secret_key', 'text', (c) => c.notNull())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('tokens')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('expires_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('domains')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('business_type', 'text', (c) => c.notNull())
          .addColumn('service_area', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('sources', 'text', (c) => c.notNull())
          .addColumn('status_detail', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('create_time', bigint, (c) => c.notNull())
          .addColumn('modify_time', bigint, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('domains_account').on('domains').columns(['account_id', 'create_time']).execute();

        await db.schema
          .createTable('tasks')
          .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('task_type', 'text', (c) => c.notNull())
          .addColumn('file_type', 'text', (c) => c.notNull())
          .addColumn('mode', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('total', 'integer', (c) => c.notNull())
          .addColumn('processing', 'integer', (c) => c.notNull())
          .addColumn('succeed', 'integer', (c) => c.notNull())
          .addColumn('failed', 'integer', (c) => c.notNull())
          .addColumn('create_time', bigint, (c) => c.notNull())
          .execute();
        // History: one index per sortable field, so that a page of 30 never sorts the account's whole
        // history. Each carries the filter columns, so a filter is checked inside the index (also one
        // that matches few rows early in the order, like directories sorted by failures), and no
        // separate per-filter index costs every insert.
        const filters = ['task_type', 'file_type', 'status'];
        const taskIndexes: Record<string, string[]> = {
          tasks_by_time: ['account_id', 'create_time', ...filters],
          tasks_by_total: ['account_id', 'total', 'create_time', ...filters],
          tasks_by_processing: ['account_id', 'processing', 'create_time', ...filters],
          tasks_by_succeed: ['account_id', 'succeed', 'create_time', ...filters],
          tasks_by_failed: ['account_id', 'failed', 'create_time', ...filters],
        };
        for (const [name, columns] of Object.entries(taskIndexes)) await db.schema.createIndex(name).on('tasks').columns(columns).execute();

        await db.schema
          .createTable('task_urls')
          .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('task_id', bigint, (c) => c.notNull())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('task_type', 'text', (c) => c.notNull())
          .addColumn('file_type', 'text', (c) => c.notNull())
          .addColumn('mode', 'text', (c) => c.notNull())
          .addColumn('fail_classify', 'text')
          .addColumn('fail_desc', 'text')
          .addColumn('create_time', bigint, (c) => c.notNull())
          .addColumn('modify_time', bigint, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('task_urls_by_task').on('task_urls').columns(['task_id', 'id']).execute();
        await db.schema.createIndex('task_urls_by_time').on('task_urls').columns(['account_id', 'create_time']).execute();
        await db.schema.createIndex('task_urls_by_url').on('task_urls').columns(['account_id', 'url', 'create_time']).execute();
        // Recovery after a crash reads only the URLs still in flight.
        await db.schema
          .createIndex('task_urls_in_flight')
          .on('task_urls')
          .column('id')
          .where(sql.ref('status'), 'in', ['waiting', 'refreshing', 'preheating'])
          .execute();

        await db.schema
          .createTable('quota_usage')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('used', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('quota_usage_pk', ['account_id', 'day', 'type'])
          .execute();
        await db.schema
          .createTable('meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0002_task_counts': {
      async up(db: Kysely<any>) {
        // Per account, UTC day and filterable attributes: how many tasks. ShowHistoryTasks must answer
        // the exact `total` of a filter; counting a million index entries takes ~100 ms, summing these
        // cells takes microseconds (see countTasks).
        await db.schema
          .createTable('task_counts')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('day', 'integer', (c) => c.notNull())
          .addColumn('task_type', 'text', (c) => c.notNull())
          .addColumn('file_type', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('n', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('task_counts_pk', ['account_id', 'day', 'task_type', 'file_type', 'status'])
          .execute();
        await rebuildTaskCounts(db);
      },
    },
    '0003_edge_nodes': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('edge_nodes')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('driver', 'text', (c) => c.notNull())
          .addColumn('traffic_url', 'text', (c) => c.notNull())
          .addColumn('control_url', 'text', (c) => c.notNull())
          .addColumn('secret', 'text')
          .addColumn('labels', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('created_at', bigint, (c) => c.notNull())
          .execute();
        // One row per URL (not per URL and node): a single insert per outcome batch keeps the write cost flat.
        await db.schema
          .createTable('url_node_results')
          .addColumn('url_id', bigint, (c) => c.primaryKey())
          .addColumn('results', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0004_scale_out': {
      async up(db: Kysely<any>) {
        // Work claiming when several processes share the store: a URL in flight is worked on by the
        // process named in lease_owner while that process is alive in `workers` (it renews its own
        // row, not each URL's); when its row runs out, any process may take its URLs.
        await db.schema.alterTable('task_urls').addColumn('lease_owner', 'text').execute();
        await db.schema
          .createTable('workers')
          .addColumn('owner', 'text', (c) => c.primaryKey())
          .addColumn('alive_until', bigint, (c) => c.notNull())
          .execute();
        await db.schema.alterTable('edge_nodes').addColumn('transport', 'text', (c) => c.notNull().defaultTo('http')).execute();
        await db.schema.alterTable('edge_nodes').addColumn('pop', 'text').execute();
        // Per-account request counts per second, for rate limits that hold across processes.
        await db.schema
          .createTable('rate_windows')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('second', bigint, (c) => c.notNull())
          .addColumn('n', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('rate_windows_pk', ['account_id', 'kind', 'second'])
          .execute();
        // Claiming reads only unclaimed URLs, and reaping only claimed ones. PostgreSQL only: the
        // embedded default has one process and would just pay for the indexes on every insert.
        if (dialect === 'postgres') {
          await db.schema
            .createIndex('task_urls_unclaimed')
            .on('task_urls')
            .column('id')
            .where(sql<boolean>`status in ('waiting', 'refreshing', 'preheating') and lease_owner is null`)
            .execute();
          await db.schema
            .createIndex('task_urls_claimed')
            .on('task_urls')
            .column('lease_owner')
            .where(sql<boolean>`status in ('waiting', 'refreshing', 'preheating') and lease_owner is not null`)
            .execute();
        }
      },
    },
    '0005_rate_cells': {
      async up(db: Kysely<any>) {
        // Rate limits by GCRA (api/rate-cell.ts): one theoretical arrival time in µs per account and
        // class replaces the per-second counts, which allowed a burst on each side of a second.
        await db.schema.dropTable('rate_windows').execute();
        await db.schema
          .createTable('rate_cells')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('tat', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('rate_cells_pk', ['account_id', 'kind'])
          .execute();
      },
    },
    '0006_domain_prefetch_timeout': {
      async up(db: Kysely<any>) {
        // cachectl's own per-domain setting (not in Huawei's API): null takes --prefetch-timeout-ms.
        await db.schema.alterTable('domains').addColumn('prefetch_timeout_ms', 'integer').execute();
      },
    },
    '0007_identity': {
      async up(db: Kysely<any>) {
        // IAM users, groups, policies, enterprise projects and the audit trail (issue 14).
        await db.schema.alterTable('users').addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1)).execute();
        await db.schema.alterTable('users').addColumn('description', 'text', (c) => c.notNull().defaultTo('')).execute();
        await db.schema.alterTable('access_keys').addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1)).execute();
        await db.schema.alterTable('access_keys').addColumn('expires_at', bigint).execute();
        await db.schema.alterTable('access_keys').addColumn('last_used_at', bigint).execute();
        await db.schema.alterTable('domains').addColumn('enterprise_project_id', 'text', (c) => c.notNull().defaultTo('0')).execute();
        await db.schema.alterTable('tasks').addColumn('enterprise_project_id', 'text', (c) => c.notNull().defaultTo('0')).execute();
        await db.schema.alterTable('tasks').addColumn('created_by_user_id', 'text').execute();
        await db.schema.alterTable('tasks').addColumn('created_by_user', 'text').execute();
        await db.schema.alterTable('tasks').addColumn('created_by_key', 'text').execute();
        await db.schema
          .createTable('iam_groups')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addUniqueConstraint('iam_groups_account_name', ['account_id', 'name'])
          .execute();
        await db.schema
          .createTable('iam_group_members')
          .addColumn('group_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('iam_group_members_pk', ['group_id', 'user_id'])
          .execute();
        await db.schema.createIndex('iam_group_members_user').on('iam_group_members').column('user_id').execute();
        await db.schema
          .createTable('iam_policies')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addUniqueConstraint('iam_policies_account_name', ['account_id', 'name'])
          .execute();
        await db.schema
          .createTable('iam_group_policies')
          .addColumn('group_id', 'text', (c) => c.notNull())
          .addColumn('policy_id', 'text', (c) => c.notNull())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('iam_group_policies_pk', ['group_id', 'policy_id', 'project_id'])
          .execute();
        await db.schema
          .createTable('projects')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addUniqueConstraint('projects_account_name', ['account_id', 'name'])
          .execute();
        await db.schema
          .createTable('audit_events')
          .addColumn('id', serial, (c) => c.primaryKey())
          .addColumn('time', bigint, (c) => c.notNull())
          .addColumn('account_id', 'text')
          .addColumn('user_id', 'text')
          .addColumn('user_name', 'text')
          .addColumn('access_key', 'text')
          .addColumn('source_ip', 'text', (c) => c.notNull())
          .addColumn('user_agent', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('resource', 'text', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('error_code', 'text')
          .execute();
        await db.schema.createIndex('audit_events_account_time').on('audit_events').columns(['account_id', 'time']).execute();
        await db.schema.createIndex('audit_events_time').on('audit_events').column('time').execute();
        // Every existing account: an 'admin' group holding its users (each had every power), with the
        // CDN Administrator policy attached; their keys already name their user; domains go to project 0.
        const accounts = await db.selectFrom('accounts').select(['id', 'created_at']).execute();
        for (const a of accounts) {
          const groupId = randomBytes(16).toString('hex');
          await db.insertInto('iam_groups').values({ id: groupId, account_id: a.id, name: ADMIN_GROUP, description: 'account administrators', created_at: Number(a.created_at) }).execute();
          const users = await db.selectFrom('users').select('id').where('account_id', '=', a.id).execute();
          for (const u of users) await db.insertInto('iam_group_members').values({ group_id: groupId, user_id: u.id }).execute();
          await db.insertInto('iam_group_policies').values({ group_id: groupId, policy_id: CDN_ADMINISTRATOR_ID, project_id: '*' }).execute();
        }
      },
    },
  };
}

/** Recomputes task_counts from the tasks table (after a migration or a bulk load). */
export async function rebuildTaskCounts(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('task_counts').execute();
  await sql`insert into task_counts (account_id, day, task_type, file_type, status, n)
    select account_id, create_time / ${sql.lit(DAY_MS)}, task_type, file_type, status, count(*)
    from tasks group by account_id, create_time / ${sql.lit(DAY_MS)}, task_type, file_type, status`.execute(db);
}

export const DAY_MS = 86_400_000;

export function migrationProvider(dialect: DialectName): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
