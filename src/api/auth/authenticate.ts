// Who is calling, for every protected route: an SDK-HMAC-SHA256 signature (any SDK's choice of
// signed headers) or an IAM token (huawei-cdn-api.md §13, §12). In two steps, because the signature
// covers the body's hash: `identify` runs before any body byte is read and refuses anonymous callers,
// malformed headers, unknown keys and bad tokens; `verify` checks the signature once the body is in.
// Failed signatures never lock a key: anyone who knows an access key could otherwise lock its owner out.
import type { FastifyRequest } from 'fastify';
import type { AuthService, Caller, KeyOwner } from '../../services/auth-service.js';
import { authFailed, clockSkew } from '../../errors.js';
import { EMPTY_SHA256, sha256Hex } from '../../signing/sdk-signature.js';
import { parseAuthorization, verifySignature, type ParsedAuthorization } from './verify-signature.js';

/** What the headers claim: a known key whose signature is still to be checked, or a valid token's caller. */
export type Credential = { kind: 'key'; parsed: ParsedAuthorization; owner: KeyOwner } | { kind: 'token'; caller: Caller };

function checkDomainId(request: FastifyRequest, accountId: string, what: string): void {
  const domainId = request.headers['x-domain-id'];
  if (domainId !== undefined && domainId !== accountId) throw authFailed(`Incorrect IAM authentication information: X-Domain-Id is not the account of this ${what}`);
}

/** From the headers alone (cached lookups): the credential named, or an APIGW.0301 refusal. */
export async function identify(request: FastifyRequest, auth: AuthService): Promise<Credential> {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const parsed = parseAuthorization(header);
    if (!parsed) throw authFailed('Incorrect IAM authentication information: malformed Authorization header');
    const owner = await auth.keyOwner(parsed.accessKey);
    if (!owner) throw authFailed('Incorrect IAM authentication information: Get secretKey failed');
    if (owner.refusal) throw authFailed(`Incorrect IAM authentication information: the access key is ${owner.refusal}`);
    // X-Domain-Id is checked in verify, once the signature holds: refused here, it would tell anyone
    // who knows only the access key ID whether a guessed account id owns it.
    return { kind: 'key', parsed, owner };
  }
  const token = request.headers['x-auth-token'];
  if (typeof token === 'string' && token.length > 0) {
    const caller = await auth.tokenCaller(token);
    if (!caller) throw authFailed('Incorrect IAM authentication information: the token is invalid or has expired');
    checkDomainId(request, caller.accountId, 'token');
    return { kind: 'token', caller };
  }
  throw authFailed('Incorrect IAM authentication information: x-auth-token or an AK/SK signature is required');
}

/** With the body received: the caller, once the signature over method, path, query, headers and body holds. */
export function verify(request: FastifyRequest, credential: Credential, rawBody: Buffer | undefined): Caller {
  if (credential.kind === 'token') return credential.caller;
  const { parsed, owner } = credential;
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
  checkDomainId(request, owner.accountId, 'access key');
  const { secretKey: _secret, refusal: _refusal, expiresAt: _expiresAt, ...caller } = owner;
  return caller;
}
