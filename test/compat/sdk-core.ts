// The official Node.js SDK core (@huaweicloud/huaweicloud-sdk-core), used the way its generated CDN
// client uses it (huawei-cdn-api.md §17): the option shapes mirror services/cdn/v1/CdnClient.ts of
// huaweicloud-sdk-nodejs-v3 — POSTs carry `data` and a 'Content-Type' header, GET/PUT/DELETE carry
// no `data` at all, and the create/history calls ask for the X-Request-Id response header.
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient, HttpRequestOptions } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { GlobalCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/GlobalCredentials.js';
import { Region } from '@huaweicloud/huaweicloud-sdk-core/region/region.js';
import { ClientRequestException } from '@huaweicloud/huaweicloud-sdk-core/exception/ClientRequestException.js';
import { ServiceResponseException } from '@huaweicloud/huaweicloud-sdk-core/exception/ServiceResponseException.js';

export { ClientRequestException, ServiceResponseException, GlobalCredentials, Region };
export type { HcClient };

/**
 * The core configures log4js at load time with a coloured stdout appender (its file appender is
 * declared but unused, so nothing is written to disk) and logs every failed call at ERROR. Expected
 * errors would clutter the test output, so its loggers are switched off for this process.
 */
export function silenceSdkLogger(): void {
  const req = createRequire(import.meta.url);
  const core = req.resolve('@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js');
  const log4js = createRequire(core)('log4js') as { configure(c: unknown): void };
  log4js.configure({ appenders: { out: { type: 'stdout' } }, categories: { default: { appenders: ['out'], level: 'off' } } });
}

/** A client for raw endpoints, as §17 describes; `withCredential(undefined)` afterwards gives an unsigned one. */
export function endpointClient(endpoint: string | string[], credential: GlobalCredentials): HcClient {
  return new ClientBuilder<HcClient>((hc) => hc).withEndpoint(endpoint).withCredential(credential).build();
}

/** A client built with a region: the path on which the SDK discovers a missing domain id (§14). */
export function regionClient(region: Region, credential: GlobalCredentials): HcClient {
  return new ClientBuilder<HcClient>((hc) => hc).withRegion(region).withCredential(credential).build();
}

export function credentials(ak: string, sk: string, domainId?: string): GlobalCredentials {
  const c = new GlobalCredentials().withAk(ak).withSk(sk);
  return domainId === undefined ? c : c.withDomainId(domainId);
}

export type Query = Record<string, string | number | boolean>;

interface Options extends HttpRequestOptions {
  responseHeaders?: string[];
}

/** What the SDK hands back: the parsed JSON plus httpStatusCode and any requested response headers. */
export type SdkAnswer = Record<string, any>;

export function send(hc: HcClient, options: Options): Promise<SdkAnswer> {
  return hc.sendRequest(options as HttpRequestOptions) as Promise<SdkAnswer>;
}

/** GET as the generated client builds it: no data, the query as typed values. */
export function get(hc: HcClient, url: string, queryParams: Query = {}, pathParams: Record<string, string> = {}, responseHeaders = ['X-Request-Id']): Promise<SdkAnswer> {
  return send(hc, { method: 'GET', url, contentType: 'application/json', queryParams, pathParams, headers: {}, responseHeaders });
}

/** POST with a JSON body, as the generated client builds it. */
export function post(hc: HcClient, url: string, data: Record<string, any>, queryParams: Query = {}, headers: Record<string, string> = {}): Promise<SdkAnswer> {
  return send(hc, {
    method: 'POST',
    url,
    contentType: 'application/json',
    queryParams,
    pathParams: {},
    headers: { 'Content-Type': 'application/json', ...headers },
    data,
    responseHeaders: ['X-Request-Id'],
  });
}

/** PUT/DELETE on a domain: no body, the domain id as a path parameter. */
export function domainCall(hc: HcClient, method: 'PUT' | 'DELETE', url: string, domainId: string): Promise<SdkAnswer> {
  return send(hc, { method, url, contentType: 'application/json', queryParams: {}, pathParams: { domain_id: domainId }, headers: {} });
}

/** Awaits an SDK call that must fail with a ClientRequestException (HTTP 4xx). */
export async function clientError(call: Promise<unknown>): Promise<ClientRequestException> {
  let answer: unknown;
  try {
    answer = await call;
  } catch (e) {
    assert.ok(e instanceof ClientRequestException, `expected ClientRequestException, got ${inspect(e, { depth: 1 })}`);
    return e;
  }
  assert.fail(`expected the SDK call to fail, it answered ${inspect(answer, { depth: 2 })}`);
}

export const REQUEST_ID = /^[0-9a-f]{32}$/;

/** PUT with a JSON body and path parameters, as the generated client builds its update calls. */
export function putWithBody(hc: HcClient, url: string, pathParams: Record<string, string>, data: Record<string, any>, queryParams: Query = {}, responseHeaders: string[] = []): Promise<SdkAnswer> {
  return send(hc, { method: 'PUT', url, contentType: 'application/json', queryParams, pathParams, headers: { 'Content-Type': 'application/json' }, data, responseHeaders });
}

/** POST /v3/auth/tokens with a password, scoped to the account, as the core's IamService sends it; the answer carries X-Subject-Token. */
export function passwordToken(unsigned: HcClient, user: { name: string; password: string; account: string }): Promise<SdkAnswer> {
  return send(unsigned, {
    method: 'POST',
    url: '/v3/auth/tokens',
    contentType: 'application/json;charset=utf8',
    queryParams: { nocatalog: 'true' },
    pathParams: {},
    headers: {},
    data: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user.name, password: user.password, domain: { name: user.account } } } },
        scope: { domain: { name: user.account } },
      },
    },
    responseHeaders: ['X-Subject-Token'],
  });
}
