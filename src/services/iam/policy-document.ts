// Huawei's policy language (fine-grained policies, Version 1.1): parsing and validation. A document that
// would not do what its author meant (an unknown operator or condition key, a misspelt effect) is refused
// when it is written, never silently ignored when it is evaluated.
import { badParameter } from '../../errors.js';

export type Effect = 'Allow' | 'Deny';

/** Condition operators cachectl evaluates; each takes a list of values (any one may match). */
// Huawei's string operators (StringMatch takes * and ?); StringLike and StringNotLike are accepted as their
// synonyms (the AWS names users bring along). Number, date, Bool, Null and IP operators have no key to test here.
export const OPERATORS = ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringMatch', 'StringNotMatch', 'StringLike', 'StringNotLike', 'StringStartWith', 'StringEndWith'] as const;
export type Operator = (typeof OPERATORS)[number];

/** Condition keys cachectl knows: the enterprise project of what the call acts on. */
export const CONDITION_KEYS = ['g:EnterpriseProjectId'] as const;
export type ConditionKey = (typeof CONDITION_KEYS)[number];

export interface Condition {
  operator: Operator;
  key: ConditionKey;
  values: string[];
}

export interface Statement {
  effect: Effect;
  actions: string[];
  /** undefined: every resource. */
  resources?: string[];
  conditions: Condition[];
}

export interface PolicyDocument {
  version: '1.1';
  statements: Statement[];
}

const ACTION = /^(\*|[a-z0-9*?]+:[A-Za-z0-9*?]+:[A-Za-z0-9*?]+)$/i;
/** `CDN:<region>:<account>:domain:<name>`, the part after the type a domain name or pattern; or '*'. */
const RESOURCE = /^(\*|cdn:[^:]*:[^:]*:domain:[A-Za-z0-9*?.-]{1,255})$/i;
const MAX_STATEMENTS = 100;
const MAX_ITEMS = 200;
export const MAX_DOCUMENT_BYTES = 6_144;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringList(v: unknown, what: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ITEMS || !list.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 300)) {
    throw badParameter(`policy: ${what} must be a non-empty list of at most ${MAX_ITEMS} strings`);
  }
  return list as string[];
}

function conditions(v: unknown, where: string): Condition[] {
  if (v === undefined) return [];
  if (!isObject(v)) throw badParameter(`policy: ${where}.Condition must be an object`);
  const out: Condition[] = [];
  for (const [operator, keys] of Object.entries(v)) {
    if (!(OPERATORS as readonly string[]).includes(operator)) throw badParameter(`policy: ${where}.Condition: operator '${operator}' is not supported (supported: ${OPERATORS.join(', ')})`);
    if (!isObject(keys)) throw badParameter(`policy: ${where}.Condition.${operator} must be an object of condition keys`);
    for (const [key, values] of Object.entries(keys)) {
      if (!(CONDITION_KEYS as readonly string[]).includes(key)) throw badParameter(`policy: ${where}.Condition: key '${key}' is not supported (supported: ${CONDITION_KEYS.join(', ')})`);
      out.push({ operator: operator as Operator, key: key as ConditionKey, values: stringList(values, `${where}.Condition.${operator}.${key}`) });
    }
  }
  return out;
}

/** The document as cachectl keeps it, or CDN.0001 naming the first defect. */
export function parsePolicyDocument(input: unknown): PolicyDocument {
  const doc = typeof input === 'string' ? parseJson(input) : input;
  if (!isObject(doc)) throw badParameter('policy: the document must be a JSON object');
  if (JSON.stringify(doc).length > MAX_DOCUMENT_BYTES) throw badParameter(`policy: the document is longer than ${MAX_DOCUMENT_BYTES} characters`);
  if (doc.Version !== '1.1') throw badParameter("policy: Version must be \"1.1\" (fine-grained policies)");
  const raw = doc.Statement;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_STATEMENTS) throw badParameter(`policy: Statement must be a list of 1 to ${MAX_STATEMENTS} statements`);
  const statements = raw.map((s, i): Statement => {
    const where = `Statement[${i}]`;
    if (!isObject(s)) throw badParameter(`policy: ${where} must be an object`);
    for (const k of Object.keys(s)) if (!['Effect', 'Action', 'Resource', 'Condition'].includes(k)) throw badParameter(`policy: ${where}: unknown field '${k}'`);
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw badParameter(`policy: ${where}.Effect must be "Allow" or "Deny"`);
    const actions = stringList(s.Action, `${where}.Action`);
    for (const a of actions) if (!ACTION.test(a)) throw badParameter(`policy: ${where}.Action '${a}' is not of the form service:resource:action`);
    const resources = s.Resource === undefined ? undefined : stringList(s.Resource, `${where}.Resource`);
    for (const r of resources ?? []) if (!RESOURCE.test(r)) throw badParameter(`policy: ${where}.Resource '${r}' must be '*' or CDN:*:*:domain:<name or pattern>`);
    return { effect: s.Effect, actions, ...(resources && { resources }), conditions: conditions(s.Condition, where) };
  });
  return { version: '1.1', statements };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badParameter('policy: the document is not valid JSON');
  }
}

/** Back to Huawei's JSON form, as stored and shown. */
export function policyJson(doc: PolicyDocument): Record<string, unknown> {
  return {
    Version: doc.version,
    Statement: doc.statements.map((s) => ({
      Effect: s.effect,
      Action: s.actions,
      ...(s.resources && { Resource: s.resources }),
      ...(s.conditions.length > 0 && {
        Condition: s.conditions.reduce<Record<string, Record<string, string[]>>>((acc, c) => {
          (acc[c.operator] ??= {})[c.key] = c.values;
          return acc;
        }, {}),
      }),
    })),
  };
}
