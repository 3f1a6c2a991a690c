// A domain's origins as a tenant gives them (SourcesRequestBody / SourceWithPort, huawei-cdn-api.md §11.1):
// the checks that need no network, shared by domain create and the origin changes, and the stored form.
import type { SourceRecord } from '../engine/domain-sync.js';
import { checkOriginFormat } from './origin-policy.js';
import { originInvalid, originIsDomain, originTypeInvalid, tooManyOrigins } from '../errors.js';

export interface SourceInput {
  ip_or_domain?: unknown;
  origin_type?: unknown;
  active_standby?: unknown;
  http_port?: unknown;
  https_port?: unknown;
  obs_bucket_type?: unknown;
  enable_obs_web_hosting?: unknown;
}

const ORIGIN_TYPES = ['ipaddr', 'domain', 'obs_bucket'];
const MAX_SOURCES = 50;

function port(value: unknown, fallback: number, field: string): number {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) throw originInvalid(`${field} must be an integer from 1 to 65535`);
  return value as number;
}

/**
 * The origins of domain `name` (lower case) in their stored form, or the spec's error for the first
 * bad one: CDN.0103 (missing, malformed, bad port, no primary), CDN.0129 (type), CDN.0109 (the domain
 * itself), CDN.0130 (too many). The allow-list check (OriginPolicy) comes after, as it may resolve names.
 */
export function parseSources(name: string, inputs: unknown): SourceRecord[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw originInvalid('at least one origin (sources) is required');
  if (inputs.length > MAX_SOURCES) throw tooManyOrigins(`at most ${MAX_SOURCES} origins`);
  const sources = (inputs as SourceInput[]).map((s, i): SourceRecord => {
    const field = `sources[${i}]`;
    if (typeof s !== 'object' || s === null) throw originInvalid(`${field} must be an object`);
    if (typeof s.ip_or_domain !== 'string' || s.ip_or_domain.length === 0 || s.ip_or_domain.length > 255) throw originInvalid(`${field}.ip_or_domain is required`);
    if (typeof s.origin_type !== 'string' || !ORIGIN_TYPES.includes(s.origin_type)) throw originTypeInvalid(`${field}.origin_type must be one of ${ORIGIN_TYPES.join(', ')}`);
    const address = s.ip_or_domain.toLowerCase();
    checkOriginFormat(field, s.origin_type, address);
    if (s.origin_type !== 'ipaddr' && address === name) throw originIsDomain('the origin cannot be the accelerated domain itself');
    if (s.active_standby !== 0 && s.active_standby !== 1) throw originInvalid(`${field}.active_standby must be 1 (primary) or 0 (standby)`);
    const hosting = s.enable_obs_web_hosting;
    if (hosting !== undefined && hosting !== null && hosting !== 0 && hosting !== 1) throw originInvalid(`${field}.enable_obs_web_hosting must be 0 or 1`);
    const bucket = s.origin_type === 'obs_bucket';
    return {
      ip_or_domain: address,
      origin_type: s.origin_type as SourceRecord['origin_type'],
      active_standby: s.active_standby,
      http_port: port(s.http_port, 80, `${field}.http_port`),
      https_port: port(s.https_port, 443, `${field}.https_port`),
      ...(bucket && { obs_bucket_type: typeof s.obs_bucket_type === 'string' ? s.obs_bucket_type : 'public' }),
      ...(bucket && hosting === 1 && { enable_obs_web_hosting: 1 }),
    };
  });
  if (!sources.some((s) => s.active_standby === 1)) throw originInvalid('at least one origin must be primary (active_standby 1)');
  return sources;
}
