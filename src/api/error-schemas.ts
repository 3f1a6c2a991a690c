// The error bodies every route may answer (src/errors.ts, error-reply.ts), as JSON Schema for the OpenAPI
// document only: the routes' runtime response schemas are left alone, so that no answer changes.
import { Type } from '@sinclair/typebox';
import { authFailed, badParameter } from '../errors.js';

/** CDN.* errors: nested and top-level at once, as the official SDKs read them. */
export const CdnError = Type.Object(
  {
    error: Type.Object({ error_code: Type.String({ examples: [badParameter.code] }), error_msg: Type.String() }),
    error_code: Type.String({ pattern: '^CDN\\.' }),
    error_msg: Type.String(),
  },
  { title: 'CdnError', description: 'A CDN business error (codes CDN.*): the same code and message nested and at the top level.' },
);

/** APIGW.* errors: answered before any CDN logic runs (authentication, routing, limits). */
export const GatewayError = Type.Object(
  {
    error_code: Type.String({ pattern: '^APIGW\\.', examples: [authFailed.code] }),
    error_msg: Type.String(),
    request_id: Type.String(),
  },
  { title: 'GatewayError', description: 'A gateway error (codes APIGW.*): authentication, unknown route, size, rate or time limits.' },
);

export const ErrorBody = Type.Union([CdnError, GatewayError], { $id: 'ErrorBody', title: 'ErrorBody', description: 'docs/error-codes.md lists every code with its status.' });

/** What every credentialed route may answer on refusal, by reference: written once in the document. */
const ERROR_REF = { $ref: 'ErrorBody#', description: 'A CDN.* or APIGW.* error (docs/error-codes.md)' };
export const ERROR_RESPONSES = { '4xx': ERROR_REF, '5xx': ERROR_REF } as const;
