// GET /openapi.json and GET /docs: the API's OpenAPI 3.1 document and a page made from it. Public (they
// hold no secret: schemas only), built once on first request, and cacheable (ETag, Cache-Control).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { docsPage } from '../docs-page.js';

interface Rendered {
  body: string;
  etag: string;
}

const render = (body: string): Rendered => ({ body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });

function sendCached(request: FastifyRequest, reply: FastifyReply, doc: Rendered, type: string) {
  reply.header('cache-control', 'public, max-age=300').header('etag', doc.etag);
  if (request.headers['if-none-match'] === doc.etag) return reply.code(304).send();
  return reply.type(type).send(doc.body);
}

export function docsRoutes(): FastifyPluginAsyncTypebox {
  return async (app) => {
    let json: Rendered | undefined;
    let html: Rendered | undefined;
    // The routes are all registered by the time anyone can ask (the server listens after ready()).
    const document = () => (json ??= render(JSON.stringify(app.swagger())));

    app.get('/openapi.json', { config: { auth: false }, schema: { summary: 'This OpenAPI 3.1 document', produces: ['application/json'] } }, async (request, reply) =>
      sendCached(request, reply, document(), 'application/json; charset=utf-8'),
    );
    app.get('/docs', { config: { auth: false }, schema: { summary: 'This document as an HTML page (self-contained, no script)', produces: ['text/html'] } }, async (request, reply) => {
      html ??= render(docsPage(JSON.parse(document().body)));
      // Nothing may load from anywhere: the page is complete as sent.
      reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
      return sendCached(request, reply, html, 'text/html; charset=utf-8');
    });
  };
}
