// Refresh and prefetch tasks: validation, the account's domains, quotas, durable intake, and the
// queries over history (huawei-cdn-api.md §2–§6, §9).
import type { Kysely } from 'kysely';
import { nodeResultsOf } from '../store/repositories/node-repository.js';
import { decodeNodeResults } from '../engine/node-results.js';
import type { Database } from '../store/database.js';
import { GroupCommit, type Settled } from '../store/group-commit.js';
import { isPostgres } from '../store/dialect-of.js';
import { findDomainsByNames, projectOf, type DomainRow } from '../store/repositories/domain-repository.js';
import type { AuditRow } from '../store/repositories/audit-repository.js';
import { callOf, type Call } from './iam/call.js';
import { ACTIONS } from './iam/actions.js';
import { askedProject, checkProjectOf, DEFAULT_PROJECT, projectsInScope } from './project-scope.js';
import * as tasks from '../store/repositories/task-repository.js';
import type { NewTask as TaskRows, TaskRow, TaskUrlRow } from '../store/repositories/task-rows.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { workKindOf } from '../engine/work.js';
import { TurnBudget } from './turn-budget.js';
import type { QuotaService, QuotaUse } from './quota-service.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../logging/logger.js';
import { domainCandidates, parseTaskUrl, type ParsedTaskUrl } from './task-url.js';
import { badParameter, domainStateForbids, notFound, urlNotTenantDomain, type CachectlError } from '../errors.js';

export interface TaskLimits {
  maxUrlsPerRequest: number;
  maxDirsPerRequest: number;
}

export interface NewTask {
  accountId: string;
  taskType: 'refresh' | 'preheating';
  fileType: 'file' | 'directory';
  mode: 'all' | 'detect_modify_refresh';
  zhUrlEncode: boolean;
  urls: unknown[];
  /** 4096 on the current API, 10240 on the legacy one. */
  maxUrlLength: number;
  /** Who calls, and what they may do (each URL's domain is checked); absent: the system itself. */
  call?: Call;
  /** enterprise_project_id as asked: the task's domains must all be in it ('all' or absent: any one project). */
  project?: string;
}

export interface CreatedTask {
  task: TaskRow;
  urls: string[];
}

const ACTIVE = new Set(['online', 'configuring']);

interface IntakeJob {
  input: NewTask;
  parsed: ParsedTaskUrl[];
  /** The enterprise project of the task's domains, once they are checked. */
  project?: string;
  /** Set when the daily quota refused it (counted once the batch is settled: a retried batch is judged again). */
  overQuota?: boolean;
}

interface StoredTask {
  task: TaskRow;
  urlIds: number[];
  /** false when the URLs were left to the workers of other processes (shared store). */
  dispatchHere: boolean;
  /** Shared store: the lease owner the URLs were stored under (the engine drops them if that lease was lost meanwhile). */
  owner: string | null;
}

function quotaUse(input: NewTask, n: number): QuotaUse {
  if (input.taskType === 'preheating') return { preheat: n };
  return input.fileType === 'directory' ? { dir_refresh: n } : { file_refresh: n };
}

function newTaskRows({ input, parsed, project }: IntakeJob, now: number, lease: { owner: string | null }): TaskRows {
  const urlTaskType = input.taskType === 'preheating' ? 'PREHEATING' : 'REFRESH';
  const actor = input.call?.actor;
  const { resource: _resource, ...audit } = input.call?.auditRow('') ?? { resource: '' };
  return {
    ...(input.call && { audit: { ...(audit as Omit<AuditRow, 'resource'>), time: now } }),
    task: {
      enterprise_project_id: project ?? '0',
      created_by_user_id: actor?.userId ?? null,
      created_by_user: actor?.userName ?? null,
      created_by_key: actor?.accessKey ?? null,
      account_id: input.accountId,
      task_type: input.taskType,
      file_type: input.fileType,
      mode: input.mode,
      status: 'task_inprocess',
      total: parsed.length,
      processing: parsed.length,
      succeed: 0,
      failed: 0,
      create_time: now,
    },
    urls: parsed.map((p) => ({
      account_id: input.accountId,
      url: p.url,
      host: p.host,
      target: p.target,
      status: 'waiting',
      task_type: urlTaskType,
      file_type: input.fileType,
      mode: input.mode,
      fail_classify: null,
      fail_desc: null,
      create_time: now,
      modify_time: now,
      lease_owner: lease.owner,
    })),
  };
}

