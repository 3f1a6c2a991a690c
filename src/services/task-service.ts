// Refresh and prefetch tasks: validation, the account's domains, quotas, durable intake, and the
// queries over history (huawei-cdn-api.md §2–§6, §9).
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import type { GroupCommit } from '../store/group-commit.js';
import { findDomainsByNames, type DomainRow } from '../store/repositories/domain-repository.js';
import * as tasks from '../store/repositories/task-repository.js';
import type { TaskRow, TaskUrlRow } from '../store/repositories/task-repository.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { workKindOf } from '../engine/work.js';
import type { QuotaService, QuotaUse } from './quota-service.js';
import { domainCandidates, parseTaskUrl, type ParsedTaskUrl } from './task-url.js';
import { badParameter, domainStateForbids, notFound, urlNotTenantDomain } from '../errors.js';

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
}

export interface CreatedTask {
  task: TaskRow;
  urls: string[];
}

const ACTIVE = new Set(['online', 'configuring']);

export class TaskService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly intake: GroupCommit,
    private readonly engine: TaskEngine,
    private readonly quotas: QuotaService,
    private readonly limits: TaskLimits,
  ) {}

  /** Validates, stores durably, then dispatches. Refused input creates nothing. */
  async create(input: NewTask): Promise<CreatedTask> {
    const directory = input.fileType === 'directory';
    const max = directory ? this.limits.maxDirsPerRequest : this.limits.maxUrlsPerRequest;
    if (input.urls.length === 0) throw badParameter('urls must hold at least one URL');
    if (input.urls.length > max) throw badParameter(`at most ${max} ${directory ? 'directories' : 'URLs'} per request (got ${input.urls.length})`);
    const parsed: ParsedTaskUrl[] = input.urls.map((u) => {
      if (typeof u !== 'string') throw badParameter('urls must be strings');
      return parseTaskUrl(u, { directory, zhUrlEncode: input.zhUrlEncode, maxLength: input.maxUrlLength });
    });
    const use: QuotaUse = input.taskType === 'preheating' ? { preheat: parsed.length } : directory ? { dir_refresh: parsed.length } : { file_refresh: parsed.length };
    const urlTaskType = input.taskType === 'preheating' ? 'PREHEATING' : 'REFRESH';

    const stored = await this.intake.submit(async (trx) => {
      const hosts = [...new Set(parsed.map((p) => p.host))];
      const rows = await findDomainsByNames(trx, [...new Set(hosts.flatMap(domainCandidates))]);
      const mine = new Map<string, DomainRow>();
      for (const r of rows) if (r.account_id === input.accountId) mine.set(r.name, r);
      for (const host of hosts) {
        const domain = domainCandidates(host).map((n) => mine.get(n)).find(Boolean);
        if (!domain) throw urlNotTenantDomain(`The URL domain name ${host} is not the acceleration domain name of the current tenant.`);
        if (!ACTIVE.has(domain.status)) throw domainStateForbids(`The domain ${domain.name} is ${domain.status}; only online or configuring domains can be refreshed or preheated.`);
      }
      const now = Date.now();
      await this.quotas.book(trx, input.accountId, use, now);
      const task = {
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
      };
      const { taskId, urlIds } = await tasks.insertTask(
        trx,
        task,
        parsed.map((p) => ({
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
        })),
      );
      return { task: { ...task, id: taskId } as TaskRow, urlIds };
    });

    const kind = workKindOf(input.taskType, input.fileType, input.mode);
    this.engine.dispatch(parsed.map((p, i) => ({ id: stored.urlIds[i], taskId: stored.task.id, host: p.host, target: p.target, kind })));
    return { task: stored.task, urls: parsed.map((p) => p.url) };
  }

  list(filter: tasks.TaskFilter) {
    return tasks.listTasks(this.db, filter);
  }

  async get(accountId: string, id: string): Promise<TaskRow> {
    const n = /^\d{1,16}$/.test(id) ? Number(id) : NaN;
    const task = Number.isSafeInteger(n) ? await tasks.findTask(this.db, accountId, n) : undefined;
    if (!task) throw notFound(`The task ${id.slice(0, 64)} does not exist.`);
    return task;
  }

  async detail(accountId: string, id: string, filter: Omit<tasks.TaskUrlFilter, 'taskId'>): Promise<{ task: TaskRow; urls: TaskUrlRow[] }> {
    const task = await this.get(accountId, id);
    const urls = await tasks.listTaskUrls(this.db, { ...filter, taskId: Number(task.id) });
    return { task, urls };
  }

  urlRecords(filter: tasks.UrlRecordFilter) {
    return tasks.listUrlRecords(this.db, filter);
  }

  /** Waits until the task is done (true) or timeoutMs passes (false). */
  async waitDone(accountId: string, id: string, timeoutMs: number): Promise<boolean> {
    const task = await this.get(accountId, id);
    if (task.status === 'task_done') return true;
    return this.engine.waitDone(Number(task.id), timeoutMs, async () => (await tasks.findTaskById(this.db, Number(task.id)))?.status === 'task_done');
  }
}
