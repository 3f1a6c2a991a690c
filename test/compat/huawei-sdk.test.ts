// Compatibility with the official Huawei Cloud Node.js SDK core (@huaweicloud/huaweicloud-sdk-core
// 3.1.211): every API of the server driven through the SDK's own HcClient — its signer, its query
// serialisation, its response and error parsing, its domain-id discovery (huawei-cdn-api.md §2–§7,
// §11, §12, §14, §17). Where cheap, the edges are read to see that a call really changed them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import {
  REQUEST_ID,
  Region,
  ServiceResponseException,
  clientError,
  credentials,
  domainCall,
  endpointClient,
  get,
  post,
  passwordToken,
  putWithBody,
  regionClient,
  send,
  silenceSdkLogger,
  type HcClient,
  type SdkAnswer,
} from './sdk-core.js';

silenceSdkLogger();

let s: TestServer;
let origin: TestOrigin;
/** The SDK client of §17: endpoint, AK/SK and an explicit domain (account) id. */
let hc: HcClient;
const host = 'www.sdk-compat.test';
const url = (p: string) => `http://${host}${p}`;

const DOMAIN_STATUSES = ['online', 'offline', 'configuring', 'configure_failed', 'checking', 'check_failed', 'deleting'];

before(async () => {
  s = await startTestServer();
  origin = await startOrigin();
  const b = s.server.bootstrap!;
  hc = endpointClient(s.server.url, credentials(b.accessKey, b.secretKey, b.accountId));
  const created = await createDomain(hc, host);
  await waitOnline(hc, host, created.domain.id);
});
after(async () => {
  await s?.close();
  await origin?.close();
});

function createDomain(client: HcClient, name: string): Promise<SdkAnswer> {
  return post(client, '/v1.0/cdn/domains', {
    domain: {
      domain_name: name,
      business_type: 'web',
      service_area: 'mainland_china',
      sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port }],
    },
  });
}

/** ListDomains with domain_name + exact_match (typed values, as the SDK model has them) until online. */
async function waitOnline(client: HcClient, name: string, id: string): Promise<SdkAnswer> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const list = await get(client, '/v1.0/cdn/domains', { domain_name: name, exact_match: true, page_size: 10, page_number: 1 }, {}, []);
    assert.equal(list.total, 1, `exactly one domain named ${name}`);
    assert.equal(list.domains[0].id, id);
    if (list.domains[0].domain_status === 'online') return list.domains[0];
    if (Date.now() > deadline) assert.fail(`domain ${name} not online: ${JSON.stringify(list.domains[0])}`);
    await sleep(20);
  }
}

/** ShowHistoryTaskDetails through the SDK until task_done. */
async function waitDone(client: HcClient, id: string, query: Record<string, string | number> = { page_size: 100, page_number: 1 }): Promise<SdkAnswer> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const d = await get(client, '/v1.0/cdn/historytasks/{history_tasks_id}/detail', query, { history_tasks_id: id });
    if (d.status === 'task_done') return d;
    if (Date.now() > deadline) assert.fail(`task ${id} not done: ${JSON.stringify(d).slice(0, 400)}`);
    await sleep(25);
  }
}

