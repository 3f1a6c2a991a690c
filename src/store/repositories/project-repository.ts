// Enterprise projects of an account (the default project '0' has no row) and the project of a domain.
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { Project } from './identity-repository.js';

export async function findProject(db: Kysely<Database>, accountId: string, id: string): Promise<Project | undefined> {
  return db.selectFrom('projects').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function findProjectByName(db: Kysely<Database>, accountId: string, name: string): Promise<Project | undefined> {
  return db.selectFrom('projects').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
}

export async function insertProject(db: Kysely<Database>, project: Project): Promise<void> {
  await db.insertInto('projects').values(project).execute();
}

export async function deleteProject(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('projects').where('id', '=', id).execute();
}

export async function countDomainsInProject(db: Kysely<Database>, accountId: string, projectId: string): Promise<number> {
  const r = await db.selectFrom('domains').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).where('enterprise_project_id', '=', projectId).executeTakeFirstOrThrow();
  return Number(r.n);
}

// The edges do not care which project a domain is in: nothing else changes, nothing is pushed.
export async function setDomainProject(db: Kysely<Database>, domainId: string, projectId: string): Promise<void> {
  await db.updateTable('domains').set({ enterprise_project_id: projectId }).where('id', '=', domainId).execute();
}
