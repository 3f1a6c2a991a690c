// Which enterprise projects a call reaches (huawei-cdn-api.md §1, `enterprise_project_id`): one named
// project, which must be the account's (else CDN.0001) and one where the caller's policies allow the
// call's action (else CDN.0020); or, when the value is empty, `all` or absent, every project where they
// allow it. Quotas are the account's, never a project's.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { listProjects } from '../store/repositories/identity-repository.js';
import { badParameter } from '../errors.js';
import type { Call } from './iam/call.js';

/** The default project: every account has it, without a row. */
export const DEFAULT_PROJECT = '0';

/** The projects a listing covers; undefined: every project (no filter at all). */
export type ProjectFilter = readonly string[] | undefined;

const meansAll = (asked: string | undefined): asked is undefined | '' | 'all' => asked === undefined || asked === '' || asked === 'all';

/** The one project named, once checked; undefined when the value means every project. */
export async function askedProject(db: Kysely<Database>, call: Call, asked: string | undefined): Promise<string | undefined> {
  if (meansAll(asked)) return undefined;
  if (asked !== DEFAULT_PROJECT && !(await listProjects(db, call.accountId)).some((p) => p.id === asked)) {
    throw badParameter(`enterprise_project_id: no enterprise project '${asked.slice(0, 64)}' in this account`);
  }
  call.check({ project: asked });
  return asked;
}

/**
 * The projects a listing covers: the one asked for, or those of the account where the caller may
 * perform the call's action. No filter (undefined) when that is all of them, so that an administrator's
 * listing costs what it did before projects existed (and reads no project list).
 */
export async function projectsInScope(db: Kysely<Database>, call: Call, asked: string | undefined): Promise<ProjectFilter> {
  const one = await askedProject(db, call, asked);
  if (one !== undefined) return [one];
  if (call.permissions.administrator) return undefined;
  const all = [DEFAULT_PROJECT, ...(await listProjects(db, call.accountId)).map((p) => p.id)];
  const allowed = call.projectsAllowed(all);
  return allowed.length === all.length ? undefined : allowed;
}

/**
 * One object (a task) of `project`: missing when a project was asked for and it is another (the
 * object is not in what the caller looks at), else CDN.0020 unless the caller may act in its project.
 */
export function checkProjectOf(call: Call, project: string, asked: string | undefined, missing: () => Error): void {
  if (asked !== undefined && asked !== project) throw missing();
  call.check({ project });
}
