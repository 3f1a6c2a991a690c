// The system policies cachectl ships, named as Huawei's CDN system policies are (huawei-cdn-api.md §18).
// Their ids are fixed: attachments name them, and the identity migration attached CDN Administrator.
import type { PolicyDocument } from './policy-document.js';

export interface SystemPolicy {
  id: string;
  name: string;
  description: string;
  document: PolicyDocument;
}

const allow = (actions: string[]): PolicyDocument => ({ version: '1.1', statements: [{ effect: 'Allow', actions, conditions: [] }] });

export const SYSTEM_POLICIES: readonly SystemPolicy[] = [
  { id: 'system:cdn-administrator', name: 'CDN Administrator', description: 'All CDN operations', document: allow(['cdn:*:*']) },
  {
    id: 'system:cdn-refresh-and-preheat-access',
    name: 'CDN RefreshAndPreheatAccess',
    description: 'Create refresh and preheating tasks, and read their history',
    document: allow([
      'cdn:configuration:refreshCache',
      'cdn:configuration:preheatCache',
      'cdn:configuration:queryCacheHistoryTask',
      'cdn:configuration:queryRefreshAndPreheatHistoryTask',
    ]),
  },
  { id: 'system:cdn-read-only-access', name: 'CDN ReadOnlyAccess', description: 'Read-only access to CDN', document: allow(['cdn:*:query*']) },
  {
    id: 'system:cdn-domain-read-only-access',
    name: 'CDN DomainReadOnlyAccess',
    description: 'Read domains and their configuration',
    document: allow(['cdn:configuration:queryDomains', 'cdn:configuration:queryOriginServerInfo', 'cdn:configuration:queryOriginConfInfo', 'cdn:configuration:queryCacheHistoryTask']),
  },
  { id: 'system:cachectl-administrator', name: 'cachectl Administrator', description: "All of cachectl's own management (users, groups, policies, keys, projects, audit)", document: allow(['cachectl:*:*']) },
  { id: 'system:cachectl-audit-read-only', name: 'cachectl AuditReadOnlyAccess', description: 'Read the audit trail', document: allow(['cachectl:audit:list']) },
];

export const CDN_ADMINISTRATOR_ID = 'system:cdn-administrator';

const byId = new Map(SYSTEM_POLICIES.map((p) => [p.id, p]));
const byName = new Map(SYSTEM_POLICIES.map((p) => [p.name.toLowerCase(), p]));

export function systemPolicy(idOrName: string): SystemPolicy | undefined {
  return byId.get(idOrName) ?? byName.get(idOrName.toLowerCase());
}
