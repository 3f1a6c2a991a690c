// Tenants and their IAM users for the identity tests: an account made by the platform admin, users
// with a group of given policies and a key, password tokens, and unsigned calls.
import assert from 'node:assert/strict';
import { request } from 'undici';
import { client, type ApiResponse, type Call } from './signed-client.js';
import type { TestServer } from './test-server.js';

export interface Tenant {
  name: string;
  id: string;
  /** Signed with the key of the account's first user (a member of its `admin` group). */
  call: Call;
}

/** A new account, made by the platform admin; its first user is named 'admin'. */
export async function addTenant(ts: TestServer, name: string): Promise<Tenant> {
  const res = await ts.call('POST', '/cachectl/v1/accounts', { body: { name } });
  assert.equal(res.status, 200, res.text);
  return { name, id: res.json.account.id, call: client(ts.server.url, { accessKey: res.json.access_key, secretKey: res.json.secret_key }) };
}

export interface SubUser {
  name: string;
  password: string;
  accessKey: string;
  call: Call;
}

/**
 * A user of the tenant in a group of its own (`<user>-group`) with these policies attached (for every
 * project, or the one given), with a password and a key.
 */
export async function addUser(ts: TestServer, tenant: Call, name: string, policies: string[], project?: string): Promise<SubUser> {
  const group = `${name}-group`;
  const ok = (res: ApiResponse) => assert.equal(res.status, 200, res.text);
  ok(await tenant('POST', '/cachectl/v1/groups', { body: { name: group } }));
  for (const policy of policies) ok(await tenant('POST', `/cachectl/v1/groups/${group}/policies`, { body: { policy, ...(project && { enterprise_project_id: project }) } }));
  const password = `${name}-password-1`;
  ok(await tenant('POST', '/cachectl/v1/users', { body: { name, password, groups: [group] } }));
  const key = await tenant('POST', '/cachectl/v1/keys', { body: { user: name } });
  ok(key);
  return { name, password, accessKey: key.json.access_key, call: client(ts.server.url, { accessKey: key.json.access_key, secretKey: key.json.secret_key }) };
}

/** POST /v3/auth/tokens for a user of an account: the token, or the refusal's status. */
export async function login(ts: TestServer, account: string, user: string, password: string): Promise<{ status: number; token?: string }> {
  const res = await request(`${ts.server.url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: account } } } }, scope: { domain: { name: account } } } }),
  });
  await res.body.text();
  const token = res.headers['x-subject-token'];
  return { status: res.statusCode, ...(typeof token === 'string' && { token }) };
}

/** A call with an X-Auth-Token. */
export function withToken(ts: TestServer, token: string) {
  return async (method: string, path: string): Promise<{ status: number; json: any }> => {
    const res = await request(new URL(path, ts.server.url), { method: method as 'GET', headers: { 'x-auth-token': token } });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
  };
}

/** A call without credentials. */
export async function unsigned(ts: TestServer, method: string, path: string, body?: unknown): Promise<{ status: number; code?: string }> {
  const res = await request(new URL(path, ts.server.url), {
    method: method as 'GET',
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, code: text ? JSON.parse(text).error_code : undefined };
}

/** The account's identity as its administrator sees it: what a refused call must leave unchanged. */
export async function identitySnapshot(tenant: Call): Promise<string> {
  const parts = [];
  for (const path of ['/cachectl/v1/users', '/cachectl/v1/groups', '/cachectl/v1/policies', '/cachectl/v1/projects', '/cachectl/v1/keys']) {
    const res = await tenant('GET', path);
    assert.equal(res.status, 200, res.text);
    parts.push(res.json);
  }
  // last_used_at moves with every signed call; it is not part of the identity.
  return JSON.stringify(parts, (k, v) => (k === 'last_used_at' ? undefined : v));
}

/** The body of a domain create (its origin never asked: the tests purge, nothing is fetched). */
export const domainBody = (name: string, project?: string) => ({
  domain: { domain_name: name, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1 }], ...(project && { enterprise_project_id: project }) },
});
