// The HTTP API: Huawei-compatible routes, the IAM subset, and cachectl's own admin routes, with
// authentication, rate limits and the spec's error shapes applied in one place.
import crypto from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from './context.js';
import { identify, verify } from './auth/authenticate.js';
import { Call } from '../services/iam/call.js';
import type { ActionInfo } from '../services/iam/actions.js';
import { sourceKey } from '../services/source-key.js';
import { BodyBudget, type BodyRefusal, type BodyShares } from './body-budget.js';
import { sendError } from './error-reply.js';
import { registerAuditHooks } from './audit-hook.js';
import { registerMetricsHook } from './metrics-hook.js';
import { registerRequestLog } from './request-log-hook.js';
import type { Logger } from '../logging/logger.js';
import { clientErrorHandler, frameworkErrors } from './http-refusals.js';
import { announcedBody, checkJsonBody } from './json-body.js';
import { rateRefused } from './rate-limit.js';
import { taskCreateRoutes } from './routes/task-create-routes.js';
import { historyRoutes } from './routes/history-routes.js';
import { domainRoutes } from './routes/domain-routes.js';
import { quotaRoutes } from './routes/quota-routes.js';
import { iamRoutes } from './routes/iam-routes.js';
import { adminRoutes } from './routes/admin-routes.js';
import { auditRoutes } from './routes/audit-routes.js';
import { domainSettingsRoutes } from './routes/domain-settings-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { groupRoutes } from './routes/group-routes.js';
import { policyRoutes } from './routes/policy-routes.js';
import { projectRoutes } from './routes/project-routes.js';
import { keyRoutes } from './routes/key-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { docsRoutes } from './routes/docs-routes.js';
import { registerOpenApi } from './openapi.js';
import { badParameter, entityTooLarge, forbidden, routeNotFound, throttled } from '../errors.js';

// 32 hex characters like Huawei's: a random per-process half and a counter (no syscall per request).
const REQUEST_ID_PREFIX = crypto.randomBytes(8).toString('hex');
let requestCounter = 0;
const nextRequestId = () => REQUEST_ID_PREFIX + (++requestCounter).toString(16).padStart(16, '0');

export interface ApiOptions {
  bodyLimit: number;
  /** The process's logger: a line per request at info (request-log-hook.ts), errors, warnings. */
  logger: Logger;
  /** Time for a whole request, headers and body; 408 after. */
  bodyTimeoutMs: number;
  /** Time for the headers; 408 after. */
  headerTimeoutMs: number;
  /** Request-body bytes held at once by the whole process, and by one address or credential (see body-budget.ts). */
  bodyBudget: BodyShares;
}

// Routes without credentials (the IAM password login, health) take small bodies, from a small shared
// budget: a token request is a few hundred bytes, and nobody has been identified yet.
const ANONYMOUS_BODY_LIMIT = 16 * 1024;
const ANONYMOUS_BUDGET = 4 * 1024 * 1024;

// Strict: invalid UTF-8 is refused rather than read as U+FFFD, which would change what the caller
// sent (a URL names another key). The BOM is kept, so that a body starting with one stays invalid JSON.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const BUDGET_REFUSALS: Record<BodyRefusal, string> = {
  total: 'The server is receiving too many request bodies at once; retry later',
  address: 'Too many request bodies at once from this client address; retry later',
  credential: 'Too many request bodies at once with this credential; retry later',
  closed: 'The connection closed before the request body was read',
};

declare module 'fastify' {
  interface FastifyInstance {
    /** The body budgets, for credentialed routes and for those without (read by tests). */
    bodyBudgets: { credentialed: BodyBudget; anonymous: BodyBudget };
    /** Every credentialed route with its IAM action, as registered (the policy matrix test covers each). */
    credentialedRoutes: Array<{ method: string; url: string; action: ActionInfo | null; admin: boolean }>;
    /** Every route as registered, HEAD aside (the OpenAPI test checks each is documented, with a schema). */
    allRoutes: Array<{ method: string; url: string; schema: Record<string, unknown> | undefined; auth: boolean }>;
  }
}

/** The budget for routes without credentials: smaller, split between addresses in the same proportion. */
function anonymousShares(shares: BodyShares): BodyShares {
  const totalBytes = Math.min(ANONYMOUS_BUDGET, shares.totalBytes);
  const perAddressBytes = Math.max(ANONYMOUS_BODY_LIMIT, Math.floor((totalBytes * shares.perAddressBytes) / shares.totalBytes));
  return { totalBytes, perAddressBytes: Math.min(totalBytes, perAddressBytes), perCredentialBytes: totalBytes };
}

