// Enterprise projects of an account: '0' (default) always there and never deleted, others added with a
// UUID and deleted only while no domain is in them and no group has a policy for them; moving a domain
// from one project to another.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import { listProjects, type Project } from '../../store/repositories/identity-repository.js';
import * as projects from '../../store/repositories/project-repository.js';
import { groupsUsingProject } from '../../store/repositories/group-repository.js';
import { findDomainByName, projectOf } from '../../store/repositories/domain-repository.js';
import { findAccountById } from '../../store/repositories/account-repository.js';
import { badParameter, forbidden, notFound } from '../../errors.js';
import type { Call } from './call.js';
import type { IdentityWriter } from './identity-writer.js';
import { checkName } from './names.js';

export interface ProjectView {
  id: string;
  name: string;
  description: string;
  created_at: number | null;
}

export const DEFAULT_PROJECT = '0';
const DEFAULT_NAME = 'default';

const view = (p: Project): ProjectView => ({ id: p.id, name: p.name, description: p.description, created_at: Number(p.created_at) });

export class ProjectService {
  constructor(private readonly writer: IdentityWriter) {}

  private get db(): Kysely<Database> {
    return this.writer.db;
  }

  async list(call: Call): Promise<ProjectView[]> {
    const account = await findAccountById(this.db, call.accountId);
    const first: ProjectView = { id: DEFAULT_PROJECT, name: DEFAULT_NAME, description: 'the default enterprise project', created_at: account ? Number(account.created_at) : null };
    return [first, ...(await listProjects(this.db, call.accountId)).map(view)];
  }

  async create(call: Call, input: { name: string; description?: string }): Promise<ProjectView> {
    checkName('enterprise project', input.name);
    if (input.name.toLowerCase() === DEFAULT_NAME) throw badParameter(`enterprise project name '${DEFAULT_NAME}' is the default project's`);
    const row: Project = { id: crypto.randomUUID(), account_id: call.accountId, name: input.name, description: input.description ?? '', created_at: Date.now() };
    await this.writer.write(
      call,
      `project/${row.id}`,
      async (trx) => {
        if (await projects.findProjectByName(trx, call.accountId, input.name)) throw badParameter(`enterprise project '${input.name}' exists`);
        await projects.insertProject(trx, row);
      },
      { identity: false },
    );
    return view(row);
  }

  async remove(call: Call, id: string): Promise<void> {
    if (id === DEFAULT_PROJECT) throw forbidden('the default enterprise project (0) cannot be deleted');
    await this.writer.write(
      call,
      `project/${id}`,
      async (trx) => {
        const project = await projects.findProject(trx, call.accountId, id);
        if (!project) throw notFound(`no enterprise project '${id.slice(0, 64)}'`);
        const domains = await projects.countDomainsInProject(trx, call.accountId, id);
        if (domains > 0) throw badParameter(`enterprise project '${project.name}' has ${domains} domain${domains === 1 ? '' : 's'}: move them first`);
        const groups = await groupsUsingProject(trx, call.accountId, id);
        if (groups.length > 0) throw badParameter(`enterprise project '${project.name}' has policies attached for it to group${groups.length === 1 ? '' : 's'} ${groups.join(', ')}: detach them first`);
        await projects.deleteProject(trx, id);
      },
      { identity: false },
    );
  }

  /** Moves a domain of the call's account to another of its projects ('0' or one that exists). */
  async moveDomain(call: Call, domainName: string, projectId: string): Promise<{ domain_name: string; enterprise_project_id: string; previous: string }> {
    const name = domainName.toLowerCase();
    return this.writer.write(
      call,
      `domain/${name}`,
      async (trx) => {
        const domain = await findDomainByName(trx, name);
        if (!domain || domain.account_id !== call.accountId) throw notFound(`no domain '${name.slice(0, 200)}'`);
        if (projectId !== DEFAULT_PROJECT && !(await projects.findProject(trx, call.accountId, projectId))) {
          throw badParameter(`enterprise_project_id: no enterprise project '${projectId.slice(0, 64)}' in this account`);
        }
        await projects.setDomainProject(trx, domain.id, projectId);
        return { domain_name: name, enterprise_project_id: projectId, previous: projectOf(domain) };
      },
      { identity: false },
    );
  }
}
