// IAM user groups of an account: add, list, change, delete; members; the policies attached to a group,
// each for every enterprise project ('*') or for one. The `admin` group is neither renamed nor deleted.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import { ADMIN_GROUP, addMember, attachPolicy, insertGroup, type Group } from '../../store/repositories/identity-repository.js';
import * as groups from '../../store/repositories/group-repository.js';
import { findProject } from '../../store/repositories/project-repository.js';
import { findUser } from '../../store/repositories/account-repository.js';
import { badParameter, forbidden, notFound } from '../../errors.js';
import type { Call } from './call.js';
import type { IdentityWriter } from './identity-writer.js';
import type { PolicyService } from './policy-service.js';
import { keepAnAdministrator, onlyAdministrators } from './admin-group.js';
import { checkName } from './names.js';

export interface GroupView {
  id: string;
  name: string;
  description: string;
  members: string[];
  created_at: number;
}

export interface AttachmentView {
  policy: string;
  policy_id: string;
  type: 'system' | 'custom';
  enterprise_project_id: string;
}

/** Every project of the account. */
export const ALL_PROJECTS = '*';

const view = (g: Group, members: string[]): GroupView => ({ id: g.id, name: g.name, description: g.description, members, created_at: Number(g.created_at) });

export class GroupService {
  constructor(
    private readonly writer: IdentityWriter,
    private readonly policies: PolicyService,
  ) {}

  private get db(): Kysely<Database> {
    return this.writer.db;
  }

  async find(call: Call, name: string, db: Kysely<Database> = this.db): Promise<Group> {
    const group = await groups.findGroup(db, call.accountId, name);
    if (!group) throw notFound(`no group '${name.slice(0, 64)}'`);
    return group;
  }

  async list(call: Call): Promise<GroupView[]> {
    const { membersOf: members } = await groups.membershipNames(this.db, call.accountId);
    return (await groups.listGroups(this.db, call.accountId)).map((g) => view(g, members.get(g.id) ?? []));
  }

  async get(call: Call, name: string): Promise<GroupView> {
    const group = await this.find(call, name);
    return view(group, (await groups.membershipNames(this.db, call.accountId)).membersOf.get(group.id) ?? []);
  }

  async create(call: Call, input: { name: string; description?: string }): Promise<GroupView> {
    checkName('group', input.name);
    const row: Group = { id: crypto.randomBytes(16).toString('hex'), account_id: call.accountId, name: input.name, description: input.description ?? '', created_at: Date.now() };
    await this.writer.write(call, `group/${input.name}`, async (trx) => {
      if (await groups.findGroup(trx, call.accountId, input.name)) throw badParameter(`group '${input.name}' exists`);
      await insertGroup(trx, row);
    });
    return view(row, []);
  }

  async update(call: Call, name: string, change: { name?: string; description?: string }): Promise<GroupView> {
    const renamed = change.name !== undefined && change.name !== name;
    if (renamed) checkName('group', change.name!);
    await this.writer.write(call, `group/${name}`, async (trx) => {
      const group = await this.find(call, name, trx);
      if (renamed) {
        if (group.name === ADMIN_GROUP) throw forbidden(`the '${ADMIN_GROUP}' group cannot be renamed`);
        if (await groups.findGroup(trx, call.accountId, change.name!)) throw badParameter(`group '${change.name}' exists`);
      }
      await groups.updateGroup(trx, group.id, { ...(renamed && { name: change.name }), ...(change.description !== undefined && { description: change.description }) });
    });
    return this.get(call, renamed ? change.name! : name);
  }

  async remove(call: Call, name: string): Promise<void> {
    await this.writer.write(call, `group/${name}`, async (trx) => {
      const group = await this.find(call, name, trx);
      if (group.name === ADMIN_GROUP) throw forbidden(`the '${ADMIN_GROUP}' group cannot be deleted`);
      await groups.deleteGroup(trx, group.id);
    });
  }

  async addMember(call: Call, name: string, userName: string): Promise<GroupView> {
    await this.writer.write(call, `group/${name}`, async (trx) => {
      const group = await this.find(call, name, trx);
      if (group.name === ADMIN_GROUP) onlyAdministrators(call, `adding a member to '${ADMIN_GROUP}'`);
      const user = await findUser(trx, call.accountId, userName);
      if (!user) throw notFound(`no user '${userName.slice(0, 64)}'`);
      await addMember(trx, group.id, user.id);
    });
    return this.get(call, name);
  }

  async removeMember(call: Call, name: string, userName: string): Promise<GroupView> {
    await this.writer.write(call, `group/${name}`, async (trx) => {
      const group = await this.find(call, name, trx);
      if (group.name === ADMIN_GROUP) onlyAdministrators(call, `removing a member of '${ADMIN_GROUP}'`);
      const user = await findUser(trx, call.accountId, userName);
      if (!user || !(await groups.removeMember(trx, group.id, user.id))) throw notFound(`user '${userName.slice(0, 64)}' is not a member of group '${name}'`);
      await keepAnAdministrator(trx, call.accountId, `user '${userName}' cannot leave group '${name}'`);
    });
    return this.get(call, name);
  }

  async attachments(call: Call, name: string): Promise<AttachmentView[]> {
    const group = await this.find(call, name);
    const out: AttachmentView[] = [];
    for (const a of await groups.attachmentsOfGroup(this.db, group.id)) {
      const p = await this.policies.resolve(call, a.policy_id).catch(() => undefined);
      out.push({ policy: p?.name ?? a.policy_id, policy_id: a.policy_id, type: p?.type ?? 'custom', enterprise_project_id: a.project_id });
    }
    return out;
  }

  /** `project`: '*' (every project), '0' or a project of the account. */
  async attach(call: Call, name: string, policy: string, project = ALL_PROJECTS): Promise<AttachmentView[]> {
    await this.writer.write(call, `group/${name}`, async (trx) => {
      const group = await this.find(call, name, trx);
      if (group.name === ADMIN_GROUP) onlyAdministrators(call, `attaching a policy to '${ADMIN_GROUP}'`);
      const p = await this.policies.resolve(call, policy, trx);
      await this.checkProject(trx, call, project);
      await attachPolicy(trx, group.id, p.id, project);
    });
    return this.attachments(call, name);
  }

  async detach(call: Call, name: string, policy: string, project = ALL_PROJECTS): Promise<AttachmentView[]> {
    await this.writer.write(call, `group/${name}`, async (trx) => {
      const group = await this.find(call, name, trx);
      if (group.name === ADMIN_GROUP) onlyAdministrators(call, `detaching a policy from '${ADMIN_GROUP}'`);
      const p = await this.policies.resolve(call, policy, trx);
      if (!(await groups.detachPolicy(trx, group.id, p.id, project))) throw notFound(`policy '${p.name}' is not attached to group '${name}' for enterprise project '${project}'`);
    });
    return this.attachments(call, name);
  }

  private async checkProject(db: Kysely<Database>, call: Call, project: string): Promise<void> {
    if (project === ALL_PROJECTS || project === '0') return;
    if (!(await findProject(db, call.accountId, project))) throw badParameter(`enterprise_project_id: no enterprise project '${project.slice(0, 64)}' in this account`);
  }
}
