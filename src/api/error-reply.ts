// Writes errors in the shapes the official SDKs parse (huawei-cdn-api.md §10, §17): CDN.* as the hybrid
// body (nested and top-level), APIGW.* as the flat gateway body with request_id.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CachectlError, badParameter, entityTooLarge, frameworkRefusal, internalError } from '../errors.js';

export function errorBody(err: CachectlError, requestId: string): Record<string, unknown> {
  if (err.isGateway) return { error_code: err.code, error_msg: err.message, request_id: requestId };
  return { error: { error_code: err.code, error_msg: err.message }, error_code: err.code, error_msg: err.message };
}

/** Maps anything thrown to one of our coded errors. */
export function toCachectlError(err: unknown): CachectlError {
  if (err instanceof CachectlError) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) {
    // Ajv says where: "body/refresh_task/urls must be array".
    const where = e.validationContext ? `${e.validationContext}` : 'request';
    return badParameter(`Invalid parameter: ${(e.message ?? 'validation failed').replace(/^(body|querystring|params)\/?/, `${where} `)}`);
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return entityTooLarge('Request entity too large');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return frameworkRefusal(e.statusCode, e.message || 'Malformed request');
  }
  return internalError('Internal server error');
}

// A refused body (too large, or refused from its headers before it was read) is answered at once, then
// the rest is discarded for a while before the connection closes (a "lingering close", as nginx does):
// closing at once would make most clients fail on EPIPE while still sending, without ever reading the
// answer. Discarded bytes cost no memory; a client that stops sending is cut after LINGER_MS.
const LINGER_MS = 10_000;
const LINGER_BYTES = 256 * 1024 * 1024;

function lingerOnUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  if (raw.complete) return;
  reply.removeHeader('connection');
  let seen = 0;
  const cut = () => raw.socket?.destroy();
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  raw.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > LINGER_BYTES) cut();
  });
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const coded = toCachectlError(err);
  // For the audit row of a failed call (audit-hook.ts).
  request.errorCode = coded.code;
  if (coded.statusCode >= 500) request.log.error({ err }, 'request failed');
  lingerOnUnreadBody(request, reply);
  return reply
    .code(coded.statusCode)
    .header('X-Request-Id', String(request.id))
    .header('content-type', 'application/json; charset=utf-8')
    .send(errorBody(coded, String(request.id)));
}
