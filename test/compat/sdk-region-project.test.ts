// The official Node SDK's BasicCredentials built with a region (issue 12, item 14): with no project id
// given it asks IAM `GET /v3/projects?name=<region>` (signed, a `{}` body on a GET) and wants exactly one
// project back; with none it would try to create one. Pointed at cachectl, it finds the account's own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js';
import { projectIdOf } from '../../src/api/routes/iam-routes.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { Region, get, silenceSdkLogger } from './sdk-core.js';

let s: TestServer;
before(async () => {
  silenceSdkLogger();
  s = await startTestServer();
});
after(async () => s?.close());

async function newAccount(name: string) {
  const made = await s.call('POST', '/cachectl/v1/accounts', { body: { name } });
  assert.equal(made.status, 200, made.text);
  return { ak: made.json.access_key as string, sk: made.json.secret_key as string, id: made.json.account.id as string };
}

function regionClient(region: string, cred: BasicCredentials): HcClient {
  return new ClientBuilder<HcClient>((hc) => hc).withRegion(new Region(region, s.server.url)).withCredential(cred).build();
}

test('BasicCredentials with a region and withIamEndpoint: the SDK learns the project id from GET /v3/projects, then calls CDN', async () => {
  // Fresh accounts: the SDK caches the id per AK + region for the whole process.
  const a = await newAccount('sdk-project-a');
  const b = await newAccount('sdk-project-b');
  const credA = new BasicCredentials().withAk(a.ak).withSk(a.sk).withIamEndpoint(s.server.url);
  const quota = await get(regionClient('cn-north-4', credA), '/v1.0/cdn/quota', {}, {}, []);
  assert.equal(quota.quotas[0].user_domain_id, a.id);
  assert.equal(credA.projectId, projectIdOf(a.id, 'cn-north-4'), 'the id came from /v3/projects');

  const credB = new BasicCredentials().withAk(b.ak).withSk(b.sk).withIamEndpoint(s.server.url);
  await get(regionClient('cn-north-4', credB), '/v1.0/cdn/quota', {}, {}, []);
  assert.match(credB.projectId ?? '', /^[0-9a-f]{32}$/);
  assert.notEqual(credB.projectId, credA.projectId, 'each account has its own project for a region');
});
