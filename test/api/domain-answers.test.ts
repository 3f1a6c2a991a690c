// What the domain calls answer: the delete answer of a disabled domain and the origins' ports in the
// list (huawei-cdn-api.md §11.2, §11.4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, addDomain, type TestServer } from '../support/test-server.js';
import type { Call } from '../support/signed-client.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ 'builtin-edges': '1' });
});
after(async () => {
  await s?.close();
});

const createDomain = (call: Call, name: string, sources: unknown[]) => call('POST', '/v1.0/cdn/domains', { body: { domain: { domain_name: name, business_type: 'web', sources } } });

test('the delete answer of a disabled domain says disabled 1, in the deleting state', async () => {
  const id = await addDomain(s.call, 'gone.answers.test', 8080);
  assert.equal((await s.call('PUT', `/v1.0/cdn/domains/${id}/disable`)).status, 200);
  const res = await s.call('DELETE', `/v1.0/cdn/domains/${id}`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.domain.id, id);
  assert.equal(res.json.domain.domain_status, 'deleting');
  assert.equal(res.json.domain.disabled, 1, 'the domain was disabled when it was deleted');
  assert.equal(res.json.domain.sources[0].http_port, 8080);
});

test("the list shows each origin's ports", async () => {
  const made = await createDomain(s.call, 'ports.answers.test', [
    { ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: 8080, https_port: 8443 },
    { ip_or_domain: 'backup.example.net', origin_type: 'domain', active_standby: 0 },
  ]);
  assert.equal(made.status, 200, made.text);
  const list = await s.call('GET', '/v1.0/cdn/domains', { query: [['domain_name', 'ports.answers.test'], ['exact_match', 'true']] });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(
    list.json.domains[0].sources.map((x: any) => [x.ip_or_domain, x.active_standby, x.http_port, x.https_port]),
    [
      ['127.0.0.1', 1, 8080, 8443],
      ['backup.example.net', 0, 80, 443],
    ],
  );
});
