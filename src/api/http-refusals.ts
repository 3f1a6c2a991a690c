// Refusals made below the routes — by Node's HTTP parser (headers too large, a request not received in
// time, Content-Length with Transfer-Encoding, a bad chunk size) and by Fastify's router (a bad `%` in
// the path) — answered in the gateway shape with X-Request-Id like every other error (§10.3, §17).
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { headersTooLarge, malformedRequest, requestTimeout, type CachectlError } from '../errors.js';
import { errorBody, sendError } from './error-reply.js';

/** The parser's error as one of ours; the llhttp reason names the defect without echoing input. */
function parserRefusal(err: NodeJS.ErrnoException & { reason?: string }, timeoutMs: number): CachectlError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestTimeout(`Request timeout: the request was not received in full within ${timeoutMs / 1000} s`);
  if (err.code === 'HPE_HEADER_OVERFLOW') return headersTooLarge('Request header fields too large');
  return malformedRequest(`Malformed HTTP request${err.reason ? `: ${err.reason}` : ''}`);
}

/** A handler for the server's 'clientError' event: writes the answer on the socket, then closes it. */
/** `log`: writes the refusal's request line (it never reaches a route, so no hook logs it). */
export function clientErrorHandler(nextRequestId: () => string, headerTimeoutMs: number, bodyTimeoutMs: number, log?: (line: Record<string, unknown>) => void) {
  return (err: NodeJS.ErrnoException & { reason?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    // A response already under way (a refusal while the body was still arriving) cannot take another.
    const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !pending?.headersSent) {
      const timedOutInHeaders = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && !pending;
      const coded = parserRefusal(err, timedOutInHeaders ? headerTimeoutMs : bodyTimeoutMs);
      const id = nextRequestId();
      const body = JSON.stringify(errorBody(coded, id));
      const status = `${coded.statusCode} ${coded.statusCode === 408 ? 'Request Timeout' : coded.statusCode === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`;
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`,
      );
      log?.({ request_id: id, route: 'unparsed', status: coded.statusCode, ip: socket.remoteAddress ?? '', error_code: coded.code });
    }
    // Closed for good a moment later, so the answer is read before the connection goes (a close with
    // unread input would reset it).
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}

/** Fastify's framework errors (a bad `%` in the path and the like), as 400 APIGW.0201. */
export function frameworkErrors(err: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const message = err.code === 'FST_ERR_BAD_URL' ? 'Malformed request path: invalid percent-encoding' : `Malformed request (${err.code ?? 'framework error'})`;
  sendError(request, reply, malformedRequest(message));
}