/** GET and DELETE bodies are not parsed by Fastify, yet a signature may cover one (the SDKs' IAM GETs send "{}"). */
async function readUnparsedBody(request: FastifyRequest, limit: number): Promise<Buffer | undefined> {
  const raw = request.raw;
  const length = Number(raw.headers['content-length'] ?? 0);
  if (!(length > 0 || raw.headers['transfer-encoding']) || raw.readableEnded) return undefined;
  if (length > limit) throw entityTooLarge('Request entity too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw entityTooLarge('Request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function buildApi(ctx: ApiContext, options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Fastify's two lines a request (received, completed) become one, with the caller (request-log-hook.ts).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: options.bodyLimit,
    requestIdHeader: false,
    // A domain name in the path (v2 detail by name) may be 200 characters, beyond the router's 100.
    routerOptions: { maxParamLength: 255 },
    genReqId: nextRequestId,
    // Query values stay strings (the handlers check their ranges); bodies are not coerced, so a
    // string where the spec wants a list is refused rather than wrapped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // Node's defaults let a client hold a connection with a trickled or stalled request for minutes
    // (Fastify turns requestTimeout off). Timeouts are checked at this interval.
    requestTimeout: options.bodyTimeoutMs,
    http: {
      requestTimeout: options.bodyTimeoutMs,
      headersTimeout: options.headerTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, options.headerTimeoutMs),
    },
    clientErrorHandler: clientErrorHandler(nextRequestId, options.headerTimeoutMs, options.bodyTimeoutMs, (line) => options.logger.info(line, 'request')),
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('caller', null as never);
  app.decorateRequest('credential', null as never);
  app.decorateRequest('call', null as never);
  app.decorateRequest('errorCode', null);
  const budget = new BodyBudget(options.bodyBudget);
  const anonymousBudget = new BodyBudget(anonymousShares(options.bodyBudget));
  app.decorate('bodyBudgets', { credentialed: budget, anonymous: anonymousBudget });
  app.decorate('credentialedRoutes', []);
  app.decorate('allRoutes', []);

  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') app.allRoutes.push({ method, url: route.url, schema: route.schema as Record<string, unknown> | undefined, auth: route.config?.auth !== false });
    if (route.config?.auth !== false && route.config?.action === undefined) throw new Error(`route ${String(route.method)} ${route.url} names no IAM action`);
    if (route.config?.auth === false) route.bodyLimit = Math.min(route.bodyLimit ?? options.bodyLimit, ANONYMOUS_BODY_LIMIT);
    else if (route.config?.action !== undefined) {
      for (const method of [route.method].flat()) if (method !== 'HEAD') app.credentialedRoutes.push({ method, url: route.url, action: route.config.action, admin: route.config.admin === true });
    }
  });

  // Keep the raw bytes: the signature covers their hash. JSON is parsed after authentication; a body
  // gets here only once onRequest has found it announced as uncompressed application/json.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Everything decided from the headers, before a body byte is read: the body's size and type, and
  // the caller's credential (a known key or a valid token); then a share of the body budget, charged
  // to the whole, to the source address and to the credential.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    if (request.is404) throw routeNotFound(`No API matches ${request.method} ${request.url.split('?')[0].slice(0, 200)}`);
    const config = request.routeOptions.config;
    const limit = request.routeOptions.bodyLimit ?? options.bodyLimit;
    const body = announcedBody(request.headers);
    if (body.length !== undefined && body.length > limit) throw entityTooLarge('Request entity too large');
    if (body.present) checkJsonBody(request.headers);
    if (config.auth !== false) request.credential = await identify(request, ctx.auth);
    if (body.present) {
      const credential = config.auth === false ? undefined : request.credential.kind === 'key' ? `key:${request.credential.parsed.accessKey}` : `account:${request.credential.caller.accountId}`;
      const refusal = (config.auth === false ? anonymousBudget : budget).reserve(body.length ?? limit, { address: sourceKey(request.ip), credential }, request, reply);
      if (refusal) throw throttled(BUDGET_REFUSALS[refusal]);
    }
  });

  app.addHook('preValidation', async (request, reply) => {
    const config = request.routeOptions.config;
    const limit = request.routeOptions.bodyLimit ?? options.bodyLimit;
    const raw = Buffer.isBuffer(request.body) ? request.body : await readUnparsedBody(request, limit);
    if (config.auth !== false) {
      const caller = (request.caller = verify(request, request.credential, raw));
      if (caller.accessKey !== null) ctx.auth.noteKeyUse(caller.accessKey);
      if (config.action) {
        const actor = { accountId: caller.accountId, userId: caller.userId, userName: caller.userName, accessKey: caller.accessKey, sourceIp: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 256), requestId: request.id };
        request.call = new Call(actor, caller.permissions, config.action);
      }
      // The call exists before the refusals below, so that they are on the audit trail.
      if (config.admin && !caller.isAdmin) throw forbidden('Only the admin account may do this.');
      // Before anything is read or written: refused here when no statement could allow the action.
      if (config.action) request.call.check({});
      if (config.rateClass) {
        const refusal = await ctx.rates.take(request.caller.accountId, config.rateClass);
        if (refusal) {
          ctx.metrics?.rateRefusals.labels(config.rateClass).inc();
          throw rateRefused(reply, config.rateClass, refusal);
        }
      }
    }
    if (Buffer.isBuffer(request.body)) {
      if (request.body.length === 0) request.body = undefined;
      else {
        let text: string;
        try {
          text = UTF8.decode(request.body);
        } catch {
          throw badParameter('The request body is not valid UTF-8.');
        }
        try {
          request.body = JSON.parse(text);
        } catch {
          throw badParameter('The request body is not valid JSON.');
        }
      }
    }
  });

  // First: the request line must not wait for an audit row's write (--audit-reads writes after the answer).
  registerRequestLog(app);
  registerAuditHooks(app, ctx.audit);
  if (ctx.metrics) registerMetricsHook(app, ctx.metrics);
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, routeNotFound(`No API matches ${request.method} ${request.url.split('?')[0].slice(0, 200)}`)));

  // Before the routes: it documents those registered after it.
  await registerOpenApi(app);
  await app.register(healthRoutes(ctx));
  await app.register(docsRoutes());
  await app.register(taskCreateRoutes(ctx));
  await app.register(historyRoutes(ctx));
  await app.register(domainRoutes(ctx));
  await app.register(quotaRoutes(ctx));
  await app.register(iamRoutes(ctx));
  await app.register(adminRoutes(ctx));
  await app.register(auditRoutes(ctx));
  await app.register(domainSettingsRoutes(ctx));
  await app.register(userRoutes(ctx));
  await app.register(groupRoutes(ctx));
  await app.register(policyRoutes(ctx));
  await app.register(projectRoutes(ctx));
  await app.register(keyRoutes(ctx));
  return app;
}
