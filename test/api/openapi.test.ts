// GET /openapi.json is a valid OpenAPI 3.1 document made from the route schemas, listing every route the
// server registers; every route has a schema (a route added without one fails here); /docs is public HTML.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestServer, type TestServer } from '../support/test-server.js';

let ts: TestServer;
let doc: any;

before(async () => {
  ts = await startTestServer({ 'builtin-edges': '0' });
  const res = await fetch(`${ts.server.url}/openapi.json`);
  assert.equal(res.status, 200);
  doc = await res.json();
});
after(() => ts?.close());

type Route = { method: string; url: string; schema: Record<string, unknown> | undefined; auth: boolean };
const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** What is wrong with the routes' schemas: none at all; a credentialed route that declares no input; a path parameter not declared. */
function schemaDefects(routes: Route[]): string[] {
  const defects: string[] = [];
  for (const r of routes) {
    const name = `${r.method} ${r.url}`;
    if (!r.schema) {
      defects.push(`${name}: no schema`);
      continue;
    }
    if (r.auth && !r.schema.querystring && !r.schema.params && !r.schema.body) defects.push(`${name}: no querystring, params or body schema`);
    const declared = Object.keys(((r.schema.params as { properties?: object } | undefined)?.properties ?? {}) as object);
    for (const [, param] of r.url.matchAll(/:([A-Za-z0-9_]+)/g)) if (!declared.includes(param)) defects.push(`${name}: path parameter ${param} has no schema`);
  }
  return defects;
}

test('/openapi.json validates as OpenAPI 3.1 (without credentials)', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc);
  assert.deepEqual(result.errors ?? [], []);
  assert.equal(result.valid, true);
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['authToken', 'sdkSignature']);
  assert.equal(doc.components.securitySchemes.authToken.name, 'X-Auth-Token');
  assert.equal(doc.components.securitySchemes.sdkSignature.name, 'Authorization');
});

test('every route the server registers is in the document, under its method, and nothing else is', () => {
  const routes = ts.server.app.allRoutes;
  assert.ok(routes.length >= 60, `only ${routes.length} routes seen`);
  const registered = routes.map((r) => `${r.method} ${openapiPath(r.url)}`).sort();
  const documented = Object.entries<Record<string, unknown>>(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
  assert.deepEqual(documented, registered);
  for (const needed of ['POST /v1.0/cdn/content/refresh-tasks', 'GET /v1.0/cdn/historytasks/{history_tasks_id}/detail', 'POST /v3/auth/tokens', 'GET /cachectl/v1/audit', 'GET /readyz', 'GET /docs']) {
    assert.ok(documented.includes(needed), needed);
  }
});

test('every route has a schema: a credentialed one declares its input, and every path parameter is declared', () => {
  assert.deepEqual(schemaDefects(ts.server.app.allRoutes), []);
  // The check is not empty: a route without a schema, or with an undeclared parameter, is caught.
  const bare = [
    { method: 'GET', url: '/cachectl/v1/new', schema: undefined, auth: true },
    { method: 'PUT', url: '/cachectl/v1/new/:id', schema: { body: {} }, auth: true },
  ];
  assert.deepEqual(schemaDefects(bare), ['GET /cachectl/v1/new: no schema', 'PUT /cachectl/v1/new/:id: path parameter id has no schema']);
});

test('credentialed operations name both credentials and answer the error bodies; public ones need none', () => {
  const errorBody = doc.components.schemas.ErrorBody;
  const shapes = errorBody.anyOf.map((s: any) => Object.keys(s.properties).sort().join(','));
  assert.deepEqual(shapes, ['error,error_code,error_msg', 'error_code,error_msg,request_id']);
  for (const r of ts.server.app.allRoutes) {
    const op = doc.paths[openapiPath(r.url)][r.method.toLowerCase()];
    const name = `${r.method} ${r.url}`;
    if (!r.auth) {
      assert.deepEqual(op.security, [], name);
      continue;
    }
    assert.deepEqual(op.security, [{ sdkSignature: [] }, { authToken: [] }], name);
    for (const status of ['4XX', '5XX']) assert.equal(op.responses[status]?.content?.['application/json']?.schema?.$ref, '#/components/schemas/ErrorBody', `${name} ${status}`);
    assert.ok(op['x-iam-action'] === undefined || typeof op['x-iam-action'] === 'string', name);
  }
  // The request schemas are the ones the routes validate with.
  const refresh = doc.paths['/v1.0/cdn/content/refresh-tasks'].post;
  assert.deepEqual(refresh.requestBody.content['application/json'].schema.properties.refresh_task.properties.urls, { minItems: 1, type: 'array', items: { type: 'string' } });
  assert.equal(refresh['x-iam-action'], 'cdn:configuration:refreshCache');
});

test('/docs is a self-contained HTML page without credentials, and both documents are cacheable', async () => {
  const res = await fetch(`${ts.server.url}/docs`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const html = await res.text();
  assert.doesNotMatch(html, /<script|<link|src=|https?:\/\//i, 'nothing loaded from anywhere');
  for (const p of Object.keys(doc.paths)) assert.ok(html.includes(`<code>${p}</code>`), p);
  for (const page of ['/docs', '/openapi.json']) {
    const first = await fetch(`${ts.server.url}${page}`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag');
    assert.ok(etag && /max-age=\d+/.test(first.headers.get('cache-control') ?? ''), page);
    const again = await fetch(`${ts.server.url}${page}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304, page);
  }
});

test('the documents hold no secret of the server', async () => {
  const text = JSON.stringify(doc) + (await (await fetch(`${ts.server.url}/docs`)).text());
  const b = ts.server.bootstrap!;
  for (const secret of [b.secretKey, b.accessKey, b.password]) assert.ok(secret && !text.includes(secret));
});
