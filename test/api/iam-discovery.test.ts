// The IAM calls tools make before a CDN call when given a region (issue 12, item 14;
// docs/huawei-iam-discovery.md): GET /v3/projects?name=<region> and GET /v3/auth/catalog, signed the
// way each client signs them, or with a token; refused without credentials; one account's ids only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { signRequest } from '../../src/signing/sdk-signature.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import type { ApiKey } from '../support/signed-client.js';

let s: TestServer;
let other: ApiKey & { accountId: string };
before(async () => {
  s = await startTestServer();
  const made = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'iam-discovery-other' } });
  assert.equal(made.status, 200, made.text);
  other = { accessKey: made.json.access_key, secretKey: made.json.secret_key, accountId: made.json.account.id };
});
after(async () => s?.close());

const key = (): ApiKey => ({ accessKey: s.server.bootstrap!.accessKey, secretKey: s.server.bootstrap!.secretKey });

type Style = 'go' | 'golangsdk';

/**
 * A GET as the client sends it. Go SDK (huaweicloud-sdk-go-v3): signs every header it set except
 * Content-Type, here `user-agent;x-sdk-date`, never Host; the query as url.Values.Encode().
 * chnsz/golangsdk (Terraform provider): signs Host and Content-Type too, and X-Project-Id once known.
 */
async function get(style: Style, path: string, query: Array<[string, string]>, k: ApiKey, extra: Record<string, string> = {}) {
  const base = new URL(s.server.url);
  const headers: Record<string, string> =
    style === 'go'
      ? { 'User-Agent': 'huaweicloud-usdk-go/3.0', ...extra }
      : { 'Content-Type': 'application/json', Host: base.host, 'User-Agent': 'terraform-provider-iac golangsdk', ...extra };
  Object.assign(headers, signRequest({ method: 'GET', path, query, headers, accessKey: k.accessKey, secretKey: k.secretKey }));
  const qs = new URLSearchParams(query).toString().replace(/\+/g, '%20');
  const res = await request(new URL(path + (qs ? `?${qs}` : ''), base), { method: 'GET', headers });
  return { status: res.statusCode, json: (await res.body.json()) as any };
}

test('Go SDK BasicCredentials: GET /v3/projects?name=<region> gives exactly one project, stable and the account’s own', async () => {
  const first = await get('go', '/v3/projects', [['name', 'cn-north-4']], key());
  assert.equal(first.status, 200, JSON.stringify(first.json));
  // The SDK wants exactly one entry and reads its id (and name).
  assert.equal(first.json.projects.length, 1);
  const project = first.json.projects[0];
  assert.match(project.id, /^[0-9a-f]{32}$/);
  assert.equal(project.name, 'cn-north-4');
  assert.equal(project.domain_id, s.accountId);
  assert.equal(project.enabled, true);
  assert.equal(first.json.links.next, null, 'no further page for golangsdk’s pager to follow');

  const again = await get('go', '/v3/projects', [['name', 'cn-north-4']], key());
  assert.equal(again.json.projects[0].id, project.id, 'the same region gives the same id');
  const elsewhere = await get('go', '/v3/projects', [['name', 'ap-southeast-1']], key());
  assert.equal(elsewhere.json.projects[0].name, 'ap-southeast-1');
  assert.notEqual(elsewhere.json.projects[0].id, project.id, 'another region is another project');

  const theirs = await get('go', '/v3/projects', [['name', 'cn-north-4']], other);
  assert.equal(theirs.status, 200);
  assert.equal(theirs.json.projects[0].domain_id, other.accountId);
  assert.notEqual(theirs.json.projects[0].id, project.id, 'another account never sees this account’s project id');
});

test('Terraform provider (golangsdk): GET /v3/projects?domain_id=…&name=<region>, then GET /v3/auth/catalog with X-Project-Id', async () => {
  const listed = await get('golangsdk', '/v3/projects', [['domain_id', s.accountId], ['name', 'cn-north-4']], key());
  assert.equal(listed.status, 200, JSON.stringify(listed.json));
  assert.equal(listed.json.projects.length, 1);
  const projectId: string = listed.json.projects[0].id;
  assert.equal(listed.json.projects[0].name, 'cn-north-4', 'loadUserProjects maps name → id');

  // Another account's id as the domain filter: Keystone's filter finds nothing, and says nothing of it.
  const foreign = await get('golangsdk', '/v3/projects', [['domain_id', other.accountId], ['name', 'cn-north-4']], key());
  assert.deepEqual([foreign.status, foreign.json.projects], [200, []]);
  // A name that is no region, or no name: none.
  assert.deepEqual((await get('golangsdk', '/v3/projects', [['name', 'not a region']], key())).json.projects, []);
  assert.deepEqual((await get('golangsdk', '/v3/projects', [], key())).json.projects, []);
  const tooLong = await get('golangsdk', '/v3/projects', [['name', `cn-${'x'.repeat(70)}`]], key());
  assert.equal(tooLong.status, 400, 'an over-long filter is bad input');
  assert.equal(typeof tooLong.json.error_code, 'string');

  const catalog = await get('golangsdk', '/v3/auth/catalog', [], key(), { 'X-Project-Id': projectId });
  assert.equal(catalog.status, 200, JSON.stringify(catalog.json));
  const byType = new Map<string, any>(catalog.json.catalog.map((e: any) => [e.type, e]));
  const cdn = byType.get('cdn');
  assert.ok(cdn, 'a cdn entry');
  assert.equal(cdn.name, 'cdn');
  assert.equal(typeof cdn.id, 'string');
  assert.deepEqual(
    cdn.endpoints.map((e: any) => [e.interface, e.url]),
    [['public', s.server.url]],
    'the CDN endpoint is this server',
  );
  const iam = byType.get('identity');
  assert.deepEqual(
    iam.endpoints.map((e: any) => [e.interface, e.url]),
    [['public', `${s.server.url}/v3`]],
  );
  for (const e of [...cdn.endpoints, ...iam.endpoints]) for (const field of ['id', 'region', 'region_id']) assert.equal(typeof e[field], 'string', field);
});

test('a token caller gets the same project; without credentials both calls are refused with 401', async () => {
  const b = s.server.bootstrap!;
  const login = await request(`${s.server.url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: b.user, password: b.password, domain: { name: b.account } } } }, scope: { domain: { name: b.account } } } }),
  });
  assert.equal(login.statusCode, 201);
  await login.body.dump();
  const token = login.headers['x-subject-token'] as string;
  const withToken = await request(`${s.server.url}/v3/projects?name=cn-north-4`, { headers: { 'x-auth-token': token } });
  assert.equal(withToken.statusCode, 200);
  const signed = await get('go', '/v3/projects', [['name', 'cn-north-4']], key());
  assert.equal(((await withToken.body.json()) as any).projects[0].id, signed.json.projects[0].id);

  for (const path of ['/v3/projects?name=cn-north-4', '/v3/auth/catalog']) {
    const res = await request(`${s.server.url}${path}`);
    const body = (await res.body.json()) as any;
    assert.equal(res.statusCode, 401, path);
    assert.equal(body.error_code, 'APIGW.0301', path);
    assert.doesNotMatch(JSON.stringify(body), /"projects"|"catalog"/);
  }
});
