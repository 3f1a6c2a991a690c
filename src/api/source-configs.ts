// The v1.1 UpdateDomainFullConfig body (`{"configs": {...}}`, huawei-cdn-api.md §11.5) as cachectl takes
// it: `sources` only, in the v2 SourcesConfig shape, turned into the v1 SourceWithPort shape that domain
// create and UpdateDomainOrigin check. Any other config key is refused, naming it, with nothing changed:
// cachectl has no such setting, and a 200 would tell a tool (Terraform, a script) that it was applied.
import type { SourceInput } from '../services/domain-sources.js';
import { badParameter, originInvalid } from '../errors.js';

const PRIORITY: Record<number, number> = { 70: 1, 30: 0 };
const HOSTING: Record<string, number> = { on: 1, off: 0 };

export function sourcesFromConfigs(domainName: string, configs: Record<string, unknown>): SourceInput[] {
  const others = Object.keys(configs).filter((k) => k !== 'sources');
  if (others.length > 0) {
    throw badParameter(`configs.${others.join(', configs.')}: not supported by cachectl, nothing was changed; only configs.sources can be changed.`);
  }
  const list = configs.sources;
  if (!Array.isArray(list)) throw badParameter('configs.sources is required: the domain\'s whole origin list.');
  const weights = new Map<number, Set<unknown>>();
  const sources = list.map((raw, i): SourceInput => {
    const field = `configs.sources[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw originInvalid(`${field} must be an object`);
    const s = raw as Record<string, unknown>;
    const primary = PRIORITY[s.priority as number];
    if (primary === undefined) throw originInvalid(`${field}.priority must be 70 (primary) or 30 (standby)`);
    if (s.weight !== undefined && (!Number.isInteger(s.weight) || (s.weight as number) < 1 || (s.weight as number) > 100)) throw originInvalid(`${field}.weight must be an integer from 1 to 100`);
    if (s.weight !== undefined) weights.set(primary, (weights.get(primary) ?? new Set()).add(s.weight));
    // The back-to-origin Host is always the accelerated domain (origin_host_type 'accelerate').
    if (s.host_name !== undefined && s.host_name !== null && (typeof s.host_name !== 'string' || s.host_name.toLowerCase() !== domainName)) {
      throw badParameter(`${field}.host_name: cachectl sends the accelerated domain (${domainName}) as the Host to every origin; another host_name is not supported.`);
    }
    const hosting = s.obs_web_hosting_status === undefined ? undefined : HOSTING[s.obs_web_hosting_status as string];
    if (s.obs_web_hosting_status !== undefined && hosting === undefined) throw originInvalid(`${field}.obs_web_hosting_status must be on or off`);
    return {
      ip_or_domain: s.origin_addr,
      origin_type: s.origin_type,
      active_standby: primary,
      http_port: s.http_port,
      https_port: s.https_port,
      obs_bucket_type: s.obs_bucket_type,
      enable_obs_web_hosting: hosting,
    };
  });
  // cachectl gives origins of one priority no weights: unequal ones would be a setting silently not applied.
  for (const [primary, set] of weights) {
    if (set.size > 1) throw badParameter(`configs.sources: the ${primary ? 'primary' : 'standby'} origins have different weights; cachectl does not weight origins, give them one weight (or none).`);
  }
  return sources;
}
