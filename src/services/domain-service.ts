// Accelerated domains (huawei-cdn-api.md §11): validation, state rules, and the push to the edges.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import * as domains from '../store/repositories/domain-repository.js';
import { projectOf, type DomainRow } from '../store/repositories/domain-repository.js';
import { insertAuditEvents } from '../store/repositories/audit-repository.js';
import { ACTIONS } from './iam/actions.js';
import { callOf, type Call } from './iam/call.js';
import type { DomainSync, SourceRecord } from '../engine/domain-sync.js';
import type { QuotaService } from './quota-service.js';
import { findAccountById } from '../store/repositories/account-repository.js';
import { isUniqueViolation } from '../store/unique-violation.js';
import { askedProject, DEFAULT_PROJECT, projectsInScope } from './project-scope.js';
import { claimsPublicSuffix, coveredEnding, coveringNames } from './domain-overlap.js';
import type { OriginPolicy } from './origin-policy.js';
import { parseSources, type SourceInput } from './domain-sources.js';
import {
  badParameter,
  businessTypeInvalid,
  domainExists,
  domainNameInvalid,
  domainNotDeletable,
  domainNotFound,
  domainQuotaReached,
  domainStateForbids,
  domainTakenByOther,
} from '../errors.js';

export interface DomainInput {
  domain_name: string;
  business_type: string;
  service_area?: string;
  sources: SourceInput[];
  enterprise_project_id?: string;
}

const BUSINESS_TYPES = ['web', 'download', 'video', 'wholeSite'];
const SERVICE_AREAS = ['mainland_china', 'outside_mainland_china', 'global'];
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const APPLYING = 'waiting for every edge node to apply it';

/** §11.1: letters, digits, '-' and '.', ≤200 characters, labels ≤63, no leading/trailing '-' or '.', '*' only as the first label. */
export function isValidDomainName(name: string): boolean {
  if (name.length === 0 || name.length > 200) return false;
  const labels = name.split('.');
  if (labels.length < 2) return false;
  return labels.every((l, i) => (i === 0 && l === '*') || LABEL.test(l));
}

/** The audit trail's name for a domain. */
export const domainResource = (name: string) => `domain/${name}`;

