// Every error the API answers, with the spec's stable codes (huawei-cdn-api.md §10), one factory per code
// and status; docs/error-codes.md lists them and test/api/error-codes.test.ts keeps the two and the spec in step.
// CDN.* errors are written in the hybrid shape the SDKs parse; APIGW.* errors in the flat gateway shape.

/** The codes cachectl answers: a misspelt code does not compile. */
export type ErrorCode =
  | 'CDN.0000'
  | 'CDN.0001'
  | 'CDN.0003'
  | 'CDN.0004'
  | 'CDN.0020'
  | 'CDN.0021'
  | 'CDN.0101'
  | 'CDN.0103'
  | 'CDN.0104'
  | 'CDN.0105'
  | 'CDN.0106'
  | 'CDN.0108'
  | 'CDN.0109'
  | 'CDN.0110'
  | 'CDN.0120'
  | 'CDN.0121'
  | 'CDN.0126'
  | 'CDN.0127'
  | 'CDN.0128'
  | 'CDN.0129'
  | 'CDN.0130'
  | 'APIGW.0101'
  | 'APIGW.0201'
  | 'APIGW.0301'
  | 'APIGW.0303'
  | 'APIGW.0308';

export class CachectlError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CachectlError';
  }
  get isGateway(): boolean {
    return this.code.startsWith('APIGW.');
  }
}

/** Makes the error for one code and status; `code` and `status` say which, for the documentation's test. */
export interface ErrorFactory<C extends ErrorCode = ErrorCode> {
  (message: string): CachectlError<C>;
  readonly code: C;
  readonly status: number;
}

const make = <C extends ErrorCode>(code: C, status: number): ErrorFactory<C> =>
  Object.assign((message: string) => new CachectlError(code, status, message), { code, status });

// CDN business errors (§10.2).
export const internalError = make('CDN.0000', 500);
export const badParameter = make('CDN.0001', 400);
export const notFound = make('CDN.0003', 404);
export const forbidden = make('CDN.0004', 403);
export const projectNotAuthorised = make('CDN.0020', 403);
export const policyDenied = make('CDN.0021', 403);
export const domainExists = make('CDN.0101', 400);
export const originInvalid = make('CDN.0103', 400);
export const domainQuotaReached = make('CDN.0104', 400);
export const domainNotFound = make('CDN.0105', 400);
export const domainStateForbids = make('CDN.0106', 400);
export const urlNotTenantDomain = make('CDN.0108', 400);
export const originIsDomain = make('CDN.0109', 400);
export const urlQuotaExceeded = make('CDN.0110', 400);
export const domainTakenByOther = make('CDN.0120', 400);
export const originIsPrivate = make('CDN.0121', 400);
export const domainNotDeletable = make('CDN.0126', 400);
export const domainNameInvalid = make('CDN.0127', 400);
export const businessTypeInvalid = make('CDN.0128', 400);
export const originTypeInvalid = make('CDN.0129', 400);
export const tooManyOrigins = make('CDN.0130', 400);

// cachectl's own answers under spec codes, with statuses the spec does not give them.
export const nodeExists = make('CDN.0001', 409);
export const proxyFailed = make('CDN.0001', 502);
export const proxyUnavailable = make('CDN.0001', 503);

// Gateway errors (§10.3), answered before any CDN logic runs.
export const authFailed = make('APIGW.0301', 401);
export const clockSkew = make('APIGW.0303', 401);
export const routeNotFound = make('APIGW.0101', 404);
export const malformedRequest = make('APIGW.0201', 400);
export const entityTooLarge = make('APIGW.0201', 413);
export const throttled = make('APIGW.0308', 429);
// The same gateway code under the status HTTP names for the refusal.
export const requestTimeout = make('APIGW.0201', 408);
export const unsupportedMedia = make('APIGW.0201', 415);
export const headersTooLarge = make('APIGW.0201', 431);

/** Any other 4xx Fastify refuses a request with, under Fastify's status (documented as status `4xx`). */
export const frameworkRefusal = Object.assign(
  (status: number, message: string): CachectlError<'APIGW.0201'> => new CachectlError('APIGW.0201', status, message),
  { code: 'APIGW.0201', status: '4xx' } as const,
);
