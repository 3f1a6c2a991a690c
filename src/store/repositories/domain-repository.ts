// Accelerated domains and the version of the domain set pushed to the edges.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, DomainTable } from '../database.js';
import { isPostgres } from '../dialect-of.js';
import { prepared } from '../postgres/prepared-statements.js';

/** A domain as stored; rows written before cachectl's own settings existed (and new ones) may lack them. */
export type DomainRow = Omit<Selectable<DomainTable>, 'prefetch_timeout_ms' | 'enterprise_project_id'> & { prefetch_timeout_ms?: number | null; enterprise_project_id?: string };

/** The domain's enterprise project ('0', the default, for rows without one). */
export const projectOf = (row: Pick<DomainRow, 'enterprise_project_id'>): string => row.enterprise_project_id ?? '0';

export async function insertDomain(db: Kysely<Database>, row: DomainRow): Promise<void> {
  await db.insertInto('domains').values(row).execute();
}

export async function findDomainByName(db: Kysely<Database>, name: string): Promise<DomainRow | undefined> {
  return db.selectFrom('domains').selectAll().where('name', '=', name).executeTakeFirst();
}

/**
 * A domain of another account that overlaps a new name: one named in `covering` (it would cover the
 * name), or, for a wildcard, one whose name ends with `coveredEnding` (the wildcard would cover it).
 * Validated names hold no LIKE wildcards ('%', '_'), so the ending needs no escaping.
 */
export async function findOverlapOfOthers(db: Kysely<Database>, accountId: string, covering: string[], coveredEnding: string | null): Promise<DomainRow | undefined> {
  return db
    .selectFrom('domains')
    .selectAll()
    .where('account_id', '<>', accountId)
    .where((eb) => eb.or([eb('name', 'in', covering), ...(coveredEnding === null ? [] : [eb('name', 'like', `%${coveredEnding}`)])]))
    .orderBy('name')
    .limit(1)
    .executeTakeFirst();
}

/**
 * Serialises domain creation across processes sharing a PostgreSQL database until the caller's
 * transaction ends, so that two overlapping names cannot both pass their checks. SQLite needs nothing:
 * its writers are serialised already. Creating a domain is rare; one lock for all of them is enough.
 */
export async function lockDomainNames(db: Kysely<Database>): Promise<void> {
  if (isPostgres(db)) await sql`select pg_advisory_xact_lock(${DOMAIN_NAMES_LOCK}::bigint)`.execute(db);
}

/** An arbitrary constant of cachectl's own ('cdom' in ASCII), naming the lock above. */
const DOMAIN_NAMES_LOCK = 0x63646f6d;

export async function findDomainsByNames(db: Kysely<Database>, names: string[]): Promise<DomainRow[]> {
  if (names.length === 0) return [];
  // On every create: on PostgreSQL one prepared text, whatever the number of names.
  if (isPostgres(db)) return (await sql<DomainRow>`${prepared} select * from domains where name = any(${names}::text[])`.execute(db)).rows;
  return db.selectFrom('domains').selectAll().where('name', 'in', names).execute();
}

export async function findDomain(db: Kysely<Database>, accountId: string, id: string): Promise<DomainRow | undefined> {
  return db.selectFrom('domains').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
}

export interface DomainFilter {
  accountId: string;
  name?: string;
  exactMatch?: boolean;
  businessType?: string;
  status?: string;
  serviceArea?: string;
  limit: number;
  offset: number;
  /** The enterprise projects to show; undefined: every one. */
  projects?: readonly string[];
}