export class DomainService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sync: DomainSync,
    private readonly quotas: QuotaService,
    private readonly origins: OriginPolicy,
  ) {}

  async create(who: string | Call, input: DomainInput): Promise<DomainRow> {
    const call = callOf(who, ACTIONS.createDomains);
    const accountId = call.accountId;
    const name = input.domain_name.toLowerCase();
    const project = await this.projectForNew(call, input.enterprise_project_id);
    call.check({ domain: name, project });
    if (!isValidDomainName(name)) throw domainNameInvalid(`The domain name '${input.domain_name}' is not in a valid format.`);
    if (claimsPublicSuffix(name)) throw domainNameInvalid(`The domain name '${name}' is not in a valid format: it is a public suffix, or a wildcard directly under one.`);
    if (!BUSINESS_TYPES.includes(input.business_type)) throw businessTypeInvalid(`business_type must be one of ${BUSINESS_TYPES.join(', ')}`);
    const serviceArea = input.service_area ?? 'mainland_china';
    if (!SERVICE_AREAS.includes(serviceArea)) throw badParameter(`service_area must be one of ${SERVICE_AREAS.join(', ')}`);
    const sources = parseSources(name, input.sources);
    await this.checkPolicy(sources);
    const now = Date.now();
    const row: DomainRow = {
      id: crypto.randomBytes(16).toString('hex'),
      account_id: accountId,
      name,
      business_type: input.business_type,
      service_area: serviceArea,
      status: 'configuring',
      sources: JSON.stringify(sources),
      status_detail: APPLYING,
      create_time: now,
      modify_time: now,
      enterprise_project_id: project,
    };
    const taken = (owner: string) =>
      owner === accountId ? domainExists(`The domain name '${name}' already exists.`) : domainTakenByOther(`The domain name '${name}' has been added by another user.`);
    try {
      await this.insertUnderLock(call, row, taken);
    } catch (err) {
      // A row written past the lock (by hand, or by a process of an older version) still meets the
      // unique index: the caller gets the same answer as from the check, not an internal error.
      if (!isUniqueViolation(err)) throw err;
      const holder = await domains.findDomainByName(this.db, name);
      throw taken(holder?.account_id ?? accountId);
    }
    this.sync.request();
    return row;
  }

  /**
   * The checks and the insert in one transaction under the domain-names lock, so that two creates
   * at once cannot both pass the name, overlap or quota check (PostgreSQL; SQLite has one writer).
   */
  private async insertUnderLock(call: Call, row: DomainRow, taken: (owner: string) => Error): Promise<void> {
    const { name, account_id: accountId } = row;
    await this.db.transaction().execute(async (trx) => {
      await domains.lockDomainNames(trx);
      const existing = await domains.findDomainByName(trx, name);
      if (existing) throw taken(existing.account_id);
      // Within one account overlap is allowed (the most specific name serves a host); across accounts
      // it would hand one account's hosts, traffic and purges to another.
      const overlap = await domains.findOverlapOfOthers(trx, accountId, coveringNames(name), coveredEnding(name));
      if (overlap) throw domainTakenByOther(`The domain name '${name}' overlaps a domain name added by another user.`);
      const account = await findAccountById(trx, accountId);
      const limit = account ? this.quotas.limitsOf(account).domain : 0;
      if ((await domains.countDomains(trx, accountId)) >= limit) throw domainQuotaReached(`The number of domain names reached the upper limit (${limit}).`);
      await domains.insertDomain(trx, row);
      await insertAuditEvents(trx, call.auditRows(domainResource(name)));
    });
  }

  /** The allow-list check of every origin (CDN.0121 / CDN.0103); host names may be resolved. */
  private async checkPolicy(sources: SourceRecord[]): Promise<void> {
    for (const [i, s] of sources.entries()) await this.origins.check(`sources[${i}]`, s.origin_type, s.ip_or_domain);
  }

  /**
   * Replaces the origins of a domain of the caller's (v1 UpdateDomainOrigin, v1.1 UpdateDomainFullConfig
   * `sources`), checked as create checks them. An enabled domain goes back to `configuring` until every
   * node has applied the new set (it is served all along, by the old origins and then the new ones); a
   * disabled one stays `offline` and takes them when enabled. Cached objects stay: nodes key them by the
   * domain's host, not by its origin. Another account's domain is answered as missing (CDN.0105).
   */
  async updateOrigins(who: string | Call, id: string, inputs: unknown): Promise<DomainRow> {
    const call = callOf(who, ACTIONS.modifyOriginServerInfo);
    const accountId = call.accountId;
    const row = await this.get(call, id);
    const sources = parseSources(row.name, inputs);
    await this.checkPolicy(sources);
    const stored = JSON.stringify(sources);
    // The checks above may wait on DNS: write against the status read just now, so that a disable or
    // delete in between is neither undone nor hidden (read again and decide again).
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(call, id);
      const enabled = current.status !== 'offline';
      const set = enabled ? { sources: stored, status: 'configuring', status_detail: APPLYING, modify_time: Date.now() } : { sources: stored, modify_time: Date.now() };
      const done = await this.db.transaction().execute(async (trx) => {
        if (!(await domains.updateDomainIf(trx, id, current.status, set))) return false;
        await insertAuditEvents(trx, call.auditRows(domainResource(row.name)));
        return true;
      });
      if (done) break;
      if (attempt >= 5) throw domainStateForbids(`The domain '${row.name}' is changing state; try again.`);
    }
    this.sync.request();
    return this.get(accountId, id);
  }

  /** The caller's domain by id, once the caller's policies allow the call's action on it. */
  async get(who: string | Call, id: string): Promise<DomainRow> {
    const call = callOf(who, ACTIONS.queryDomains);
    const row = await domains.findDomain(this.db, call.accountId, id);
    if (!row) throw domainNotFound(`The accelerated domain '${id}' does not exist.`);
    call.check({ domain: row.name, project: projectOf(row) });
    return row;
  }

  /** By name (the v2 detail call): another account's domain is answered as missing, like an unknown one. */
  async getByName(who: string | Call, name: string): Promise<DomainRow> {
    const call = callOf(who, ACTIONS.queryDomains);
    const row = await domains.findDomainByName(this.db, name.toLowerCase());
    if (!row || row.account_id !== call.accountId) throw domainNotFound(`The accelerated domain '${name}' does not exist.`);
    call.check({ domain: row.name, project: projectOf(row) });
    return row;
  }

  /** The project a new domain goes to: the one named (it must exist), else the default '0'. */
  private async projectForNew(call: Call, asked: string | undefined): Promise<string> {
    if (asked === 'all') throw badParameter("enterprise_project_id: a domain is created in one enterprise project, not 'all'");
    return (await askedProject(this.db, call, asked)) ?? DEFAULT_PROJECT;
  }

  /**
   * ListDomains (§11.2): the domains of the projects in the caller's scope; when the caller's policies
   * name domains (`CDN:*:*:domain:*.static.example.com`), only those it may query, judged one by one as
   * the detail call judges one.
   */
  async list(who: string | Call, query: Omit<domains.DomainFilter, 'accountId' | 'projects'> & { project?: string }): Promise<{ total: number; rows: DomainRow[] }> {
    const call = callOf(who, ACTIONS.queryDomains);
    const { project, ...rest } = query;
    const filter = { ...rest, accountId: call.accountId, projects: await projectsInScope(this.db, call, project) };
    if (!call.permissions.dependsOnDomain(ACTIONS.queryDomains)) return domains.listDomains(this.db, filter);
    const visible = (await domains.listAllDomains(this.db, filter)).filter((r) => call.permissions.decide(ACTIONS.queryDomains, { domain: r.name, project: projectOf(r) }) === 'allow');
    return { total: visible.length, rows: visible.slice(filter.offset, filter.offset + filter.limit) };
  }

  async enable(who: string | Call, id: string): Promise<DomainRow> {
    const call = callOf(who, ACTIONS.enableDomains);
    const accountId = call.accountId;
    const row = await this.get(call, id);
    if (row.status !== 'offline') throw domainStateForbids(`Only a disabled (offline) domain can be enabled; it is ${row.status}.`);
    await this.changeAudited(call, row, (trx) => domains.updateDomain(trx, id, { status: 'configuring', status_detail: APPLYING, modify_time: Date.now() }));
    this.sync.request();
    return this.get(accountId, id);
  }

  async disable(who: string | Call, id: string): Promise<DomainRow> {
    const call = callOf(who, ACTIONS.disableDomains);
    const accountId = call.accountId;
    const row = await this.get(call, id);
    if (row.status !== 'online' && row.status !== 'configuring') throw domainStateForbids(`Only an online domain can be disabled; it is ${row.status}.`);
    await this.changeAudited(call, row, (trx) => domains.updateDomain(trx, id, { status: 'offline', status_detail: '', modify_time: Date.now() }));
    this.sync.request();
    return this.get(accountId, id);
  }

  /** A change of the domain and the call's audit row, in one transaction. */
  private changeAudited(call: Call, row: DomainRow, change: (trx: Kysely<Database>) => Promise<unknown>): Promise<void> {
    return this.db.transaction().execute(async (trx) => {
      await change(trx);
      await insertAuditEvents(trx, call.auditRows(domainResource(row.name)));
    });
  }

  /** Deletes a disabled or failed domain; answers the row as it was stored. */
  async remove(who: string | Call, id: string): Promise<DomainRow> {
    const call = callOf(who, ACTIONS.deleteDomains);
    const row = await this.get(call, id);
    if (row.status !== 'offline' && row.status !== 'configure_failed') throw domainNotDeletable('Only disabled domains or domains that failed to be configured can be deleted.');
    await this.changeAudited(call, row, (trx) => domains.deleteDomain(trx, id));
    this.sync.request();
    return row;
  }
}
