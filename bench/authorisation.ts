// Section 8: what authorisation adds to a signed create call (issue 14: ≤ 0.2 ms p50 at 100 policies per
// account). One server, one built-in edge, SQLite synchronous=NORMAL: authorisation is CPU work done before
// the store is touched, and with a flush per call (FULL, one call at a time) the flush's spread buried
// it (p50s of the same calls 0.4 ms apart from run to run on a busy machine). The same 1-URL
// refresh create is sent one call at a time, alternately, by the account's administrator (a member of
// `admin`: no policy consulted) and by a sub-user of the same account whose account holds 100 custom
// policies, all attached to its four groups, each with three statements over other domains and projects;
// one statement of the last policy allows the call. Both callers sign with an access key and write the
// same task and audit row, so the p50 difference is the coarse check before the body and the fine check
// on the URL's domain. The sub-user and its policies are written into the store beside the running server,
// as the management API would write them. `node dist/bench/authorisation-main.js` runs it alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ACTIONS } from '../src/services/iam/actions.js';
import { Permissions, type Grant } from '../src/services/iam/permissions.js';
import { parsePolicyDocument } from '../src/services/iam/policy-document.js';
import { findAccountByName } from '../src/store/repositories/account-repository.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { addGroup, addPolicy, addUser, attach } from '../test/support/iam-fixtures.js';
import { SignedClient } from './client.js';
import { addOnlineDomain } from './domain.js';
import { info, row, type Row } from './report.js';
import { startServerChild } from './server-process.js';
import type { Summary } from './stats.js';
import { comparePaired, pairedConfig, type PairedConfig } from './paired-calls.js';

const DOMAIN = 'bench-authz.example.com';
const POLICIES = 100;
const GROUPS = 4;
const BOUND_MS = 0.2;

export type AuthorisationConfig = PairedConfig;

export function authorisationConfig(quick: boolean): AuthorisationConfig {
  return pairedConfig('BENCH_AUTHZ_CALLS', quick);
}

export interface AuthorisationResult {
  policies: number;
  statements: number;
  admin: Summary;
  subUser: Summary;
  /** p50 of the sub-user's calls minus p50 of the administrator's. */
  addedP50Ms: number;
  errors: number;
  /** Median over call pairs of (sub-user − admin): the shift, less sensitive to a busy machine. */
  pairedP50Ms: number;
  /** The same checks in this process, on the same documents: microseconds per call (coarse + fine). */
  checkUs: { repeated: number; firstSight: number };
}

/** Policy i: refresh and preheat on its own site, its queries in its own project, a Deny on a private host. */
function policyDocument(i: number): unknown {
  const site = i === POLICIES - 1 ? DOMAIN : `site${i}.example.com`;
  return {
    Version: '1.1',
    Statement: [
      { Effect: 'Allow', Action: ['cdn:configuration:refreshCache', 'cdn:configuration:preheatCache'], Resource: [`CDN:*:*:domain:${site}`, `CDN:*:*:domain:*.${site}`] },
      { Effect: 'Allow', Action: ['cdn:configuration:query*'], Condition: { StringEquals: { 'g:EnterpriseProjectId': [`project-${i}`, '0'] } } },
      { Effect: 'Deny', Action: ['cdn:configuration:refreshCache', 'cdn:configuration:deleteDomains'], Resource: [`CDN:*:*:domain:private.site${i}.example.com`] },
    ],
  };
}

/** The sub-user, its groups and the account's 100 policies, written into the server's store. */
async function seedSubUser(dbFile: string, accountName: string): Promise<{ accessKey: string; secretKey: string }> {
  const db = openSqlite({ file: dbFile, synchronous: 'NORMAL' });
  try {
    const account = await findAccountByName(db, accountName);
    if (!account) throw new Error(`no account ${accountName}`);
    const iam = { db };
    const groups: string[] = [];
    for (let g = 0; g < GROUPS; g++) groups.push(await addGroup(iam, account.id, `purgers-${g}`));
    for (let i = 0; i < POLICIES; i++) await attach(iam, account.id, groups[i % GROUPS], await addPolicy(iam, account.id, `policy-${i}`, policyDocument(i)));
    return await addUser(iam, account.id, { name: 'ci', groups });
  } finally {
    await db.destroy();
  }
}

/**
 * Microseconds per (coarse + fine) check of the create call, on Permissions compiled from the same
 * documents: for a domain seen before (the verdict is remembered) and for one seen first (evaluated).
 */
