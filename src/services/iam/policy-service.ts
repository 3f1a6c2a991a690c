// Policies of an account: the system policies (read-only, in the code) and its custom ones, kept as
// Huawei's JSON documents, validated when written (CDN.0001 naming the defect). A custom policy still
// attached to a group is not deleted: the refusal names the groups to detach it from first.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import type { Policy } from '../../store/repositories/identity-repository.js';
import * as policies from '../../store/repositories/policy-repository.js';
import { groupsUsingPolicy } from '../../store/repositories/group-repository.js';
import { badParameter, forbidden, notFound } from '../../errors.js';
import type { Call } from './call.js';
import type { IdentityWriter } from './identity-writer.js';
import { parsePolicyDocument, policyJson } from './policy-document.js';
import { SYSTEM_POLICIES, systemPolicy, type SystemPolicy } from './system-policies.js';

export interface PolicyView {
  id: string;
  name: string;
  type: 'system' | 'custom';
  description: string;
  policy: Record<string, unknown>;
  created_at: number | null;
}

// Letters, digits, spaces and '_.-' (as the system policies' names); not a system policy's id form.
const POLICY_NAME = /^[A-Za-z0-9_.-][A-Za-z0-9 _.-]{0,63}$/;

const systemView = (p: SystemPolicy): PolicyView => ({ id: p.id, name: p.name, type: 'system', description: p.description, policy: policyJson(p.document), created_at: null });
const customView = (p: Policy): PolicyView => ({ id: p.id, name: p.name, type: 'custom', description: p.description, policy: JSON.parse(p.document) as Record<string, unknown>, created_at: Number(p.created_at) });

/** The document as stored: validated, then written back in Huawei's form. */
const documentText = (input: unknown): string => JSON.stringify(policyJson(parsePolicyDocument(input)));

export class PolicyService {
  constructor(private readonly writer: IdentityWriter) {}

  private get db(): Kysely<Database> {
    return this.writer.db;
  }

  /** A system policy (by id or name) or a custom one of the call's account (by name or id), or CDN.0003. */
  async resolve(call: Call, nameOrId: string, db: Kysely<Database> = this.db): Promise<PolicyView> {
    const system = systemPolicy(nameOrId);
    if (system) return systemView(system);
    const custom = await policies.findPolicy(db, call.accountId, nameOrId);
    if (!custom) throw notFound(`no policy '${nameOrId.slice(0, 64)}'`);
    return customView(custom);
  }

  async list(call: Call): Promise<PolicyView[]> {
    return [...SYSTEM_POLICIES.map(systemView), ...(await policies.listPolicies(this.db, call.accountId)).map(customView)];
  }

  async create(call: Call, input: { name: string; description?: string; policy: unknown }): Promise<PolicyView> {
    const name = input.name.trim();
    if (!POLICY_NAME.test(name)) throw badParameter(`policy name '${input.name.slice(0, 80)}': 1-64 letters, digits, spaces, '_', '.', '-'`);
    if (systemPolicy(name)) throw badParameter(`policy name '${name}' is a system policy's`);
    const row: Policy = { id: crypto.randomUUID(), account_id: call.accountId, name, description: input.description ?? '', document: documentText(input.policy), created_at: Date.now() };
    await this.writer.write(call, `policy/${name}`, async (trx) => {
      if (await policies.findPolicy(trx, call.accountId, name)) throw badParameter(`policy '${name}' exists`);
      await policies.insertPolicy(trx, row);
    });
    return customView(row);
  }

  async update(call: Call, nameOrId: string, change: { description?: string; policy?: unknown }): Promise<PolicyView> {
    const document = change.policy === undefined ? undefined : documentText(change.policy);
    const custom = await this.custom(call, nameOrId);
    await this.writer.write(call, `policy/${custom.name}`, async (trx) => {
      await policies.updatePolicy(trx, custom.id, { ...(document !== undefined && { document }), ...(change.description !== undefined && { description: change.description }) });
    });
    return this.resolve(call, custom.id);
  }

  async remove(call: Call, nameOrId: string): Promise<void> {
    const custom = await this.custom(call, nameOrId);
    await this.writer.write(call, `policy/${custom.name}`, async (trx) => {
      const used = await groupsUsingPolicy(trx, custom.id);
      if (used.length > 0) throw badParameter(`policy '${custom.name}' is attached to group${used.length === 1 ? '' : 's'} ${used.join(', ')}: detach it first`);
      await policies.deletePolicy(trx, custom.id);
    });
  }

  /** A custom policy of the account; a system one is read-only (CDN.0004). */
  private async custom(call: Call, nameOrId: string): Promise<Policy> {
    if (systemPolicy(nameOrId)) throw forbidden(`'${nameOrId}' is a system policy: it cannot be changed or deleted`);
    const custom = await policies.findPolicy(this.db, call.accountId, nameOrId);
    if (!custom) throw notFound(`no policy '${nameOrId.slice(0, 64)}'`);
    return custom;
  }
}
