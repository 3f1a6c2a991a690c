// Every error the API answers, with the spec's stable codes (huawei-cdn-api.md §10).
// CDN.* errors are written in the hybrid shape the SDKs parse; APIGW.* errors in the flat gateway shape.

export class CachectlError extends Error {
  constructor(
    readonly code: string,
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

const make = (code: string, status: number) => (message: string) => new CachectlError(code, status, message);

// CDN business errors (§10.2).
export const internalError = make('CDN.0000', 500);
export const badParameter = make('CDN.0001', 400);
export const notAuthenticated = make('CDN.0002', 401);
export const notFound = make('CDN.0003', 404);
export const forbidden = make('CDN.0004', 403);
export const limitExceeded = make('CDN.0005', 400);
export const businessTypeUnsupported = make('CDN.0016', 400);
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

// Gateway errors (§10.3), answered before any CDN logic runs.
export const authFailed = make('APIGW.0301', 401);
export const clockSkew = make('APIGW.0303', 401);
export const routeNotFound = make('APIGW.0101', 404);
export const malformedRequest = make('APIGW.0201', 400);
export const entityTooLarge = make('APIGW.0201', 413);
export const throttled = make('APIGW.0308', 429);