function inProcessCheckUs(): { repeated: number; firstSight: number } {
  const grants: Grant[] = Array.from({ length: POLICIES }, (_, i) => ({ document: parsePolicyDocument(policyDocument(i)), project: '*' }));
  const permissions = Permissions.of(grants);
  const check = (domain: string) => permissions.decide(ACTIONS.refreshCache) === 'allow' && permissions.decide(ACTIONS.refreshCache, { domain, project: '0' }) === 'allow';
  const usPer = (rounds: number, domainOf: (i: number) => string) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) if (!check(domainOf(i))) throw new Error(`the policies do not allow the call on ${domainOf(i)}`);
    return Math.round((Number(process.hrtime.bigint() - start) / 1e3 / rounds) * 100) / 100;
  };
  usPer(1000, () => DOMAIN);
  return { repeated: usPer(100_000, () => DOMAIN), firstSight: usPer(20_000, (i) => `h${i}.${DOMAIN}`) };
}

export async function runAuthorisationSection(cfg: AuthorisationConfig, log: (line: string) => void): Promise<AuthorisationResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-bench-authz-'));
  const dataDir = path.join(tmp, 'data');
  const server = await startServerChild({ dataDir, edges: 1, extraArgs: ['--sqlite-sync', 'NORMAL'] });
  const creds = server.credentials;
  const admin = new SignedClient(server.api, { accessKey: creds.access_key, secretKey: creds.secret_key }, 1);
  let sub: SignedClient | undefined;
  try {
    await admin.ok('PUT', `/cachectl/v1/accounts/${encodeURIComponent(creds.account)}/quotas`, { body: { file_refresh: 1e9, dir_refresh: 1e9, preheat: 1e9 } });
    await addOnlineDomain(admin, DOMAIN, 9);
    const key = await seedSubUser(path.join(dataDir, 'cachectl.db'), creds.account);
    sub = new SignedClient(server.api, key, 1);
    // The server drops its cached identities within 250 ms of the change (its identity watch).
    for (let i = 0; ; i++) {
      const r = await sub.call('GET', '/v1.0/cdn/historytasks');
      if (r.status === 200) break;
      if (i > 100) throw new Error(`the sub-user is refused: ${r.status} ${r.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    log(`8. authorisation: ${cfg.calls} + ${cfg.calls} signed 1-URL creates, one at a time, alternately by the admin and a sub-user with ${POLICIES} policies (${POLICIES * 3} statements) in ${GROUPS} groups`);
    const paired = await comparePaired(cfg, admin, sub, (side, i) => `http://${DOMAIN}/authz/${side === 'base' ? 'admin' : 'sub'}/${i}.js`);
    const { base: adminSummary, other: subSummary, errors } = paired;
    const checkUs = inProcessCheckUs();
    const result: AuthorisationResult = {
      policies: POLICIES,
      statements: POLICIES * 3,
      admin: adminSummary,
      subUser: subSummary,
      addedP50Ms: paired.addedP50Ms,
      pairedP50Ms: paired.pairedP50Ms,
      errors,
      checkUs,
    };
    log(`   admin p50 ${adminSummary.p50} ms, sub-user p50 ${subSummary.p50} ms: ${result.addedP50Ms >= 0 ? '+' : ''}${result.addedP50Ms} ms (paired ${result.pairedP50Ms} ms); in-process checks ${checkUs.repeated} µs per call (${checkUs.firstSight} µs on a new domain); errors ${errors}`);
    return result;
  } finally {
    await admin.close();
    await sub?.close();
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function authorisationRows(r: AuthorisationResult): Row[] {
  const s = '8. authorisation';
  return [
    row(s, `signed 1-URL create p50, admin (${r.admin.n} calls)`, r.admin.p50, 'ms'),
    row(s, `same call p50, sub-user, ${r.policies} policies (${r.subUser.n} calls)`, r.subUser.p50, 'ms'),
    row(s, 'authorisation added p50 (sub-user − admin)', r.addedP50Ms, 'ms', { op: '<=', limit: BOUND_MS }, 3),
    info(s, '  p99 admin / sub-user', `${r.admin.p99.toFixed(2)} / ${r.subUser.p99.toFixed(2)} ms`),
    info(s, '  median of per-pair differences', `${r.pairedP50Ms.toFixed(3)} ms`),
    info(s, '  policy checks in-process (coarse + fine)', `${r.checkUs.repeated} µs per call; ${r.checkUs.firstSight} µs on a domain seen first (${r.statements} statements)`),
    info(s, '  errors', String(r.errors)),
  ];
}
