// The tables, typed once. Repositories take a Kysely<Database> (or a transaction) first, so the same
// functions run on SQLite and, later, PostgreSQL.
import type { Generated } from 'kysely';

export interface AccountTable {
  /** 32 lower-case hex characters: the "domain id" of Huawei IAM. */
  id: string;
  name: string;
  is_admin: number;
  /** Daily quotas; null means the server's default. */
  quota_file_refresh: number | null;
  quota_dir_refresh: number | null;
  quota_preheat: number | null;
  quota_domain: number | null;
  created_at: number;
}

export interface UserTable {
  id: string;
  account_id: string;
  name: string;
  password_hash: string;
  created_at: number;
  /** 0: the user may not sign in, and its keys and tokens are refused. */
  enabled: number;
  description: string;
}

/** A user group of an account; a user's permissions are the union of its groups' policies. */
export interface GroupTable {
  id: string;
  account_id: string;
  name: string;
  description: string;
  created_at: number;
}

export interface GroupMemberTable {
  group_id: string;
  user_id: string;
}

/** A custom policy of an account, in Huawei's JSON form (system policies live in the code). */
export interface PolicyTable {
  id: string;
  account_id: string;
  name: string;
  description: string;
  /** The policy document, as JSON text. */
  document: string;
  created_at: number;
}

/** A policy attached to a group, for every enterprise project ('*') or for one. */
export interface GroupPolicyTable {
  group_id: string;
  policy_id: string;
  project_id: string;
}

/** An enterprise project of an account; '0' (default) exists without a row. */
export interface ProjectTable {
  id: string;
  account_id: string;
  name: string;
  description: string;
  created_at: number;
}

/** Append-only record of a change or a login (huawei CTS-like). */
export interface AuditEventTable {
  id: Generated<number>;
  time: number;
  account_id: string | null;
  user_id: string | null;
  user_name: string | null;
  access_key: string | null;
  source_ip: string;
  user_agent: string;
  request_id: string;
  action: string;
  resource: string;
  status: number;
  error_code: string | null;
}

export interface AccessKeyTable {
  access_key: string;
  /** Kept in clear: HMAC verification needs it. Protect the data directory. */
  secret_key: string;
  account_id: string;
  user_id: string;
  description: string;
  created_at: number;
  /** 0: refused until enabled again. */
  enabled: number;
  /** Refused from this time on; null: never. */
  expires_at: number | null;
  /** Within a few seconds (uses are written in batches); null: never used. */
  last_used_at: number | null;
}

export interface TokenTable {
  /** sha256 of the token; the token itself is never stored. */
  digest: string;
  account_id: string;
  user_id: string;
  expires_at: number;
}

export interface DomainTable {
  id: string;
  account_id: string;
  name: string;
  business_type: string;
  service_area: string;
  /** online | offline | configuring | configure_failed */
  status: string;
  /** JSON array of SourceRecord. */
  sources: string;
  /** Why the domain is not online yet, when configuring. */
  status_detail: string;
  create_time: number;
  modify_time: number;
  /** cachectl's own: how long a prefetch may fill one object of this domain; null: the server's setting. */
  prefetch_timeout_ms?: number | null;
  /** The enterprise project the domain belongs to ('0': default). */
  enterprise_project_id?: string;
}

export interface TaskTable {
  id: Generated<number>;
  account_id: string;
  /** refresh | preheating */
  task_type: string;
  /** file | directory */
  file_type: string;
  /** all | detect_modify_refresh */
  mode: string;
  /** task_inprocess | task_done */
  status: string;
  total: number;
  processing: number;
  succeed: number;
  failed: number;
  create_time: number;
  /** The enterprise project of the task's domains ('0': default). */
  enterprise_project_id?: string;
  /** Who created it (cachectl's own views only): user id and name, and the access key if signed. */
  created_by_user_id?: string | null;
  created_by_user?: string | null;
  created_by_key?: string | null;
}

export interface TaskUrlTable {
  id: Generated<number>;
  task_id: number;
  account_id: string;
  /** The URL as the caller sent it (after zh_url_encode when asked). */
  url: string;
  /** Accelerated domain (lower case) and request target (path + query) the edges key on. */
  host: string;
  target: string;
  /** waiting | refreshing | preheating | succeed | failed */
  status: string;
  /** REFRESH | PREHEATING */
  task_type: string;
  file_type: string;
  mode: string;
  fail_classify: string | null;
  fail_desc: string | null;
  create_time: number;
  modify_time: number;
  /** The process working on the URL while it is in flight (several processes on one store). */
  lease_owner: string | null;
}

/** Processes that work URLs on a shared store, each alive until its row runs out. */
export interface WorkerTable {
  owner: string;
  alive_until: number;
}

export interface QuotaUsageTable {
  account_id: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** file_refresh | dir_refresh | preheat */
  type: string;
  used: number;
}

/** Derived: how many tasks per account, UTC day (epoch days) and filterable attributes. */
export interface TaskCountTable {
  account_id: string;
  day: number;
  task_type: string;
  file_type: string;
  status: string;
  n: number;
}

/** An edge node of the registry (configured data; built-in edges of the process are not stored). */
export interface EdgeNodeTable {
  name: string;
  driver: string;
  traffic_url: string;
  control_url: string;
  secret: string | null;
  /** JSON object of string labels. */
  labels: string;
  created_at: number;
  /** http | nats */
  transport: string;
  pop: string | null;
}

/** Requests per account, kind and second: rate limits shared by every process on the store. */
/** Per account and API class: the rate limit's theoretical arrival time in µs (api/rate-cell.ts). */
export interface RateCellTable {
  account_id: string;
  kind: string;
  tat: number;
}

/** Per URL: each node's result, as a JSON array (see engine/node-results.ts). */
export interface UrlNodeResultTable {
  url_id: number;
  results: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  accounts: AccountTable;
  users: UserTable;
  iam_groups: GroupTable;
  iam_group_members: GroupMemberTable;
  iam_policies: PolicyTable;
  iam_group_policies: GroupPolicyTable;
  projects: ProjectTable;
  audit_events: AuditEventTable;
  access_keys: AccessKeyTable;
  tokens: TokenTable;
  domains: DomainTable;
  tasks: TaskTable;
  task_urls: TaskUrlTable;
  quota_usage: QuotaUsageTable;
  task_counts: TaskCountTable;
  meta: MetaTable;
  edge_nodes: EdgeNodeTable;
  url_node_results: UrlNodeResultTable;
  rate_cells: RateCellTable;
  workers: WorkerTable;
}
