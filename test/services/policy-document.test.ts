// Policy documents as Huawei writes them (usermanual-cdn cdn_01_0036, huawei-cdn-api.md §18) are read as
// meant; a document with a defect is refused with CDN.0001 naming the defect, never half-read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachectlError } from '../../src/errors.js';
import { MAX_DOCUMENT_BYTES, parsePolicyDocument, policyJson } from '../../src/services/iam/policy-document.js';

/** Asserts CDN.0001 (400) whose message matches `names`. */
function refused(input: unknown, names: RegExp): void {
  assert.throws(
    () => parsePolicyDocument(input),
    (err: unknown) => {
      assert.ok(err instanceof CachectlError, `not a CachectlError: ${String(err)}`);
      assert.equal(err.code, 'CDN.0001');
      assert.equal(err.statusCode, 400);
      assert.match(err.message, names);
      return true;
    },
  );
}

const doc = (...statements: unknown[]) => ({ Version: '1.1', Statement: statements });

test("Huawei's published examples are read as written: Effect before or after Action, no Resource (every resource)", () => {
  // Example 1 and 3 of "Creating a Custom Policy", as JSON text with Huawei's own indentation.
  const create = parsePolicyDocument('{\n    "Version": "1.1",\n    "Statement": [\n        {\n            "Effect": "Allow",\n            "Action": [\n                "cdn:configuration:createDomains"\n            ]\n        }\n    ]\n}');
  assert.deepEqual(create, { version: '1.1', statements: [{ effect: 'Allow', actions: ['cdn:configuration:createDomains'], conditions: [] }] });
  const deny = parsePolicyDocument({ Version: '1.1', Statement: [{ Action: ['cdn:configuration:deleteDomains'], Effect: 'Deny' }] });
  assert.deepEqual(deny.statements, [{ effect: 'Deny', actions: ['cdn:configuration:deleteDomains'], conditions: [] }]);
  assert.equal(deny.statements[0].resources, undefined, 'no Resource: the statement applies to every resource');
});

test('resources, wildcards and the g:EnterpriseProjectId condition are kept; policyJson gives the document back', () => {
  const input = doc(
    { Effect: 'Allow', Action: ['cdn:configuration:refreshCache', 'cdn:configuration:query*', 'cdn:*:*', '*'], Resource: ['CDN:*:*:domain:*.static.example.com', 'cdn:*:*:domain:img?.example.com'] },
    { Effect: 'Deny', Action: ['cdn:configuration:deleteDomains'], Resource: ['*'], Condition: { StringEquals: { 'g:EnterpriseProjectId': ['p1', 'p2'] }, StringNotMatch: { 'g:EnterpriseProjectId': ['test-*'] } } },
  );
  const parsed = parsePolicyDocument(input);
  assert.deepEqual(parsed.statements[0].resources, ['CDN:*:*:domain:*.static.example.com', 'cdn:*:*:domain:img?.example.com']);
  assert.deepEqual(parsed.statements[1].conditions, [
    { operator: 'StringEquals', key: 'g:EnterpriseProjectId', values: ['p1', 'p2'] },
    { operator: 'StringNotMatch', key: 'g:EnterpriseProjectId', values: ['test-*'] },
  ]);
  assert.deepEqual(policyJson(parsed), input);
  assert.deepEqual(parsePolicyDocument(policyJson(parsed)), parsed, 'the stored form reads back the same');
});

test('a single string where a list goes is read as a list of one', () => {
  const parsed = parsePolicyDocument(doc({ Effect: 'Allow', Action: 'cdn:configuration:refreshCache', Resource: 'CDN:*:*:domain:www.example.com', Condition: { StringEquals: { 'g:EnterpriseProjectId': '0' } } }));
  assert.deepEqual(parsed.statements[0].actions, ['cdn:configuration:refreshCache']);
  assert.deepEqual(parsed.statements[0].resources, ['CDN:*:*:domain:www.example.com']);
  assert.deepEqual(parsed.statements[0].conditions[0].values, ['0']);
});

test('every supported operator is accepted on g:EnterpriseProjectId', () => {
  for (const op of ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringMatch', 'StringNotMatch', 'StringLike', 'StringNotLike', 'StringStartWith', 'StringEndWith']) {
    const parsed = parsePolicyDocument(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Condition: { [op]: { 'g:EnterpriseProjectId': ['p1'] } } }));
    assert.equal(parsed.statements[0].conditions[0].operator, op);
  }
});

test('the document itself: not JSON, not an object, too long', () => {
  refused('{"Version": "1.1", "Statement": [', /not valid JSON/);
  refused('[]', /must be a JSON object/);
  refused(null, /must be a JSON object/);
  refused('"cdn:*:*"', /must be a JSON object/);
  const many = Array.from({ length: 400 }, (_, i) => `cdn:configuration:action${i}`);
  const long = doc({ Effect: 'Allow', Action: many.slice(0, 200) }, { Effect: 'Allow', Action: many.slice(200) });
  assert.ok(JSON.stringify(long).length > MAX_DOCUMENT_BYTES);
  refused(long, new RegExp(`longer than ${MAX_DOCUMENT_BYTES} characters`));
});

