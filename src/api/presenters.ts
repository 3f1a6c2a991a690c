// Store rows → the JSON the SDK models expect: ids are strings in create/history/detail and numbers in
// url-tasks; times are epoch milliseconds (huawei-cdn-api.md §4–§6, §11, §17).
import type { TaskRow, TaskUrlRow } from '../store/repositories/task-rows.js';
import type { DomainRow } from '../store/repositories/domain-repository.js';
import type { SourceRecord } from '../engine/domain-sync.js';

export function taskObject(t: TaskRow) {
  return {
    id: String(t.id),
    task_type: t.task_type,
    status: t.status,
    processing: Number(t.processing),
    succeed: Number(t.succeed),
    failed: Number(t.failed),
    total: Number(t.total),
    create_time: Number(t.create_time),
    file_type: t.file_type,
  };
}

export function urlObject(u: TaskUrlRow) {
  return {
    id: String(u.id),
    url: u.url,
    status: u.status,
    create_time: Number(u.create_time),
    task_id: String(u.task_id),
    task_type: u.task_type,
    ...(u.status === 'failed' && { fail_classify: u.fail_classify ?? 'UNKNOWN_ERROR', fail_desc: u.fail_desc ?? '' }),
  };
}

export function urlRecord(u: TaskUrlRow) {
  return {
    id: Number(u.id),
    url: u.url,
    status: u.status,
    type: u.task_type,
    task_id: Number(u.task_id),
    modify_time: Number(u.modify_time),
    create_time: Number(u.create_time),
    file_type: u.file_type,
    mode: u.mode,
  };
}

const cnameOf = (name: string) => `${name.replace(/^\*\./, 'wildcard.')}.c.cachectl.local`;

/** The origins in the v1 shape (SourceWithPort); ports left out where the Huawei shape has none. */
function sourceObjects(d: DomainRow, withPorts: boolean) {
  const sources = JSON.parse(d.sources) as SourceRecord[];
  return sources.map((s) => ({
    domain_id: d.id,
    ip_or_domain: s.ip_or_domain,
    origin_type: s.origin_type,
    active_standby: s.active_standby,
    ...(s.obs_bucket_type && { obs_bucket_type: s.obs_bucket_type }),
    enable_obs_web_hosting: s.enable_obs_web_hosting ?? 0,
    ...(withPorts && { http_port: s.http_port, https_port: s.https_port }),
  }));
}

/** The v1 UpdateDomainOrigin answer: the ResourceBody as stored now. */
export function originObject(d: DomainRow) {
  return { sources: sourceObjects(d, true) };
}

/** A domain as create, list and the v1 detail answer it; only create leaves out the origins' ports (its Huawei shape has none). */
export function domainObject(d: DomainRow, withPorts: boolean) {
  return {
    id: d.id,
    domain_name: d.name,
    business_type: d.business_type,
    service_area: d.service_area,
    user_domain_id: d.account_id,
    domain_status: d.status,
    cname: cnameOf(d.name),
    sources: sourceObjects(d, withPorts),
    domain_origin_host: { domain_id: d.id, origin_host_type: 'accelerate', customize_domain: null },
    https_status: 0,
    create_time: Number(d.create_time),
    modify_time: Number(d.modify_time),
    disabled: d.status === 'offline' ? 1 : 0,
    locked: 0,
    auto_refresh_preheat: 0,
    range_status: 'off',
    follow_status: 'off',
    origin_status: 'on',
    banned_reason: null,
    locked_reason: null,
    enterprise_project_id: d.enterprise_project_id ?? '0',
    ...(d.status_detail && { status_detail: d.status_detail }),
  };
}

/**
 * The delete answer: the domain in Huawei's 'deleting' state, but `disabled` as it was stored (a
 * deleted domain was offline, or had failed to be configured), not derived from the new status.
 */
export function deletedDomainObject(d: DomainRow) {
  return { ...domainObject({ ...d, status: 'deleting' }, true), disabled: d.status === 'offline' ? 1 : 0 };
}

/**
 * The v2 ShowDomainDetailByName shape (DomainsDetail, huawei-cdn-api.md §11.3): origins as
 * origin_addr with a priority (70 primary, 30 standby) and their ports, update_time for modify_time.
 * The back-to-origin host is always the accelerated domain (origin_host_type 'accelerate').
 */
export function domainDetailObject(d: DomainRow) {
  const sources = JSON.parse(d.sources) as SourceRecord[];
  return {
    id: d.id,
    domain_name: d.name,
    business_type: d.business_type,
    domain_status: d.status,
    cname: cnameOf(d.name),
    sources: sources.map((s) => ({
      origin_type: s.origin_type,
      origin_addr: s.ip_or_domain,
      priority: s.active_standby === 1 ? 70 : 30,
      ...(s.origin_type === 'obs_bucket' && { obs_web_hosting_status: s.enable_obs_web_hosting === 1 ? 'on' : 'off' }),
      http_port: s.http_port,
      https_port: s.https_port,
      host_name: d.name,
      ...(s.obs_bucket_type && { obs_bucket_type: s.obs_bucket_type }),
    })),
    https_status: 0,
    create_time: Number(d.create_time),
    update_time: Number(d.modify_time),
    disabled: d.status === 'offline' ? 1 : 0,
    locked: 0,
    service_area: d.service_area,
  };
}
