// Who is calling, for every protected route: an SDK-HMAC-SHA256 signature (any SDK's choice of
// signed headers) or an IAM token (huawei-cdn-api.md §13, §12). Runs after the raw body is read,
// because the signature covers its hash. Failed signatures never lock a key: anyone who knows an
// access key could otherwise lock its owner out.
import type { FastifyRequest } from 'fastify';
import type { AuthService, Caller } from '../../services/auth-service.js';
import { authFailed, clockSkew } from '../../errors.js';
import { EMPTY_SHA256, parseAuthorization, sha256Hex, verifySignature } from './sdk-signature.js';

export async function authenticate(request: FastifyRequest, auth: AuthService, rawBody: Buffer | undefined): Promise<Caller> {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const parsed = parseAuthorization(header);
    if (!parsed) throw authFailed('Incorrect IAM authentication information: malformed Authorization header');
    const owner = await auth.keyOwner(parsed.accessKey);
    if (!owner) throw authFailed('Incorrect IAM authentication information: Get secretKey failed');
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const result = verifySignature(
      {
        method: request.method,
        rawPath: q >= 0 ? url.slice(0, q) : url,
        rawQuery: q >= 0 ? url.slice(q + 1) : '',
        headers: request.headers,
        bodySha256Hex: rawBody && rawBody.length > 0 ? sha256Hex(rawBody) : EMPTY_SHA256,
      },
      parsed,
      owner.secretKey,
      Date.now(),
    );
    if (!result.ok) {
      if (result.reason === 'clock_skew') throw clockSkew('Incorrect IAM authentication information: X-Sdk-Date is more than 15 minutes off the server time');
      if (result.reason === 'missing_date') throw authFailed('Incorrect IAM authentication information: X-Sdk-Date is missing');
      if (result.reason === 'date_not_signed') throw authFailed('Incorrect IAM authentication information: x-sdk-date must be a signed header');
      if (result.reason === 'unsigned_body') throw authFailed('Incorrect IAM authentication information: UNSIGNED-PAYLOAD is accepted only without a body; sign the body');
      if (result.reason === 'hash_mismatch') throw authFailed('Incorrect IAM authentication information: X-Sdk-Content-Sha256 is not the hash of the body received');
      throw authFailed('Incorrect IAM authentication information: verify aksk signature fail');
    }
    const domainId = request.headers['x-domain-id'];
    if (domainId !== undefined && domainId !== owner.accountId) {
      throw authFailed('Incorrect IAM authentication information: X-Domain-Id is not the account of this access key');
    }
    return { accountId: owner.accountId, accountName: owner.accountName, isAdmin: owner.isAdmin };
  }
  const token = request.headers['x-auth-token'];
  if (typeof token === 'string' && token.length > 0) {
    const caller = await auth.tokenCaller(token);
    if (!caller) throw authFailed('Incorrect IAM authentication information: the token is invalid or has expired');
    const domainId = request.headers['x-domain-id'];
    if (domainId !== undefined && domainId !== caller.accountId) throw authFailed('Incorrect IAM authentication information: X-Domain-Id is not the account of this token');
    return caller;
  }
  throw authFailed('Incorrect IAM authentication information: x-auth-token or an AK/SK signature is required');
}
