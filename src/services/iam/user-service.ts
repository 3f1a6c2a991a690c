// IAM users of an account: add (with groups), list, show, change (enable, password, description), delete.
// Disabling a user, changing its password or deleting it revokes its tokens at once.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import { findUser, insertUser, type User } from '../../store/repositories/account-repository.js';
import { ADMIN_GROUP, addMember } from '../../store/repositories/identity-repository.js';
import { findGroup, membershipNames } from '../../store/repositories/group-repository.js';
import * as users from '../../store/repositories/user-repository.js';
import { badParameter, forbidden, notFound } from '../../errors.js';
import { hashPassword, newSecret } from '../password-hash.js';
import type { Call } from './call.js';
import type { IdentityWriter } from './identity-writer.js';
import { isAdministrator, keepAnAdministrator, onlyAdministrators } from './admin-group.js';
import { checkName } from './names.js';

export interface UserView {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  groups: string[];
  created_at: number;
}

export interface NewUser {
  name: string;
  password?: string;
  description?: string;
  groups?: string[];
  enabled?: boolean;
}

export interface UserChange {
  enabled?: boolean;
  password?: string;
  description?: string;
}

const MIN_PASSWORD = 8;

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw badParameter(`password: at least ${MIN_PASSWORD} characters`);
}

const view = (u: User, groups: string[]): UserView => ({ id: u.id, name: u.name, description: u.description, enabled: u.enabled === 1, groups, created_at: Number(u.created_at) });

export class UserService {
  constructor(private readonly writer: IdentityWriter) {}

  private get db(): Kysely<Database> {
    return this.writer.db;
  }

  /** The user of this name in the call's account, or CDN.0003. */
  async find(call: Call, name: string, db: Kysely<Database> = this.db): Promise<User> {
    const user = await findUser(db, call.accountId, name);
    if (!user) throw notFound(`no user '${name.slice(0, 64)}'`);
    return user;
  }

  async list(call: Call): Promise<UserView[]> {
    const { groupsOf: groups } = await membershipNames(this.db, call.accountId);
    return (await users.listUsers(this.db, call.accountId)).map((u) => view(u, groups.get(u.id) ?? []));
  }

  async get(call: Call, name: string): Promise<UserView> {
    const user = await this.find(call, name);
    return view(user, (await membershipNames(this.db, call.accountId)).groupsOf.get(user.id) ?? []);
  }

  /** A new user; its password is returned only when generated here (shown once). */
  async create(call: Call, input: NewUser): Promise<{ user: UserView; password?: string }> {
    checkName('user', input.name);
    if (input.password !== undefined) checkPassword(input.password);
    const password = input.password ?? newSecret(18);
    const passwordHash = await hashPassword(password);
    const groupNames = [...new Set(input.groups ?? [])];
    const row: User = {
      id: crypto.randomBytes(16).toString('hex'),
      account_id: call.accountId,
      name: input.name,
      password_hash: passwordHash,
      created_at: Date.now(),
      enabled: input.enabled === false ? 0 : 1,
      description: input.description ?? '',
    };
    await this.writer.write(call, `user/${input.name}`, async (trx) => {
      if (await findUser(trx, call.accountId, input.name)) throw badParameter(`user '${input.name}' exists`);
      const groups = [];
      for (const g of groupNames) {
        const group = await findGroup(trx, call.accountId, g);
        if (!group) throw badParameter(`groups: no group '${g.slice(0, 64)}'`);
        if (group.name === ADMIN_GROUP) onlyAdministrators(call, `a new user in '${ADMIN_GROUP}'`);
        groups.push(group);
      }
      await insertUser(trx, row);
      for (const g of groups) await addMember(trx, g.id, row.id);
    });
    return { user: view(row, groupNames.sort()), ...(input.password === undefined && { password }) };
  }

  async update(call: Call, name: string, change: UserChange): Promise<UserView> {
    if (change.password !== undefined) checkPassword(change.password);
    const passwordHash = change.password === undefined ? undefined : await hashPassword(change.password);
    await this.writer.write(call, `user/${name}`, async (trx) => {
      const user = await this.find(call, name, trx);
      if (await isAdministrator(trx, call.accountId, user.id)) onlyAdministrators(call, `changing administrator '${name}'`);
      await users.updateUser(trx, user.id, {
        ...(change.enabled !== undefined && { enabled: change.enabled ? 1 : 0 }),
        ...(passwordHash !== undefined && { password_hash: passwordHash }),
        ...(change.description !== undefined && { description: change.description }),
      });
      if (change.enabled === false || passwordHash !== undefined) await users.deleteTokensOfUser(trx, user.id);
      if (change.enabled === false) await keepAnAdministrator(trx, call.accountId, `user '${name}' cannot be disabled`);
    });
    return this.get(call, name);
  }

  /** Deletes the user, its keys and tokens; returns the access keys it had. */
  async remove(call: Call, name: string): Promise<string[]> {
    return this.writer.write(call, `user/${name}`, async (trx) => {
      const user = await this.find(call, name, trx);
      if (user.id === call.actor.userId) throw forbidden('A user cannot delete itself.');
      if (await isAdministrator(trx, call.accountId, user.id)) onlyAdministrators(call, `deleting administrator '${name}'`);
      const keys = await users.deleteUser(trx, user.id);
      await keepAnAdministrator(trx, call.accountId, `user '${name}' cannot be deleted`);
      return keys;
    });
  }
}