const missingTask = (id: string) => notFound(`The task ${id.slice(0, 64)} does not exist.`);

/** A listing's filter as asked: enterprise_project_id instead of the projects it comes to. */
type Scoped<F> = Omit<F, 'accountId' | 'projects'> & { project?: string };

const projectOfTask = (task: TaskRow): string => task.enterprise_project_id ?? DEFAULT_PROJECT;

/** A task id from a path: anything but a plain decimal that fits a safe integer names no task. */
function taskIdOf(id: string): number {
  const n = /^\d{1,16}$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n)) throw missingTask(id);
  return n;
}

/** About 1-2 ms of URL parsing and checking: a burst of large tasks is parsed over many turns. */
const PARSE_URLS_PER_TURN = 1_000;

/** URL rows one SQLite intake transaction takes (more jobs wait for the next one). */
const SQLITE_BATCH_URLS = 2_000;

export class TaskService {
  private readonly intake: GroupCommit<IntakeJob, StoredTask, Map<string, DomainRow>>;
  /** URLs parsed per turn of the event loop (a request's URLs are parsed in one turn). */
  private readonly parseTurns = new TurnBudget(PARSE_URLS_PER_TURN);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: TaskEngine,
    private readonly quotas: QuotaService,
    private readonly limits: TaskLimits,
    private readonly metrics?: Metrics,
    private readonly logger?: Logger,
  ) {
    // The domains are read beside the transaction, not in it: a domain disabled meanwhile refuses the
    // tasks after this batch, as it would if the batch had come a moment earlier.
    this.intake = new GroupCommit(
      db,
      (trx, jobs, domains) => this.storeBatch(trx, jobs, domains),
      (jobs) => this.domainsOf(jobs),
      // SQLite writes on the event loop: a batch of 512 jobs of 1,000 URLs held it for seconds. On
      // PostgreSQL the statement runs in the server, and bigger batches are cheaper.
      isPostgres(db) ? { maxJobs: 512 } : { maxJobs: 512, weight: (job) => job.parsed.length, maxWeight: SQLITE_BATCH_URLS },
      metrics &&
        ((jobs, seconds) => {
          metrics.intakeBatchTasks.observe(jobs);
          metrics.intakeCommitSeconds.observe(seconds);
        }),
    );
  }

  /** Validates, stores durably, then dispatches. Refused input creates nothing. */
  async create(input: NewTask): Promise<CreatedTask> {
    const directory = input.fileType === 'directory';
    const max = directory ? this.limits.maxDirsPerRequest : this.limits.maxUrlsPerRequest;
    if (input.urls.length === 0) throw badParameter('urls must hold at least one URL');
    if (input.urls.length > max) throw badParameter(`at most ${max} ${directory ? 'directories' : 'URLs'} per request (got ${input.urls.length})`);
    await this.parseTurns.take(input.urls.length);
    const parsed: ParsedTaskUrl[] = input.urls.map((u) => {
      if (typeof u !== 'string') throw badParameter('urls must be strings');
      return parseTaskUrl(u, { directory, zhUrlEncode: input.zhUrlEncode, maxLength: input.maxUrlLength });
    });
    const job: IntakeJob = { input, parsed };
    const stored = await this.intake.submit(job).catch((err: unknown) => {
      if (job.overQuota) this.metrics?.quotaRefusals.labels(input.taskType).inc();
      throw err;
    });
    const kind = workKindOf(input.taskType, input.fileType, input.mode);
    this.metrics?.tasksCreated.labels(stored.task.task_type, stored.task.account_id).inc();
    if (this.logger?.isLevelEnabled('info')) {
      // Built only when written: this is the create path.
      const actor = input.call?.actor;
      this.logger.info(
        { task_id: stored.task.id, task_type: stored.task.task_type, file_type: input.fileType, urls: parsed.length, account_id: stored.task.account_id, ...(actor && { request_id: actor.requestId, user: actor.userName, access_key: actor.accessKey }) },
        'task accepted',
      );
    }
    if (stored.dispatchHere) this.engine.dispatch(parsed.map((p, i) => ({ id: stored.urlIds[i], taskId: stored.task.id, host: p.host, target: p.target, kind })), stored.owner);
    return { task: stored.task, urls: parsed.map((p) => p.url) };
  }

  /** The domains a batch's URLs may belong to, by name. */
  private async domainsOf(jobs: IntakeJob[]): Promise<Map<string, DomainRow>> {
    const names = new Set<string>();
    for (const job of jobs) for (const p of job.parsed) for (const n of domainCandidates(p.host)) names.add(n);
    return new Map((await findDomainsByNames(this.db, [...names])).map((r) => [r.name, r]));
  }

  /**
   * One transaction for every task submitted in the same turn: the accounts and quota use of the whole
   * batch are read once (its domains just before), each task is judged in order, and the accepted ones
   * are written.
   */
  private async storeBatch(trx: Kysely<Database>, jobs: IntakeJob[], byName: Map<string, DomainRow>): Promise<Settled<StoredTask>[]> {
    const now = Date.now();

    const domainErrors = jobs.map((job) => this.checkDomains(job, byName));
    const { verdicts: quotaErrors, bookings } = await this.quotas.judge(
      trx,
      jobs.map((job, i) => (domainErrors[i] ? null : { accountId: job.input.accountId, use: quotaUse(job.input, job.parsed.length) })),
      now,
    );
    jobs.forEach((job, i) => (job.overQuota = quotaErrors[i] !== null));
    const accepted = jobs.flatMap((_, i) => (domainErrors[i] || quotaErrors[i] ? [] : [i]));
    const lease = this.engine.leaseAtIntake(accepted.reduce((n, i) => n + jobs[i].parsed.length, 0));
    const rows = accepted.map((i) => newTaskRows(jobs[i], now, lease));
    const dispatchHere = lease.owner !== null || !lease.shared;
    const inserted = await tasks.insertTasks(trx, rows, bookings);
    const out: Settled<StoredTask>[] = jobs.map((_, i) => ({ ok: false, error: domainErrors[i] ?? quotaErrors[i] }));
    accepted.forEach((jobIndex, k) => {
      out[jobIndex] = { ok: true, value: { task: { ...rows[k].task, id: inserted[k].taskId } as TaskRow, urlIds: inserted[k].urlIds, dispatchHere, owner: lease.owner } };
    });
    return out;
  }

  /**
   * CDN.0108 when a URL's host is not a domain of the account, CDN.0106 when that domain is disabled.
   * The host belongs to the most specific domain that covers it, whoever owns that one: the caller's own
   * wildcard does not reach a host another account holds more specifically (rows that overlapped before
   * domain create refused overlaps across accounts).
   */
  private checkDomains(job: IntakeJob, byName: Map<string, DomainRow>): CachectlError | null {
    const hosts = new Set(job.parsed.map((p) => p.host));
    const domains = new Map<string, DomainRow>();
    for (const host of hosts) {
      let domain: DomainRow | undefined;
      for (const name of domainCandidates(host)) {
        domain = byName.get(name);
        if (domain) break;
      }
      if (!domain || domain.account_id !== job.input.accountId) {
        return urlNotTenantDomain(`The URL domain name ${host} is not the acceleration domain name of the current tenant.`);
      }
      domains.set(domain.name, domain);
    }
    // Refused whole when any domain is outside what the caller may refresh or preheat there.
    try {
      for (const domain of domains.values()) job.input.call?.check({ domain: domain.name, project: projectOf(domain) });
    } catch (err) {
      return err as CachectlError;
    }
    const projects = [...new Set([...domains.values()].map(projectOf))];
    if (projects.length > 1) {
      const names = projects.map((p) => `${p} (${[...domains.values()].filter((d) => projectOf(d) === p).map((d) => d.name).join(', ')})`);
      return badParameter(`The URLs belong to domains of more than one enterprise project: ${names.join('; ')}. Send one task per project.`);
    }
    const asked = job.input.project;
    if (asked !== undefined && asked !== '' && asked !== 'all' && asked !== projects[0]) {
      return badParameter(`The URL domains are in enterprise project ${projects[0]}, not ${asked.slice(0, 64)}.`);
    }
    for (const domain of domains.values()) {
      if (!ACTIVE.has(domain.status)) return domainStateForbids(`The domain ${domain.name} is ${domain.status}; only online or configuring domains can be refreshed or preheated.`);
    }
    job.project = projects[0];
    return null;
  }

  /** History (§4): the tasks of the projects in the caller's scope. */
  async list(who: string | Call, query: Scoped<tasks.TaskFilter>): Promise<{ total: number; rows: TaskRow[] }> {
    const call = callOf(who, ACTIONS.queryCacheHistoryTask);
    const { project, ...filter } = query;
    return tasks.listTasks(this.db, { ...filter, accountId: call.accountId, projects: await projectsInScope(this.db, call, project) });
  }

  /** The caller's task: missing when another project was asked for, CDN.0020 when its project is outside the caller's. */
  async get(who: string | Call, id: string, project?: string): Promise<TaskRow> {
    const call = callOf(who, ACTIONS.queryCacheHistoryTask);
    const asked = await askedProject(this.db, call, project);
    const task = await tasks.findTask(this.db, call.accountId, taskIdOf(id));
    if (!task) throw missingTask(id);
    checkProjectOf(call, projectOfTask(task), asked, () => missingTask(id));
    return task;
  }

  async detail(who: string | Call, id: string, query: Omit<tasks.TaskUrlFilter, 'taskId'> & { project?: string }): Promise<{ task: TaskRow; urls: TaskUrlRow[] }> {
    const { project, ...filter } = query;
    const task = await this.get(who, id, project);
    const urls = await tasks.listTaskUrls(this.db, { ...filter, taskId: Number(task.id) });
    return { task, urls };
  }

  /** The task's URLs, each with every node's result (decoded; empty while no node has finished it). */
  async nodeResults(who: string | Call, id: string, filter: Omit<tasks.TaskUrlFilter, 'taskId'>) {
    const { task, urls } = await this.detail(who, id, filter);
    const byUrl = await nodeResultsOf(this.db, urls.map((u) => Number(u.id)));
    return { task, urls: urls.map((u) => ({ url: u, nodes: decodeNodeResults(byUrl.get(Number(u.id))) })) };
  }

  /** Per-URL records (§6) of the tasks of the projects in the caller's scope. */
  async urlRecords(who: string | Call, query: Scoped<tasks.UrlRecordFilter>) {
    const call = callOf(who, ACTIONS.queryRefreshAndPreheatHistoryTask);
    const { project, ...filter } = query;
    return tasks.listUrlRecords(this.db, { ...filter, accountId: call.accountId, projects: await projectsInScope(this.db, call, project) });
  }

  /**
   * Waits until the task is done or timeoutMs passes; answers which, and the task as it then is. The
   * listener is in place before the first read, so a task finishing meanwhile is not missed.
   */
  async waitDone(who: string | Call, id: string, timeoutMs: number): Promise<{ done: boolean; task: TaskRow }> {
    const call = callOf(who, ACTIONS.queryCacheHistoryTask);
    const accountId = call.accountId;
    const n = taskIdOf(id);
    let task: TaskRow | undefined;
    const read = async () => {
      task = await tasks.findTask(this.db, accountId, n);
      if (!task) throw missingTask(id);
      call.check({ project: projectOfTask(task) });
      return task.status === 'task_done';
    };
    const { done, final } = await this.engine.waitDone(n, timeoutMs, read);
    // Finished here: the row as the last outcomes left it (the first read showed it is the caller's).
    if (final && task && final.account_id === accountId) return { done, task: final };
    // Done by an event after (or before the end of) the last read: read the final counts.
    if (!task || (done && task.status !== 'task_done')) await read();
    return { done, task: task! };
  }
}
