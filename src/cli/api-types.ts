// The API's answers as the client commands read them, derived from the routes' TypeBox schemas (and,
// where a route has no response schema, from the presenter or service that builds the answer), so a
// change to the API shows up here as a type error rather than as a silently wrong table.
import type { Static } from '@sinclair/typebox';
import type { TaskObject as TaskSchema } from '../api/task-schema.js';
import type { TaskDetail as TaskDetailSchema, TaskList as TaskListSchema, UrlObject as UrlSchema, UrlTaskList as UrlTaskListSchema } from '../api/routes/history-routes.js';
import type { QuotaList as QuotaListSchema } from '../api/routes/quota-routes.js';
import type { PreheatBody, PreheatCreated, RefreshBody, RefreshCreated } from '../api/routes/task-create-routes.js';
import type { domainObject } from '../api/presenters.js';
import type { NodeView } from '../services/node-service.js';
import type { UserView } from '../services/iam/user-service.js';
import type { AttachmentView, GroupView } from '../services/iam/group-service.js';
import type { PolicyView } from '../services/iam/policy-service.js';
import type { ProjectView } from '../services/iam/project-service.js';
import type { KeyView, NewKey } from '../services/iam/key-service.js';
import type { AuditObject } from '../services/audit-service.js';

export type TaskObject = Static<typeof TaskSchema>;
export type TaskList = Static<typeof TaskListSchema>;
export type TaskDetail = Static<typeof TaskDetailSchema>;
export type UrlObject = Static<typeof UrlSchema>;
export type UrlTaskList = Static<typeof UrlTaskListSchema>;
export type QuotaList = Static<typeof QuotaListSchema>;
export type RefreshRequest = Static<typeof RefreshBody>;
export type PreheatRequest = Static<typeof PreheatBody>;
export type TaskCreated = Static<typeof RefreshCreated> | Static<typeof PreheatCreated>;

/** GET /cachectl/v1/tasks/:id/wait (admin-routes.ts). */
export interface TaskWaited {
  done: boolean;
  task: TaskObject;
}

export type DomainObject = ReturnType<typeof domainObject>;
export type DomainSource = DomainObject['sources'][number];
export interface DomainList {
  total: number;
  domains: DomainObject[];
}

export type NodeObject = NodeView;

// cachectl's admin answers (admin-routes.ts) have no response schema; these follow its handlers.

/** GET /cachectl/v1/tasks/:id/nodes */
export interface TaskNodesPage {
  task_id: string;
  total: number;
  urls: Array<{ id: string; url: string; status: string; nodes: Array<{ node: string; ok: boolean; ms: number; attempts: number; detail?: string; classify?: string; error?: string }> }>;
}

export interface QuotaLimits {
  file_refresh: number;
  dir_refresh: number;
  preheat: number;
  domain: number;
}

export interface AccountCreated {
  account: { id: string; name: string };
  user: string;
  password: string;
  access_key: string;
  secret_key: string;
}

export interface AccountList {
  accounts: Array<{ id: string; name: string; admin: boolean; quotas: QuotaLimits; created_at: number }>;
}

export interface AccountDeleted {
  deleted: string;
  access_keys: string[];
}

// The identity routes (user-, group-, policy-, project- and key-routes.ts) answer the services' views.

export type KeyCreated = NewKey;

export interface KeyList {
  keys: KeyView[];
}

export type UserObject = UserView;
export type GroupObject = GroupView;
export type Attachment = AttachmentView;
export type PolicyObject = PolicyView;
export type ProjectObject = ProjectView;
/** GET /cachectl/v1/audit (audit-routes.ts). */
export interface AuditPage {
  events: AuditObject[];
  next_marker: string | null;
}

/** GET /cachectl/v1/tasks/:id (admin-routes.ts): the task with cachectl's own fields. */
export interface TaskOwnView {
  task: TaskObject & { enterprise_project_id: string; created_by: { user: string | null; access_key: string | null } };
}