test('Version: only "1.1" (fine-grained policies)', () => {
  refused({ Statement: [{ Effect: 'Allow', Action: ['cdn:*:*'] }] }, /Version must be "1\.1"/);
  refused({ Version: '1.0', Statement: [{ Effect: 'Allow', Action: ['cdn:*:*'] }] }, /Version must be "1\.1"/);
  refused({ Version: 1.1, Statement: [{ Effect: 'Allow', Action: ['cdn:*:*'] }] }, /Version must be "1\.1"/);
  refused({ Version: '5.0', Statement: [{ Effect: 'Allow', Action: ['cdn:*:*'] }] }, /Version must be "1\.1"/);
});

test('Statement: a list of 1 to 100 objects, with only the four known fields', () => {
  refused({ Version: '1.1' }, /Statement must be a list of 1 to 100/);
  refused({ Version: '1.1', Statement: [] }, /Statement must be a list of 1 to 100/);
  refused({ Version: '1.1', Statement: { Effect: 'Allow', Action: ['cdn:*:*'] } }, /Statement must be a list/);
  refused(doc(...Array.from({ length: 101 }, () => ({ Effect: 'Allow', Action: '*' }))), /Statement must be a list of 1 to 100/);
  refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'] }, 'Allow'), /Statement\[1\] must be an object/);
  refused(doc({ Sid: 'x', Effect: 'Allow', Action: ['cdn:*:*'] }), /Statement\[0\]: unknown field 'Sid'/);
  refused(doc({ Effect: 'Allow', NotAction: ['cdn:*:*'] }), /Statement\[0\]: unknown field 'NotAction'/);
});

test('Effect: exactly "Allow" or "Deny"', () => {
  for (const effect of ['allow', 'DENY', 'Permit', '', undefined, true]) {
    refused(doc({ Effect: effect, Action: ['cdn:*:*'] }), /Statement\[0\]\.Effect must be "Allow" or "Deny"/);
  }
  refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'] }, { Effect: 'deny', Action: ['cdn:*:*'] }), /Statement\[1\]\.Effect/);
});

test('Action: a non-empty list of service:resource:action names (or *), each named when wrong', () => {
  refused(doc({ Effect: 'Allow' }), /Statement\[0\]\.Action must be a non-empty list/);
  refused(doc({ Effect: 'Allow', Action: [] }), /Statement\[0\]\.Action must be a non-empty list/);
  refused(doc({ Effect: 'Allow', Action: [''] }), /Statement\[0\]\.Action must be a non-empty list/);
  refused(doc({ Effect: 'Allow', Action: [42] }), /Statement\[0\]\.Action must be a non-empty list/);
  refused(doc({ Effect: 'Allow', Action: Array.from({ length: 201 }, () => '*') }), /at most 200 strings/);
  for (const bad of ['cdn:refreshCache', 'cdn', 'cdn:configuration:refresh:Cache', 'cdn:configuration:refresh Cache', 'cdn::refreshCache', 'cdn:configuration:refresh-cache']) {
    refused(doc({ Effect: 'Allow', Action: ['cdn:configuration:queryDomains', bad] }), new RegExp(`Statement\\[0\\]\\.Action '${bad}' is not of the form service:resource:action`));
  }
});

test("Resource: '*' or CDN:<region>:<account>:domain:<name or pattern>, each named when wrong", () => {
  refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Resource: [] }), /Statement\[0\]\.Resource must be a non-empty list/);
  for (const bad of ['domain:www.example.com', 'www.example.com', 'CDN:*:*:bucket:www.example.com', 'OBS:*:*:domain:www.example.com', 'CDN:*:*:domain:', 'CDN:*:*:domain:www.example.com/path', 'CDN:*:*:domain:a b']) {
    refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Resource: ['*', bad] }), new RegExp(`Statement\\[0\\]\\.Resource '${bad.replace(/[.*]/g, '\\$&')}' must be '\\*' or CDN:\\*:\\*:domain:`));
  }
});

test('Condition: an object of supported operators over supported keys, each named when not', () => {
  refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Condition: [] }), /Statement\[0\]\.Condition must be an object/);
  refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Condition: 'StringEquals' }), /Statement\[0\]\.Condition must be an object/);
  for (const op of ['NumberEquals', 'DateLessThan', 'Bool', 'IpAddress', 'StringEqualsIfExists', 'stringequals']) {
    refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Condition: { [op]: { 'g:EnterpriseProjectId': ['0'] } } }), new RegExp(`operator '${op}' is not supported \\(supported: StringEquals, `));
  }
  for (const key of ['g:ResourceTag/team', 'g:ProjectName', 'cdn:DomainName', 'g:enterpriseprojectid']) {
    refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Condition: { StringEquals: { [key]: ['0'] } } }), new RegExp(`key '${key.replace('/', '\\/')}' is not supported \\(supported: g:EnterpriseProjectId\\)`));
  }
  refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Condition: { StringEquals: ['g:EnterpriseProjectId'] } }), /Condition\.StringEquals must be an object of condition keys/);
  refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Condition: { StringEquals: { 'g:EnterpriseProjectId': [] } } }), /Condition\.StringEquals\.g:EnterpriseProjectId must be a non-empty list/);
  refused(doc({ Effect: 'Allow', Action: ['cdn:*:*'], Condition: { StringEquals: { 'g:EnterpriseProjectId': [7] } } }), /Condition\.StringEquals\.g:EnterpriseProjectId must be a non-empty list/);
});