function filterDomains(db: Kysely<Database>, f: Omit<DomainFilter, 'limit' | 'offset'>) {
  let q = db.selectFrom('domains').where('account_id', '=', f.accountId);
  if (f.projects) q = q.where('enterprise_project_id', 'in', [...f.projects]);
  if (f.name !== undefined) {
    // Escape LIKE wildcards: a fuzzy match on a literal name.
    q = f.exactMatch ? q.where('name', '=', f.name) : q.where('name', 'like', `%${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (f.businessType) q = q.where('business_type', '=', f.businessType);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.serviceArea) q = q.where('service_area', '=', f.serviceArea);
  return q;
}

export async function listDomains(db: Kysely<Database>, f: DomainFilter): Promise<{ total: number; rows: DomainRow[] }> {
  if (f.projects?.length === 0) return { total: 0, rows: [] };
  const q = filterDomains(db, f);
  const { total } = await q.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy('create_time', 'desc').orderBy('id').limit(f.limit).offset(f.offset).execute();
  return { total: Number(total), rows };
}

/** Every domain matching the filter, in the listing's order (for a caller judged domain by domain). */
export async function listAllDomains(db: Kysely<Database>, f: Omit<DomainFilter, 'limit' | 'offset'>): Promise<DomainRow[]> {
  if (f.projects?.length === 0) return [];
  return filterDomains(db, f).selectAll().orderBy('create_time', 'desc').orderBy('id').execute();
}

export async function countDomains(db: Kysely<Database>, accountId: string): Promise<number> {
  const r = await db.selectFrom('domains').where('account_id', '=', accountId).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function updateDomain(db: Kysely<Database>, id: string, set: Partial<Pick<DomainRow, 'status' | 'status_detail' | 'modify_time'>>): Promise<void> {
  await db.updateTable('domains').set(set).where('id', '=', id).execute();
}

/** Updates the domain only while its status is still `status`; false when it is not (or is gone). */
export async function updateDomainIf(db: Kysely<Database>, id: string, status: string, set: Partial<Pick<DomainRow, 'sources' | 'status' | 'status_detail' | 'modify_time'>>): Promise<boolean> {
  const r = await db.updateTable('domains').set(set).where('id', '=', id).where('status', '=', status).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteDomain(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('domains').where('id', '=', id).execute();
}

/** Domains the edges must serve: every one that is not disabled. */
export async function listServedDomains(db: Kysely<Database>): Promise<DomainRow[]> {
  return db.selectFrom('domains').selectAll().where('status', 'in', ['online', 'configuring']).orderBy('name').execute();
}

export async function listConfiguringDomains(db: Kysely<Database>): Promise<DomainRow[]> {
  return db.selectFrom('domains').selectAll().where('status', '=', 'configuring').execute();
}

const DOMAIN_SET_KEY = 'domain_set';

/**
 * The deployment's version of the served domain set, given the digest of its content: the recorded
 * version when the digest is the recorded one, else that version + 1 (recorded with the new digest).
 * Every process on one database answers the same number for the same set, so none of them takes
 * another's push for a change; a push that fails changes nothing here. Compare-and-set, no lock.
 */
export async function domainSetVersion(db: Kysely<Database>, digest: string): Promise<number> {
  // Each round loses only to a process that recorded another digest meanwhile; a few rounds settle it.
  for (let round = 0; round < 20; round++) {
    const row = await db.selectFrom('meta').select('value').where('key', '=', DOMAIN_SET_KEY).executeTakeFirst();
    if (row === undefined) {
      // A new database: version 0 is no set; the first set recorded is version 1.
      await db.insertInto('meta').values({ key: DOMAIN_SET_KEY, value: '0 ' }).onConflict((oc) => oc.column('key').doNothing()).execute();
      continue;
    }
    const { value } = row;
    const space = value.indexOf(' ');
    const version = Number(value.slice(0, space));
    if (value.slice(space + 1) === digest) return version;
    const next = version + 1;
    const { numUpdatedRows } = await db.updateTable('meta').set({ value: `${next} ${digest}` }).where('key', '=', DOMAIN_SET_KEY).where('value', '=', value).executeTakeFirst();
    if (numUpdatedRows === 1n) return next;
  }
  throw new Error('the domain set version keeps changing under this process');
}

/** The domains that set their own prefetch timeout (cachectl's own setting), by name. */
export async function listPrefetchTimeouts(db: Kysely<Database>): Promise<Array<{ name: string; ms: number }>> {
  const rows = await db.selectFrom('domains').select(['name', 'prefetch_timeout_ms']).where('prefetch_timeout_ms', 'is not', null).execute();
  return rows.map((r) => ({ name: r.name, ms: Number(r.prefetch_timeout_ms) }));
}

export async function setPrefetchTimeout(db: Kysely<Database>, id: string, ms: number | null): Promise<void> {
  await db.updateTable('domains').set({ prefetch_timeout_ms: ms }).where('id', '=', id).execute();
}