/** A local port with nothing listening. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

async function edgeGet(edge: string, path: string, hostHeader = host) {
  const res = await request(edge + path, { headers: { host: hostHeader } });
  return { status: res.statusCode, body: await res.body.text(), cache: res.headers['x-cache'] };
}

function assertTaskObject(t: any, expect: { task_type: string; file_type: string }) {
  assert.equal(typeof t.id, 'string');
  assert.match(t.id, /^\d+$/);
  assert.equal(t.task_type, expect.task_type);
  assert.equal(t.file_type, expect.file_type);
  assert.ok(t.status === 'task_inprocess' || t.status === 'task_done', t.status);
  for (const k of ['processing', 'succeed', 'failed', 'total', 'create_time']) assert.equal(typeof t[k], 'number', `${k} is a number`);
  assert.equal(t.processing + t.succeed + t.failed, t.total);
}

function assertUrlObject(u: any, taskId: string, taskType: string) {
  assert.equal(typeof u.id, 'string');
  assert.equal(u.task_id, taskId);
  assert.equal(u.task_type, taskType);
  assert.equal(typeof u.url, 'string');
  assert.equal(typeof u.create_time, 'number');
  assert.ok(['processing', 'succeed', 'failed', 'waiting', 'refreshing', 'preheating'].includes(u.status), u.status);
}

// ----------------------------------------------------------------------------------------------------
// Domains (§11)

test('domains: create, list (name, exact_match, paging), detail, disable, enable, delete — field names and types', async () => {
  const name = 'www.sdk-domain-life.test';
  origin.put('/life.txt');
  const created = await createDomain(hc, name);
  assert.equal(created.httpStatusCode, 200);
  const d = created.domain;
  assert.equal(typeof d.id, 'string');
  assert.ok(d.id.length > 0);
  assert.equal(d.domain_name, name);
  assert.equal(d.business_type, 'web');
  assert.equal(d.service_area, 'mainland_china');
  assert.equal(d.user_domain_id, s.accountId);
  assert.ok(DOMAIN_STATUSES.includes(d.domain_status), d.domain_status);
  assert.equal(typeof d.cname, 'string');
  assert.equal(typeof d.create_time, 'number');
  assert.equal(typeof d.modify_time, 'number');
  assert.ok(Math.abs(d.create_time - Date.now()) < 60_000, 'create_time is epoch milliseconds');
  assert.equal(d.disabled, 0);
  assert.equal(d.sources.length, 1);
  assert.deepEqual([d.sources[0].ip_or_domain, d.sources[0].origin_type, d.sources[0].active_standby], ['127.0.0.1', 'ipaddr', 1]);

  const online = await waitOnline(hc, name, d.id);
  assert.equal(online.domain_name, name);
  assert.equal(typeof online.create_time, 'number');
  assert.equal(online.disabled, 0);
  // Fuzzy match and paging: a name fragment finds both domains; page 2 of size 1 holds the other one.
  const fuzzy1 = await get(hc, '/v1.0/cdn/domains', { domain_name: 'sdk-', show_tags: true, page_size: 1, page_number: 1 });
  const fuzzy2 = await get(hc, '/v1.0/cdn/domains', { domain_name: 'sdk-', page_size: 1, page_number: 2 });
  assert.equal(fuzzy1.total, 2);
  assert.equal(fuzzy2.total, 2);
  assert.equal(fuzzy1.domains.length, 1);
  assert.equal(fuzzy2.domains.length, 1);
  assert.deepEqual([fuzzy1.domains[0].domain_name, fuzzy2.domains[0].domain_name].sort(), [host, name].sort());
  const none = await get(hc, '/v1.0/cdn/domains', { domain_name: 'sdk-', exact_match: true, page_size: 30, page_number: 1 });
  assert.deepEqual([none.total, none.domains.length], [0, 0], 'exact_match=true does not match a fragment');
  // Online means the edges serve it.
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/life.txt', name)).body, '/life.txt v1');

  const detail = await get(hc, '/v1.0/cdn/domains/{domain_id}/detail', {}, { domain_id: d.id }, []);
  assert.equal(detail.domain.id, d.id);
  assert.equal(detail.domain.domain_status, 'online');
  assert.equal(detail.domain.user_domain_id, s.accountId);
  assert.equal(detail.domain.sources[0].http_port, origin.port, 'DomainsWithPort carries the ports');
  assert.equal(typeof detail.domain.create_time, 'number');

  const notDeletable = await clientError(domainCall(hc, 'DELETE', '/v1.0/cdn/domains/{domain_id}', d.id));
  assert.equal(notDeletable.errorCode, 'CDN.0126', 'an online domain cannot be deleted');

  const disabled = await domainCall(hc, 'PUT', '/v1.0/cdn/domains/{domain_id}/disable', d.id);
  assert.equal(disabled.httpStatusCode, 200);
  assert.equal(disabled.domain.id, d.id);
  assert.equal(disabled.domain.domain_status, 'offline');
  assert.equal(disabled.domain.disabled, 1);
  const refused = await clientError(post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: [`http://${name}/life.txt`] } }));
  assert.equal(refused.errorCode, 'CDN.0106', 'a disabled domain cannot be refreshed');
  // The edges stop serving it.
  const deadline = Date.now() + 10_000;
  while ((await edgeGet(s.server.edges[0].trafficUrl, '/life.txt', name)).status !== 404) {
    if (Date.now() > deadline) assert.fail('the edge still serves the disabled domain');
    await sleep(20);
  }

  const enabled = await domainCall(hc, 'PUT', '/v1.0/cdn/domains/{domain_id}/enable', d.id);
  assert.equal(enabled.httpStatusCode, 200);
  assert.ok(['configuring', 'online'].includes(enabled.domain.domain_status), enabled.domain.domain_status);
  assert.equal(enabled.domain.disabled, 0);
  await waitOnline(hc, name, d.id);

  await domainCall(hc, 'PUT', '/v1.0/cdn/domains/{domain_id}/disable', d.id);
  const deleted = await domainCall(hc, 'DELETE', '/v1.0/cdn/domains/{domain_id}', d.id);
  assert.equal(deleted.httpStatusCode, 200);
  assert.equal(deleted.domain.id, d.id);
  assert.equal(deleted.domain.domain_status, 'deleting');
  const gone = await clientError(get(hc, '/v1.0/cdn/domains/{domain_id}/detail', {}, { domain_id: d.id }));
  assert.equal(gone.errorCode, 'CDN.0105');
  const list = await get(hc, '/v1.0/cdn/domains', { domain_name: name, exact_match: true, page_size: 10, page_number: 1 });
  assert.equal(list.total, 0);
});

test('v2 showDomainDetailByName: DomainsDetail with its sources, ports and priorities, as the v2 CdnClient sends it', async () => {
  const name = 'www.by-name-v2.test';
  const created = await post(hc, '/v1.0/cdn/domains', {
    domain: {
      domain_name: name,
      business_type: 'download',
      service_area: 'global',
      sources: [
        { ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: origin.port, https_port: 8443 },
        { ip_or_domain: 'standby.by-name-origin.test', origin_type: 'domain', active_standby: 0 },
      ],
    },
  });
  await waitOnline(hc, name, created.domain.id);
  // services/cdn/v2/CdnClient.ts: GET, the name as a path parameter, enterprise_project_id in the query, X-Request-Id asked for.
  const show = (domainName: string) => get(hc, '/v1.0/cdn/configuration/domains/{domain_name}', { enterprise_project_id: 'all' }, { domain_name: domainName });
  const answer = await show(name);
  assert.equal(answer.httpStatusCode, 200);
  assert.match(answer['X-Request-Id'], REQUEST_ID);
  const d = answer.domain;
  assert.equal(d.id, created.domain.id);
  assert.equal(d.domain_name, name);
  assert.equal(d.business_type, 'download');
  assert.equal(d.service_area, 'global');
  assert.equal(d.domain_status, 'online');
  assert.equal(typeof d.cname, 'string');
  for (const k of ['https_status', 'create_time', 'update_time', 'disabled', 'locked']) assert.equal(typeof d[k], 'number', `${k} is a number`);
  assert.deepEqual(
    d.sources.map((x: any) => [x.origin_type, x.origin_addr, x.priority, x.http_port, x.https_port, x.host_name]),
    [
      ['ipaddr', '127.0.0.1', 70, origin.port, 8443, name],
      ['domain', 'standby.by-name-origin.test', 30, 80, 443, name],
    ],
  );
  const missing = await clientError(show('nobody.by-name-v2.test'));
  assert.equal(missing.errorCode, 'CDN.0105');
});

test('origin changes: v1 updateDomainOrigin (SourceWithPort answer) and v2 updateDomainFullConfig (sources), as the CdnClients send them', async () => {
  const name = 'www.origin-change-sdk.test';
  const created = await createDomain(hc, name);
  const id = created.domain.id;
  await waitOnline(hc, name, id);
  const second = await startOrigin();
  try {
    // v1 CdnClient.updateDomainOrigin: PUT, the domain id as a path parameter, body {origin: ResourceBody}.
    const v1 = await putWithBody(hc, '/v1.0/cdn/domains/{domain_id}/origin', { domain_id: id }, {
      origin: { sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: second.port, https_port: 8443 }] },
    }, { enterprise_project_id: 'all' });
    assert.equal(v1.httpStatusCode, 200);
    assert.deepEqual(v1.origin.sources, [
      { domain_id: id, ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, enable_obs_web_hosting: 0, http_port: second.port, https_port: 8443 },
    ]);
    const d = await waitOnline(hc, name, id);
    assert.equal(d.sources[0].http_port, second.port);
    second.put('/sdk-origin');
    const edge = s.server.edges[0].trafficUrl;
    assert.equal((await edgeGet(edge, '/sdk-origin', name)).body, '/sdk-origin v1');
    assert.equal(second.hits('/sdk-origin').full, 1, 'fetched from the new origin');

    // v2 CdnClient.updateDomainFullConfig: PUT /v1.1, the name as a path parameter, body {configs}, X-Request-Id asked for.
    const v2 = await putWithBody(hc, '/v1.1/cdn/configuration/domains/{domain_name}/configs', { domain_name: name }, {
      configs: { sources: [{ origin_type: 'ipaddr', origin_addr: '127.0.0.1', priority: 70, http_port: origin.port }] },
    }, { enterprise_project_id: 'all' }, ['X-Request-Id']);
    assert.equal(v2.httpStatusCode, 200);
    assert.match(v2['X-Request-Id'], REQUEST_ID);
    assert.equal((await waitOnline(hc, name, id)).sources[0].http_port, origin.port);

    const bad = await clientError(putWithBody(hc, '/v1.0/cdn/domains/{domain_id}/origin', { domain_id: id }, { origin: { sources: [{ ip_or_domain: name, origin_type: 'domain', active_standby: 1 }] } }));
    assert.equal(bad.errorCode, 'CDN.0109');
    const unsupported = await clientError(putWithBody(hc, '/v1.1/cdn/configuration/domains/{domain_name}/configs', { domain_name: name }, { configs: { ipv6_accelerate: 1 } }));
    assert.equal(unsupported.errorCode, 'CDN.0001');
    assert.match(String(unsupported.errorMsg), /configs\.ipv6_accelerate/);
  } finally {
    await second.close();
  }
});

// ----------------------------------------------------------------------------------------------------
// Creating tasks (§2, §3)

test('refresh-tasks (file): a string id, X-Request-Id captured, and the edges serve the new version', async () => {
  origin.put('/a.js');
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/a.js')).body, '/a.js v1');
  origin.put('/a.js');
  for (const e of s.server.edges) assert.deepEqual(await edgeGet(e.trafficUrl, '/a.js'), { status: 200, body: '/a.js v1', cache: 'HIT' });

  const res = await post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { type: 'file', urls: [url('/a.js')] } }, { enterprise_project_id: '0' });
  assert.equal(res.httpStatusCode, 200);
  assert.equal(typeof res.refresh_task, 'string', 'the id is a string, not an object');
  assert.match(res.refresh_task, /^\d+$/);
  assert.match(res['X-Request-Id'], REQUEST_ID);

  const task = await waitDone(hc, res.refresh_task);
  assertTaskObject(task, { task_type: 'refresh', file_type: 'file' });
  assert.equal(task.id, res.refresh_task);
  assert.deepEqual([task.total, task.succeed, task.failed, task.processing], [1, 1, 0, 0]);
  assert.equal(task.urls.length, 1);
  assertUrlObject(task.urls[0], res.refresh_task, 'REFRESH');
  assert.equal(task.urls[0].url, url('/a.js'));
  assert.equal(task.urls[0].status, 'succeed');
  assert.match(task['X-Request-Id'], REQUEST_ID);
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/a.js')).body, '/a.js v2');
});

test('refresh-tasks (directory, both modes): file_type directory, mode in url-tasks, the edges revalidate', async () => {
  origin.put('/dir/x.css');
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/dir/x.css')).body, '/dir/x.css v1');
  origin.put('/dir/x.css');

  const detect = await post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { type: 'directory', mode: 'detect_modify_refresh', zh_url_encode: false, urls: [url('/dir/')] } });
  assert.equal(typeof detect.refresh_task, 'string');
  const t1 = await waitDone(hc, detect.refresh_task);
  assertTaskObject(t1, { task_type: 'refresh', file_type: 'directory' });
  assert.equal(t1.succeed, 1);
  assertUrlObject(t1.urls[0], detect.refresh_task, 'REFRESH');
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/dir/x.css')).body, '/dir/x.css v2', 'a changed object is refetched');

  origin.put('/dir/x.css');
  const all = await post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { type: 'directory', mode: 'all', urls: [url('/dir/')] } });
  const t2 = await waitDone(hc, all.refresh_task);
  assert.equal(t2.file_type, 'directory');
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/dir/x.css')).body, '/dir/x.css v3');

  const now = Date.now();
  const records = await get(hc, '/v1.0/cdn/contentgateway/url-tasks', { start_time: now - 3600_000, end_time: now + 3600_000, url: url('/dir/'), file_type: 'directory', offset: 0, limit: 10 }, {}, ['X-request-id']);
  const modes = Object.fromEntries(records.result.map((r: any) => [String(r.task_id), r.mode]));
  assert.equal(modes[detect.refresh_task], 'detect_modify_refresh');
  assert.equal(modes[all.refresh_task], 'all');
});

test('refresh-tasks with zh_url_encode: the task holds the percent-encoded URL and purges that cache key', async () => {
  const encoded = '/%E4%B8%AD%E6%96%87.txt';
  origin.put('/中文.txt');
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, encoded)).body, '/中文.txt v1');
  origin.put('/中文.txt');
  const res = await post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { type: 'file', zh_url_encode: true, urls: [url('/中文.txt')] } });
  const task = await waitDone(hc, res.refresh_task);
  assert.equal(task.urls[0].url, url(encoded));
  assert.equal(task.urls[0].status, 'succeed');
  // The recorded URL holds '%': as a query value the SDK sends it as %25… and signs it canonically.
  const now = Date.now();
  const records = await get(hc, '/v1.0/cdn/contentgateway/url-tasks', { start_time: now - 3600_000, end_time: now + 3600_000, url: url(encoded) }, {}, ['X-request-id']);
  assert.deepEqual(records.result.map((r: any) => r.task_id), [Number(res.refresh_task)]);
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, encoded)).body, '/中文.txt v2');
});

test('preheating-tasks: a string id, X-Request-Id captured, and the edges then answer from cache', async () => {
  origin.put('/pre.bin');
  const res = await post(hc, '/v1.0/cdn/content/preheating-tasks', { preheating_task: { zh_url_encode: false, urls: [url('/pre.bin')] } }, { enterprise_project_id: 'all' });
  assert.equal(res.httpStatusCode, 200);
  assert.equal(typeof res.preheating_task, 'string');
  assert.match(res.preheating_task, /^\d+$/);
  assert.match(res['X-Request-Id'], REQUEST_ID);
  const task = await waitDone(hc, res.preheating_task);
  assertTaskObject(task, { task_type: 'preheating', file_type: 'file' });
  assert.equal(task.succeed, 1);
  assertUrlObject(task.urls[0], res.preheating_task, 'PREHEATING');
  const fetched = origin.hits('/pre.bin').full;
  assert.ok(fetched >= 1, 'the prefetch went to the origin');
  for (const e of s.server.edges) assert.deepEqual(await edgeGet(e.trafficUrl, '/pre.bin'), { status: 200, body: '/pre.bin v1', cache: 'HIT' });
  assert.equal(origin.hits('/pre.bin').full, fetched, 'reading after the prefetch does not go to the origin');
});

test('legacy refreshtasks and preheatingtasks: the full camelCase task object, string ids', async () => {
  origin.put('/legacy.js');
  for (const e of s.server.edges) await edgeGet(e.trafficUrl, '/legacy.js');
  origin.put('/legacy.js');
  const urls = [url('/legacy.js'), url('/legacy-2.js')];
  const r = await post(hc, '/v1.0/cdn/refreshtasks', { refreshTask: { type: 'file', urls } });
  assert.equal(r.httpStatusCode, 200);
  assert.match(r['X-Request-Id'], REQUEST_ID);
  const rt = r.refreshTask;
  assert.ok(rt && typeof rt === 'object', 'refreshTask is the task object');
  assert.equal(typeof rt.id, 'string');
  assert.equal(rt.task_type, 'refresh');
  assert.ok(['task_inprocess', 'task_done'].includes(rt.status), rt.status);
  for (const k of ['processing', 'succeed', 'failed', 'total', 'create_time']) assert.equal(typeof rt[k], 'number', `${k} is a number`);
  assert.equal(rt.total, 2);
  assert.deepEqual(rt.urls, urls);
  await waitDone(hc, rt.id);
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/legacy.js')).body, '/legacy.js v2');

  const p = await post(hc, '/v1.0/cdn/preheatingtasks', { preheatingTask: { urls: [url('/legacy.js')] } });
  assert.equal(p.httpStatusCode, 200);
  const pt = p.preheatingTask;
  assert.equal(typeof pt.id, 'string');
  assert.equal(pt.task_type, 'preheating');
  assert.equal(pt.total, 1);
  assert.equal(typeof pt.create_time, 'number');
  assert.deepEqual(pt.urls, [url('/legacy.js')]);
  const done = await waitDone(hc, pt.id);
  assert.equal(done.task_type, 'preheating');
});

// ----------------------------------------------------------------------------------------------------
// Querying (§4, §5, §6, §7)

test('historytasks: start/end date, task_type, file_type and status filters, order and paging', async () => {
  const t0 = Date.now();
  const ids: string[] = [];
  for (let n = 1; n <= 3; n++) {
    const urls = Array.from({ length: n }, (_, i) => url(`/hist/${n}-${i}`));
    ids.push((await post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { type: 'file', urls } })).refresh_task);
    await sleep(3); // distinct create_time
  }
  const pre = (await post(hc, '/v1.0/cdn/content/preheating-tasks', { preheating_task: { urls: [url('/hist/p')] } })).preheating_task;
  for (const id of [...ids, pre]) await waitDone(hc, id);
  const window = { start_date: t0, end_date: Date.now() + 1000 };

  const refreshes = await get(hc, '/v1.0/cdn/historytasks', { ...window, task_type: 'refresh', file_type: 'file', status: 'task_done', page_size: 30, page_number: 1 });
  assert.equal(refreshes.httpStatusCode, 200);
  assert.match(refreshes['X-Request-Id'], REQUEST_ID);
  assert.equal(refreshes.total, 3);
  for (const t of refreshes.tasks) assertTaskObject(t, { task_type: 'refresh', file_type: 'file' });
  assert.deepEqual(refreshes.tasks.map((t: any) => t.id), [...ids].reverse(), 'default order: create_time desc');
  for (const t of refreshes.tasks) {
    assert.equal(t.urls, undefined, 'TasksObject has no urls');
    assert.equal(t.status, 'task_done');
  }

  const byTotal1 = await get(hc, '/v1.0/cdn/historytasks', { ...window, task_type: 'refresh', order_field: 'total', order_type: 'asc', page_size: 2, page_number: 1 });
  const byTotal2 = await get(hc, '/v1.0/cdn/historytasks', { ...window, task_type: 'refresh', order_field: 'total', order_type: 'asc', page_size: 2, page_number: 2 });
  assert.equal(byTotal1.total, 3, 'total counts all matches, not the page');
  assert.deepEqual(byTotal1.tasks.map((t: any) => t.total), [1, 2]);
  assert.deepEqual(byTotal2.tasks.map((t: any) => t.total), [3]);
  assert.deepEqual([...byTotal1.tasks, ...byTotal2.tasks].map((t: any) => t.id), ids);

  const preheats = await get(hc, '/v1.0/cdn/historytasks', { ...window, task_type: 'preheating', page_size: 30, page_number: 1 });
  assert.deepEqual(preheats.tasks.map((t: any) => t.id), [pre]);
  assertTaskObject(preheats.tasks[0], { task_type: 'preheating', file_type: 'file' });
  const dirs = await get(hc, '/v1.0/cdn/historytasks', { ...window, file_type: 'directory', page_size: 30, page_number: 1 });
  assert.equal(dirs.total, 0);
  const inProcess = await get(hc, '/v1.0/cdn/historytasks', { ...window, status: 'task_inprocess', page_size: 30, page_number: 1 });
  assert.equal(inProcess.total, 0);
  const before = await get(hc, '/v1.0/cdn/historytasks', { start_date: t0 - 3600_000, end_date: t0 - 1, task_type: 'refresh', page_size: 30, page_number: 1 });
  assert.ok(!before.tasks.some((t: any) => ids.includes(t.id)), 'end_date bounds the window');
});

test('historytasks/{id}/detail: counts, url objects with uppercase task_type, paging and filters', async () => {
  origin.put('/det/ok');
  const urls = [url('/det/ok'), url('/det/missing'), url('/det/ok?v=1')];
  const res = await post(hc, '/v1.0/cdn/content/preheating-tasks', { preheating_task: { urls } });
  const id = res.preheating_task;
  const done = await waitDone(hc, id, { page_size: 10, page_number: 1 });
  assertTaskObject(done, { task_type: 'preheating', file_type: 'file' });
  assert.equal(done.total, 3);
  assert.equal(done.succeed + done.failed, 3);
  assert.ok(done.failed >= 1, 'the missing object fails to prefetch');
  assert.deepEqual(done.urls.map((u: any) => u.url).sort(), [...urls].sort());
  for (const u of done.urls) assertUrlObject(u, id, 'PREHEATING');
  const failed = done.urls.find((u: any) => u.url === url('/det/missing'));
  assert.equal(failed.status, 'failed');
  assert.ok(['ORIGIN_ERROR', 'INNER_ERROR', 'UNKNOWN_ERROR'].includes(failed.fail_classify), failed.fail_classify);
  assert.equal(typeof failed.fail_desc, 'string');

  const page1 = await get(hc, '/v1.0/cdn/historytasks/{history_tasks_id}/detail', { page_size: 2, page_number: 1, create_time: done.create_time }, { history_tasks_id: id });
  const page2 = await get(hc, '/v1.0/cdn/historytasks/{history_tasks_id}/detail', { page_size: 2, page_number: 2 }, { history_tasks_id: id });
  assert.equal(page1.total, 3, 'total counts the task, not the page');
  assert.deepEqual([page1.urls.length, page2.urls.length], [2, 1]);
  assert.deepEqual([...page1.urls, ...page2.urls].map((u: any) => u.id).sort(), done.urls.map((u: any) => u.id).sort());
  const onlyFailed = await get(hc, '/v1.0/cdn/historytasks/{history_tasks_id}/detail', { status: 'failed', page_size: 10, page_number: 1 }, { history_tasks_id: id });
  assert.ok(onlyFailed.urls.length >= 1 && onlyFailed.urls.every((u: any) => u.status === 'failed'));
  // The query value holds '?' and '=': the SDK sends it querystring-encoded and signs it canonically.
  const oneUrl = await get(hc, '/v1.0/cdn/historytasks/{history_tasks_id}/detail', { url: url('/det/ok?v=1'), page_size: 10, page_number: 1 }, { history_tasks_id: id });
  assert.deepEqual(oneUrl.urls.map((u: any) => u.url), [url('/det/ok?v=1')]);
});

test('contentgateway/url-tasks: numeric ids, uppercase type, X-request-id captured', async () => {
  const res = await post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: [url('/ut/1'), url('/ut/2')] } });
  await waitDone(hc, res.refresh_task);
  const now = Date.now();
  const window = { start_time: now - 3600_000, end_time: now + 3600_000 };
  const all = await get(hc, '/v1.0/cdn/contentgateway/url-tasks', { ...window, url: url('/ut/1'), task_type: 'REFRESH', offset: 0, limit: 10 }, {}, ['X-request-id']);
  assert.equal(all.httpStatusCode, 200);
  assert.match(all['X-request-id'], REQUEST_ID, 'captured under the spelling the SDK asks for');
  assert.equal(all.total, 1);
  assert.equal(all.count, 1);
  const r = all.result[0];
  assert.equal(typeof r.id, 'number');
  assert.equal(typeof r.task_id, 'number');
  assert.equal(r.task_id, Number(res.refresh_task));
  assert.equal(r.url, url('/ut/1'));
  assert.equal(r.type, 'REFRESH');
  assert.equal(r.status.toLowerCase(), 'succeed');
  assert.equal(r.file_type, 'file');
  assert.equal(r.mode, 'all');
  assert.equal(typeof r.create_time, 'number');
  assert.equal(typeof r.modify_time, 'number');

  const paged = await get(hc, '/v1.0/cdn/contentgateway/url-tasks', { ...window, task_type: 'REFRESH', status: 'succeed', offset: 1, limit: 1 }, {}, ['X-request-id']);
  assert.equal(paged.count, 1);
  assert.equal(paged.result.length, 1);
  assert.ok(paged.total >= 2);
  const preheats = await get(hc, '/v1.0/cdn/contentgateway/url-tasks', { ...window, url: url('/ut/1'), task_type: 'PREHEATING' }, {}, ['X-request-id']);
  assert.equal(preheats.total, 0);
  // Characters Node's querystring leaves unescaped (!'()*), a space and non-ASCII: signed canonically all the same.
  const odd = await get(hc, '/v1.0/cdn/contentgateway/url-tasks', { ...window, url: url("/ut/it's (a)*b! c/中") }, {}, ['X-request-id']);
  assert.deepEqual([odd.total, odd.count], [0, 0]);
});

test('quota: the refresh/prefetch types with numbers, the account id, and used counting up', async () => {
  const before = await get(hc, '/v1.0/cdn/quota', {}, {}, []);
  assert.equal(before.httpStatusCode, 200);
  const types = before.quotas.map((q: any) => q.type);
  for (const t of ['file_refresh', 'dir_refresh', 'preheat', 'domain']) assert.ok(types.includes(t), `quota ${t} listed`);
  for (const q of before.quotas) {
    assert.equal(typeof q.quota_limit, 'number');
    assert.equal(typeof q.used, 'number');
    assert.equal(q.user_domain_id, s.accountId);
  }
  const used = (a: SdkAnswer, type: string) => a.quotas.find((q: any) => q.type === type).used;
  await post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: [url('/q/1'), url('/q/2')] } });
  await post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { type: 'directory', urls: [url('/q/')] } });
  const after = await get(hc, '/v1.0/cdn/quota', {}, {}, []);
  assert.equal(used(after, 'file_refresh'), used(before, 'file_refresh') + 2);
  assert.equal(used(after, 'dir_refresh'), used(before, 'dir_refresh') + 1);
  assert.equal(used(after, 'preheat'), used(before, 'preheat'));
});

// ----------------------------------------------------------------------------------------------------
// Errors (§10, §17)

test('errors reach the SDK as ClientRequestException with errorCode, errorMsg and the request id', async () => {
  const foreign = await clientError(post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: ['http://www.not-mine.test/x'] } }));
  assert.equal(foreign.httpStatusCode, 400);
  assert.equal(foreign.errorCode, 'CDN.0108');
  assert.equal(typeof foreign.errorMsg, 'string');
  assert.ok(foreign.errorMsg!.length > 0);
  assert.match(foreign.requestId ?? '', REQUEST_ID);

  const noScheme = await clientError(post(hc, '/v1.0/cdn/content/preheating-tasks', { preheating_task: { urls: [`${host}/x`] } }));
  assert.equal(noScheme.httpStatusCode, 400);
  assert.equal(noScheme.errorCode, 'CDN.0001');
  assert.match(noScheme.requestId ?? '', REQUEST_ID);
  const empty = await clientError(post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: [] } }));
  assert.equal(empty.errorCode, 'CDN.0001', 'a body the schema refuses');
  const badMode = await clientError(post(hc, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { type: 'directory', mode: 'sometimes', urls: [url('/d/')] } }));
  assert.equal(badMode.errorCode, 'CDN.0001');
  const badPage = await clientError(get(hc, '/v1.0/cdn/historytasks', { page_size: 0, page_number: 1 }));
  assert.equal(badPage.errorCode, 'CDN.0001');
  const unknownTask = await clientError(get(hc, '/v1.0/cdn/historytasks/{history_tasks_id}/detail', {}, { history_tasks_id: '999999999' }));
  assert.equal(unknownTask.httpStatusCode, 404);
  assert.equal(unknownTask.errorCode, 'CDN.0003');

  const b = s.server.bootstrap!;
  const wrongSk = endpointClient(s.server.url, credentials(b.accessKey, `${b.secretKey}x`, b.accountId));
  const denied = await clientError(get(wrongSk, '/v1.0/cdn/quota'));
  assert.equal(denied.httpStatusCode, 401);
  assert.equal(denied.errorCode, 'APIGW.0301');
  assert.match(denied.requestId ?? '', REQUEST_ID);
  assert.match(denied.errorMsg ?? '', /signature/i);

  const unknownAk = endpointClient(s.server.url, credentials('HPUAUNKNOWNKEY000000', b.secretKey, b.accountId));
  assert.equal((await clientError(get(unknownAk, '/v1.0/cdn/quota'))).errorCode, 'APIGW.0301');
  const otherAccount = endpointClient(s.server.url, credentials(b.accessKey, b.secretKey, 'f'.repeat(32)));
  assert.equal((await clientError(get(otherAccount, '/v1.0/cdn/quota'))).errorCode, 'APIGW.0301', 'X-Domain-Id of another account');
});

test('endpoint failover: when the first endpoint refuses, the SDK re-signs for the second one and the server accepts it', async () => {
  const b = s.server.bootstrap!;
  const dead = await closedPort();
  const client = endpointClient([`http://127.0.0.1:${dead}`, s.server.url], credentials(b.accessKey, b.secretKey, b.accountId));
  const res = await post(client, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: [url('/failover')] } });
  assert.match(res.refresh_task, /^\d+$/);
  const detail = await get(client, '/v1.0/cdn/historytasks/{history_tasks_id}/detail', { page_size: 10, page_number: 1 }, { history_tasks_id: res.refresh_task });
  assert.equal(detail.id, res.refresh_task);
});

// ----------------------------------------------------------------------------------------------------
// Finding the account (§14, §17)

test('GlobalCredentials without a domain id, endpoint only: no X-Domain-Id is sent and calls work', async () => {
  const b = s.server.bootstrap!;
  const cred = credentials(b.accessKey, b.secretKey);
  const client = endpointClient(s.server.url, cred);
  const quota = await get(client, '/v1.0/cdn/quota', {}, {}, []);
  assert.equal(quota.quotas[0].user_domain_id, s.accountId);
  assert.equal(cred.domainId, undefined, 'no discovery without a region');
  const res = await post(client, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: [url('/no-domain-id')] } });
  assert.match(res.refresh_task, /^\d+$/);
});

test('GlobalCredentials without a domain id, with a region and withIamEndpoint: the SDK finds the account via GET /v3/auth/domains', async () => {
  // A fresh account, so that the SDK's process-wide cache (per AK + region) cannot already hold the id.
  const made = await s.call('POST', '/cachectl/v1/accounts', { body: { name: 'sdk-discovery' } });
  assert.equal(made.status, 200, made.text);
  const { access_key: ak, secret_key: sk } = made.json;
  const accountId: string = made.json.account.id;
  const region = new Region('cachectl-local-1', s.server.url);

  // The IAM endpoint override is what the SDK asks: pointed at a closed port, discovery fails.
  const deadPort = await closedPort();
  const deadCred = credentials(ak, sk).withIamEndpoint(`http://127.0.0.1:${deadPort}`);
  await assert.rejects(get(regionClient(region, deadCred), '/v1.0/cdn/quota'), (e: unknown) => {
    assert.ok(e instanceof ServiceResponseException, `expected ServiceResponseException, got ${String(e)}`);
    assert.match(e.errorMsg ?? '', /ECONNREFUSED/);
    return true;
  });
  assert.equal(deadCred.domainId, undefined);

  const cred = credentials(ak, sk).withIamEndpoint(s.server.url);
  const client = regionClient(region, cred);
  const quota = await get(client, '/v1.0/cdn/quota', {}, {}, []);
  assert.equal(cred.domainId, accountId, 'the id came from /v3/auth/domains');
  assert.equal(quota.quotas[0].user_domain_id, accountId);
  // Later calls carry X-Domain-Id: <discovered id>, which the server checks against the key.
  const list = await get(client, '/v1.0/cdn/domains', { page_size: 10, page_number: 1 });
  assert.deepEqual([list.total, list.domains.length], [0, 0], 'the new account sees none of the other account’s domains');
  const foreign = await clientError(post(client, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: [url('/x')] } }));
  assert.equal(foreign.errorCode, 'CDN.0108', 'the first account’s domain is foreign to it');
});

// ----------------------------------------------------------------------------------------------------
// IAM token (§12)

test('IAM token (the core has no token credential: POST /v3/auth/tokens and X-Auth-Token through an unsigned HcClient, as its IamService does)', async () => {
  const b = s.server.bootstrap!;
  const unsigned = endpointClient(s.server.url, credentials(b.accessKey, b.secretKey)).withCredential(undefined);
  const issued = await passwordToken(unsigned, { name: b.user, password: b.password, account: b.account });
  assert.equal(issued.httpStatusCode, 201);
  const token: string = issued['X-Subject-Token'];
  assert.equal(typeof token, 'string');
  assert.ok(token.length > 0);
  assert.equal(issued.token.domain.id, s.accountId);
  assert.equal(issued.token.domain.name, b.account);
  assert.match(issued.token.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(Date.parse(issued.token.expires_at) > Date.now());

  const withToken = { 'X-Auth-Token': token };
  const quota = await send(unsigned, { method: 'GET', url: '/v1.0/cdn/quota', contentType: 'application/json', queryParams: {}, pathParams: {}, headers: withToken });
  assert.equal(quota.quotas[0].user_domain_id, s.accountId);
  origin.put('/token.js');
  for (const e of s.server.edges) await edgeGet(e.trafficUrl, '/token.js');
  origin.put('/token.js');
  const created = await post(unsigned, '/v1.0/cdn/content/refresh-tasks', { refresh_task: { urls: [url('/token.js')] } }, {}, withToken);
  assert.match(created.refresh_task, /^\d+$/);
  assert.match(created['X-Request-Id'], REQUEST_ID);
  const detail = await send(unsigned, {
    method: 'GET',
    url: '/v1.0/cdn/historytasks/{history_tasks_id}/detail',
    contentType: 'application/json',
    queryParams: {},
    pathParams: { history_tasks_id: created.refresh_task },
    headers: withToken,
  });
  assert.equal(detail.id, created.refresh_task);
  await waitDone(hc, created.refresh_task);
  for (const e of s.server.edges) assert.equal((await edgeGet(e.trafficUrl, '/token.js')).body, '/token.js v2');

  const badToken = await clientError(send(unsigned, { method: 'GET', url: '/v1.0/cdn/quota', contentType: 'application/json', queryParams: {}, pathParams: {}, headers: { 'X-Auth-Token': `${token}x` } }));
  assert.equal(badToken.httpStatusCode, 401);
  assert.equal(badToken.errorCode, 'APIGW.0301');
  const noAuth = await clientError(send(unsigned, { method: 'GET', url: '/v1.0/cdn/quota', contentType: 'application/json', queryParams: {}, pathParams: {}, headers: {} }));
  assert.equal(noAuth.errorCode, 'APIGW.0301');
  const wrongPassword = await clientError(passwordToken(unsigned, { name: b.user, password: `${b.password}x`, account: b.account }));
  assert.equal(wrongPassword.httpStatusCode, 401);
  assert.equal(wrongPassword.errorCode, 'APIGW.0301');
});
