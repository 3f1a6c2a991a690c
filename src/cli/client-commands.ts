// The client commands: purge, prefetch, tasks, task, domains, accounts, keys. Each one signs its calls
// with an access key (client-credentials.ts), prints tables or, with --json, the API's raw answers (one
// JSON document per line), and exits 0 on success, 1 on an API or network error, 2 on a usage error or
// missing credentials.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient, ApiError, TransportError } from './api-client.js';
import { CredentialsError, loadClientCredentials } from './client-credentials.js';
import { formatTime, renderFields, renderTable, type Cell } from './table.js';
import { ProgressBar, type ProgressOutput } from './progress-bar.js';

// ---------------------------------------------------------------------------------------------------
// Usage text

interface UsageEntry {
  command: string;
  synopsis: string;
  help: string;
}

const USAGE_ENTRIES: UsageEntry[] = [
  {
    command: 'purge',
    synopsis: 'cachectl purge <url…> [--dir] [--changed-only] [--zh-url-encode] [--wait]',
    help: 'create a refresh task (--dir: type directory; --changed-only: mode detect_modify_refresh); prints the task id. --wait: wait for it and print the summary (exit 1 if a URL failed)',
  },
  {
    command: 'prefetch',
    synopsis: 'cachectl prefetch <url…> [--zh-url-encode] [--wait]',
    help: 'create a preheating task; prints the task id (--wait as for purge)',
  },
  {
    command: 'tasks',
    synopsis:
      'cachectl tasks [--status task_inprocess|task_done] [--type refresh|preheating] [--file-type file|directory] [--since <ISO or ms>] [--until <ISO or ms>] [--sort field[:asc|desc]] [--page N] [--page-size N]',
    help: 'list tasks, newest first (sort fields: create_time, task_type, total, processing, succeed, failed; times without a zone are UTC)',
  },
  {
    command: 'task',
    synopsis: 'cachectl task <id> [--watch] [--status S] [--url U] [--nodes]',
    help: 'a task and its URLs; --watch shows a live progress bar until task_done (S: processing, succeed, failed, waiting, refreshing, preheating); --nodes: each node\'s result, time and error per URL',
  },
  {
    command: 'domains',
    synopsis: 'cachectl domains add <name> --origin <ip|host>[:port] [--standby <ip|host>[:port]]… [--type web|download|video|wholeSite] [--wait]',
    help: 'add an accelerated domain; --wait: until it is online on every edge',
  },
  { command: 'domains', synopsis: 'cachectl domains list [--name N] [--exact]', help: 'list domains (--name: a part of the name, or the whole name with --exact)' },
  {
    command: 'domains',
    synopsis: 'cachectl domains origin <name or id> --origin <ip|host>[:port] [--standby <ip|host>[:port]]… [--wait]',
    help: 'replace a domain\'s origins (cached objects stay); --wait: until every edge has applied them',
  },
  { command: 'domains', synopsis: 'cachectl domains enable|disable|rm <name or id>', help: 'enable, disable, or delete a domain (only a disabled domain can be deleted)' },
  {
    command: 'nodes',
    synopsis: 'cachectl nodes add <name> --driver builtin|varnish|nginx|ats --traffic <url> --control <url or host:port> [--secret-file F] [--label key=value]… [--transport http|nats --pop NAME]',
    help: '(admin) register an edge node: traffic is where users connect; control is the built-in edge admin URL, the edge agent URL (nginx, ATS) or varnishd -T host:port; --secret-file: varnishd -S file, or the bearer secret of the built-in edge (cachectl edge --secret-file) or agent; never shown again',
  },
  { command: 'nodes', synopsis: 'cachectl nodes list', help: '(admin) every edge node, up or down, its domain-set version and backlog' },
  { command: 'nodes', synopsis: 'cachectl nodes rm <name>', help: '(admin) remove a node: its pending work fails with INNER_ERROR' },
  { command: 'nodes', synopsis: 'cachectl nodes check <name>', help: '(admin) check a node now; exit 1 when it is down' },
  { command: 'accounts', synopsis: 'cachectl accounts add <name> [--user U] [--password P]', help: '(admin) create an account with a user and a key; prints the secrets once' },
  { command: 'accounts', synopsis: 'cachectl accounts list', help: '(admin) list accounts and their daily quotas' },
  { command: 'keys', synopsis: 'cachectl keys add --account <name> [--description D]', help: "(admin) a new access key for the account's first user" },
  { command: 'keys', synopsis: 'cachectl keys list [--account <name>]', help: '(admin) list access keys' },
  { command: 'keys', synopsis: 'cachectl keys rm <access key>', help: '(admin) delete an access key' },
];

const COLUMN = 36; // where descriptions start, as in main.ts's USAGE
const WIDTH = 104;

/** Words, keeping a bracketed group ("[--type web|download]") in one piece. */
function words(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let word = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    if (ch === ']') depth = Math.max(0, depth - 1);
    if (/\s/.test(ch) && depth === 0) {
      if (word) out.push(word);
      word = '';
    } else word += ch;
  }
  if (word) out.push(word);
  return out;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words(text)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function usageOf(entries: UsageEntry[]): string {
  const out: string[] = [];
  const indent = ' '.repeat(COLUMN);
  for (const e of entries) {
    const synopsis = wrap(e.synopsis, WIDTH - 2).map((l, i) => (i === 0 ? `  ${l}` : `      ${l}`));
    const help = wrap(e.help, WIDTH - COLUMN);
    const last = synopsis[synopsis.length - 1];
    if (synopsis.length === 1 && last.length < COLUMN - 1) {
      out.push(last.padEnd(COLUMN) + help[0]);
      help.shift();
    } else out.push(...synopsis);
    out.push(...help.map((h) => indent + h));
  }
  return out.join('\n');
}

const GLOBAL_HELP = `Client options:
  --json                            print the API's raw JSON answers, one per line, instead of tables
  --api URL                         the API (default: CACHECTL_API, else "api" in credentials.json,
                                    else http://127.0.0.1:8080)
  --data-dir DIR                    where the server's credentials.json is (default ./data)
  Keys come from CACHECTL_AK and CACHECTL_SK (or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK), else from
  <data-dir>/credentials.json. Exit codes: 0 success, 1 API or network error, 2 usage error or no keys.`;

export const clientUsage = `${usageOf(USAGE_ENTRIES)}\n\n${GLOBAL_HELP}\n`;

function commandUsage(command: string): string {
  return `Usage:\n${usageOf(USAGE_ENTRIES.filter((e) => e.command === command))}\n\n${GLOBAL_HELP}`;
}

// ---------------------------------------------------------------------------------------------------
// Errors, arguments, output

class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
  }
}

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };
type Values = Record<string, string | boolean | string[] | undefined>;

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean' },
  api: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

interface Parsed {
  values: Values;
  positionals: string[];
}

function parse(command: string, args: string[], options: Record<string, OptionSpec>): Parsed {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, strict: true, allowPositionals: true });
    return { values: values as Values, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message, command);
  }
}

/** Splits `domains list --name x` into the sub-command and the rest, wherever the global options are. */
function splitSubcommand(args: string[], allOptions: Record<string, OptionSpec>): { sub: string | undefined; rest: string[] } {
  const { tokens } = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...allOptions }, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional');
  if (!first || first.kind !== 'positional') return { sub: undefined, rest: args };
  return { sub: first.value, rest: [...args.slice(0, first.index), ...args.slice(first.index + 1)] };
}

const str = (v: Values[string]): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: Values[string]): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

function oneOf<T extends string>(command: string, flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got '${value}')`, command);
  return value as T;
}

function intOption(command: string, flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max} (got '${value}')`, command);
  return Number(value);
}

/** Epoch ms, or an ISO date / date-time. A date-time without a zone is UTC, like the times printed. */
export function parseTimeOption(value: string): number | undefined {
  const t0 = value.trim();
  if (/^\d+$/.test(t0)) return Number(t0);
  let t = t0.replace(/^(\d{4}-\d{2}-\d{2})[ T]/, '$1T');
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(t)) return undefined;
  if (t.includes('T') && !/(Z|[+-]\d{2}:?\d{2})$/i.test(t)) t += 'Z';
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

function timeOption(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimeOption(value);
  if (ms === undefined) throw new UsageError(`--${flag}: '${value}' is neither epoch milliseconds nor an ISO date (2026-11-28 or 2026-11-28T15:04:05Z)`, command);
  return ms;
}

const print = (text: string) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const printJson = (value: unknown) => void process.stdout.write(`${JSON.stringify(value)}\n`);
const warn = (text: string) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Context {
  client: ApiClient;
  json: boolean;
  values: Values;
  positionals: string[];
}

/** Parses, loads the key, runs, maps errors to exit codes, and closes the connection pool. */
async function run(command: string, args: string[], options: Record<string, OptionSpec>, body: (ctx: Context) => Promise<number>): Promise<number> {
  let client: ApiClient | undefined;
  try {
    const { values, positionals } = parse(command, args, options);
    if (values.help) {
      print(commandUsage(command));
      return 0;
    }
    const credentials = loadClientCredentials({ api: str(values.api), dataDir: str(values['data-dir']) ?? './data' });
    client = new ApiClient(credentials);
    return await body({ client, json: values.json === true, values, positionals });
  } catch (err) {
    return report(err);
  } finally {
    await client?.close();
  }
}

function report(err: unknown): number {
  if (err instanceof UsageError) {
    warn(`cachectl ${err.command}: ${err.message}\n\n${commandUsage(err.command)}`);
    return 2;
  }
  if (err instanceof CredentialsError) {
    warn(`cachectl: ${err.message}`);
    return 2;
  }
  if (err instanceof ApiError) {
    warn(`error ${err.code}: ${err.message}`);
    return 1;
  }
  if (err instanceof TransportError) {
    warn(`cachectl: ${err.message}`);
    return 1;
  }
  warn(`cachectl: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
}

// A closed pipe (`cachectl tasks | head`) is not an error worth a stack trace.
let pipeGuard = false;
function guardPipes(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// ---------------------------------------------------------------------------------------------------
// Answer shapes (presenters.ts)

interface TaskObject {
  id: string;
  task_type: string;
  status: string;
  processing: number;
  succeed: number;
  failed: number;
  total: number;
  create_time: number;
  file_type: string;
}

interface UrlObject {
  id: string;
  url: string;
  status: string;
  create_time: number;
  task_id: string;
  task_type: string;
  fail_classify?: string;
  fail_desc?: string;
}

interface TaskDetail extends TaskObject {
  urls: UrlObject[];
}

interface DomainSource {
  ip_or_domain: string;
  origin_type: string;
  active_standby: number;
  http_port?: number;
}

interface DomainObject {
  id: string;
  domain_name: string;
  business_type: string;
  service_area: string;
  domain_status: string;
  cname: string;
  sources: DomainSource[];
  create_time: number;
  modify_time: number;
  status_detail?: string;
}

function taskTable(tasks: TaskObject[]): string {
  return renderTable(
    [
      { header: 'ID' },
      { header: 'TYPE' },
      { header: 'FILE TYPE' },
      { header: 'STATUS' },
      { header: 'TOTAL', align: 'right' },
      { header: 'SUCCEED', align: 'right' },
      { header: 'FAILED', align: 'right' },
      { header: 'PROCESSING', align: 'right' },
      { header: 'CREATED' },
    ],
    tasks.map((t) => [t.id, t.task_type, t.file_type, t.status, t.total, t.succeed, t.failed, t.processing, formatTime(t.create_time)]),
  );
}

function urlTable(urls: UrlObject[]): string {
  return renderTable(
    [{ header: 'URL' }, { header: 'STATUS' }, { header: 'FAIL CLASSIFY' }, { header: 'FAIL DESC' }],
    urls.map((u) => [u.url, u.status, u.fail_classify, u.fail_desc]),
  );
}

function sourcesText(sources: DomainSource[]): string {
  return sources
    .map((s) => {
      const host = s.ip_or_domain.includes(':') ? `[${s.ip_or_domain}]` : s.ip_or_domain;
      return `${s.http_port !== undefined ? `${host}:${s.http_port}` : host}${s.active_standby === 1 ? '' : ' (standby)'}`;
    })
    .join(', ');
}

function domainTable(domains: DomainObject[]): string {
  return renderTable(
    [{ header: 'ID' }, { header: 'NAME' }, { header: 'TYPE' }, { header: 'STATUS' }, { header: 'ORIGINS' }, { header: 'CREATED' }],
    domains.map((d) => [d.id, d.domain_name, d.business_type, d.domain_status, sourcesText(d.sources ?? []), formatTime(d.create_time)]),
  );
}

// ---------------------------------------------------------------------------------------------------
// purge, prefetch

const WAIT_TIMEOUT_MS = 30_000;

/** Long-polls until the task is done; returns the last answer. */
async function waitForTask(client: ApiClient, id: string): Promise<{ done: boolean; task: TaskObject }> {
  for (;;) {
    const answer = await client.call<{ done: boolean; task: TaskObject }>('GET', `/cachectl/v1/tasks/${encodeURIComponent(id)}/wait`, {
      query: [['timeout_ms', WAIT_TIMEOUT_MS]],
      timeoutMs: WAIT_TIMEOUT_MS + 30_000,
    });
    if (answer.done || answer.task?.status === 'task_done') return answer;
  }
}

function createTask(kind: 'refresh' | 'preheating') {
  const command = kind === 'refresh' ? 'purge' : 'prefetch';
  const options: Record<string, OptionSpec> =
    kind === 'refresh'
      ? { dir: { type: 'boolean' }, 'changed-only': { type: 'boolean' }, 'zh-url-encode': { type: 'boolean' }, wait: { type: 'boolean' } }
      : { 'zh-url-encode': { type: 'boolean' }, wait: { type: 'boolean' } };
  return (args: string[]) =>
    run(command, args, options, async ({ client, json, values, positionals: urls }) => {
      if (urls.length === 0) throw new UsageError('give at least one URL (http:// or https://)', command);
      const zh = values['zh-url-encode'] === true ? { zh_url_encode: true } : {};
      const answer =
        kind === 'refresh'
          ? await client.call<{ refresh_task: string }>('POST', '/v1.0/cdn/content/refresh-tasks', {
              body: {
                refresh_task: {
                  type: values.dir === true ? 'directory' : 'file',
                  ...(values['changed-only'] === true && { mode: 'detect_modify_refresh' }),
                  ...zh,
                  urls,
                },
              },
            })
          : await client.call<{ preheating_task: string }>('POST', '/v1.0/cdn/content/preheating-tasks', { body: { preheating_task: { ...zh, urls } } });
      const id = 'refresh_task' in answer ? answer.refresh_task : answer.preheating_task;
      if (json) printJson(answer);
      else print(String(id));
      if (values.wait !== true) return 0;

      const waited = await waitForTask(client, String(id));
      if (json) printJson(waited);
      else print(taskTable([waited.task]));
      if (waited.task.failed === 0) return 0;

      // Say which URLs failed, and exit 1: the purge or prefetch did not fully happen.
      const failed = await client.call<TaskDetail>('GET', `/v1.0/cdn/historytasks/${encodeURIComponent(String(id))}/detail`, {
        query: [['page_size', 1000], ['page_number', 1], ['status', 'failed']],
      });
      if (json) printJson(failed);
      else print(`\n${urlTable(failed.urls)}`);
      warn(`cachectl ${command}: ${waited.task.failed} of ${waited.task.total} URLs failed`);
      return 1;
    });
}

// ---------------------------------------------------------------------------------------------------
// tasks

const ORDER_FIELDS = ['create_time', 'task_type', 'total', 'processing', 'succeed', 'failed'] as const;

function tasks(args: string[]): Promise<number> {
  const options: Record<string, OptionSpec> = {
    status: { type: 'string' },
    type: { type: 'string' },
    'file-type': { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    sort: { type: 'string' },
    page: { type: 'string' },
    'page-size': { type: 'string' },
  };
  return run('tasks', args, options, async ({ client, json, values, positionals }) => {
    const c = 'tasks';
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, c);
    const status = oneOf(c, 'status', str(values.status), ['task_inprocess', 'task_done'] as const);
    const type = oneOf(c, 'type', str(values.type), ['refresh', 'preheating'] as const);
    const fileType = oneOf(c, 'file-type', str(values['file-type']), ['file', 'directory'] as const);
    const since = timeOption(c, 'since', str(values.since));
    const until = timeOption(c, 'until', str(values.until));
    if (since !== undefined && until !== undefined && until < since) throw new UsageError('--until is before --since', c);
    let orderField: string | undefined;
    let orderType: string | undefined;
    const sort = str(values.sort);
    if (sort !== undefined) {
      const [field, direction = 'desc', extra] = sort.split(':');
      if (extra !== undefined) throw new UsageError(`--sort is field[:asc|desc] (got '${sort}')`, c);
      orderField = oneOf(c, 'sort', field, ORDER_FIELDS);
      orderType = oneOf(c, 'sort direction', direction, ['asc', 'desc'] as const);
    }
    const page = intOption(c, 'page', str(values.page), 1, 65535) ?? 1;
    const pageSize = intOption(c, 'page-size', str(values['page-size']), 1, 10000) ?? 30;

    const answer = await client.call<{ total: number; tasks: TaskObject[] }>('GET', '/v1.0/cdn/historytasks', {
      query: [
        ['page_size', pageSize],
        ['page_number', page],
        ['status', status],
        ['task_type', type],
        ['file_type', fileType],
        ['start_date', since],
        ['end_date', until],
        ['order_field', orderField],
        ['order_type', orderType],
      ],
    });
    if (json) {
      printJson(answer);
      return 0;
    }
    const pages = Math.max(1, Math.ceil(answer.total / pageSize));
    if (answer.tasks.length === 0) print(answer.total === 0 ? 'No tasks.' : `No tasks on page ${page} (${answer.total} tasks, ${pages} pages).`);
    else print(`${taskTable(answer.tasks)}\n\npage ${page} of ${pages}, ${answer.total} task${answer.total === 1 ? '' : 's'}`);
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------------
// task <id>

const URL_STATUSES = ['processing', 'succeed', 'failed', 'waiting', 'refreshing', 'preheating'] as const;
const PAGE = 10_000;
const WATCH_INTERVAL_MS = 200;

function task(args: string[]): Promise<number> {
  const options: Record<string, OptionSpec> = { watch: { type: 'boolean' }, status: { type: 'string' }, url: { type: 'string' }, nodes: { type: 'boolean' } };
  return run('task', args, options, async ({ client, json, values, positionals }) => {
    const c = 'task';
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give a task id' : `one task id only (got ${positionals.length} arguments)`, c);
    const id = positionals[0];
    if (values.nodes === true) {
      if (values.watch === true) throw new UsageError('--nodes and --watch do not go together', c);
      return taskNodes(client, json, id, str(values.url));
    }
    const status = oneOf(c, 'status', str(values.status), URL_STATUSES);
    const url = str(values.url);
    const path = `/v1.0/cdn/historytasks/${encodeURIComponent(id)}/detail`;
    const detail = (pageSize: number, page: number) =>
      client.call<TaskDetail>('GET', path, { query: [['page_size', pageSize], ['page_number', page], ['status', status], ['url', url]] });

    /** Every URL page (the detail's urls are paged; `total` counts the task's URLs, not the filtered ones). */
    const allPages = async (first?: TaskDetail): Promise<TaskDetail[]> => {
      const pages = [first ?? (await detail(PAGE, 1))];
      while (pages[pages.length - 1].urls.length === PAGE && pages.length * PAGE < pages[0].total && pages.length < 65535) {
        pages.push(await detail(PAGE, pages.length + 1));
      }
      return pages;
    };

    let pages: TaskDetail[];
    if (values.watch === true) {
      pages = await watch(id, json, async (small) => detail(small ? 1 : PAGE, 1), allPages);
    } else {
      pages = await allPages();
    }

    if (json) {
      for (const p of pages) printJson(p);
      return 0;
    }
    const t = pages[0];
    const urls = pages.flatMap((p) => p.urls);
    print(
      renderFields([
        ['task', t.id],
        ['type', t.task_type],
        ['file type', t.file_type],
        ['status', t.status],
        ['created', formatTime(t.create_time)],
        ['urls', `${t.total} total, ${t.succeed} succeed, ${t.failed} failed, ${t.processing} processing`],
      ]),
    );
    print('');
    print(urls.length === 0 ? (status !== undefined || url !== undefined ? 'No URLs match.' : 'No URLs.') : urlTable(urls));
    return 0;
  });
}

/**
 * Polls the task every ~200 ms until task_done, drawing the progress. While the task has at most 10000
 * URLs each poll fetches them all (page_size 10000), so the last poll is the answer; bigger tasks poll
 * the counts only (page_size 1) and fetch every page at the end.
 */
async function watch(
  id: string,
  json: boolean,
  poll: (countsOnly: boolean) => Promise<TaskDetail>,
  allPages: (first?: TaskDetail) => Promise<TaskDetail[]>,
): Promise<TaskDetail[]> {
  // With --json stdout is for the answers: the progress goes to a terminal's stderr, or nowhere.
  const out: ProgressOutput | undefined = !json ? process.stdout : process.stderr.isTTY ? process.stderr : undefined;
  const bar = out ? new ProgressBar(out, { label: `task ${id}` }) : undefined;
  const onSigint = () => {
    bar?.abandon();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    let countsOnly = false;
    for (;;) {
      const answer = await poll(countsOnly);
      const state = { total: answer.total, succeed: answer.succeed, failed: answer.failed, processing: answer.processing };
      if (answer.status === 'task_done') {
        bar?.finish(state);
        if (out) out.write('\n');
        return countsOnly ? allPages() : allPages(answer);
      }
      bar?.update(state);
      countsOnly = answer.total > PAGE;
      await sleep(WATCH_INTERVAL_MS);
    }
  } catch (err) {
    bar?.abandon();
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

// ---------------------------------------------------------------------------------------------------
// domains

const BUSINESS_TYPES = ['web', 'download', 'video', 'wholeSite'] as const;
const DOMAIN_WAIT_MS = 120_000;

/** `host`, `host:port`, `1.2.3.4:80`, `[::1]:8080` or a bare IPv6 address. */
export function parseOrigin(text: string): { host: string; port?: number } | undefined {
  let host: string;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1];
    port = bracket[2];
    if (net.isIPv6(host) === false) return undefined;
  } else if ((text.match(/:/g) ?? []).length > 1) {
    if (!net.isIPv6(text)) return undefined;
    host = text;
  } else {
    const i = text.lastIndexOf(':');
    host = i >= 0 ? text.slice(0, i) : text;
    port = i >= 0 ? text.slice(i + 1) : undefined;
    if (port !== undefined && !/^\d+$/.test(port)) return undefined;
  }
  if (host.length === 0) return undefined;
  if (port === undefined) return { host };
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return undefined;
  return { host, port: n };
}

function sourceOf(command: string, flag: string, text: string, primary: boolean) {
  const o = parseOrigin(text);
  if (!o) throw new UsageError(`--${flag} '${text}' is not <ip|host>[:port]`, command);
  return {
    ip_or_domain: o.host,
    origin_type: net.isIP(o.host) ? 'ipaddr' : 'domain',
    active_standby: primary ? 1 : 0,
    ...(o.port !== undefined && { http_port: o.port }),
  };
}

/** --origin (required) and --standby, as the sources of a domain. */
function sourcesOf(command: string, values: Record<string, string | boolean | string[] | undefined>) {
  const origin = str(values.origin);
  if (origin === undefined) throw new UsageError('--origin is required', command);
  return [sourceOf(command, 'origin', origin, true), ...list(values.standby).map((s) => sourceOf(command, 'standby', s, false))];
}

async function findDomainsByName(client: ApiClient, name: string, exact: boolean): Promise<Array<{ total: number; domains: DomainObject[] }>> {
  const pages: Array<{ total: number; domains: DomainObject[] }> = [];
  for (let page = 1; page <= 65535; page++) {
    const answer = await client.call<{ total: number; domains: DomainObject[] }>('GET', '/v1.0/cdn/domains', {
      query: [['domain_name', name || undefined], ['exact_match', exact ? 'true' : undefined], ['page_size', PAGE], ['page_number', page]],
    });
    pages.push(answer);
    if (answer.domains.length < PAGE || page * PAGE >= answer.total) break;
  }
  return pages;
}

/** A name (it has a dot) → the domain's id, through the exact-match list; anything else is an id. */
async function resolveDomain(client: ApiClient, nameOrId: string): Promise<string> {
  if (!nameOrId.includes('.')) return nameOrId;
  const [answer] = await findDomainsByName(client, nameOrId.toLowerCase(), true);
  const found = answer.domains.find((d) => d.domain_name === nameOrId.toLowerCase()) ?? answer.domains[0];
  if (!found) throw new ApiError('CDN.0105', 400, `The accelerated domain '${nameOrId}' does not exist.`);
  return found.id;
}

/** Polls until the domain is online on every edge: 0, or 1 (with a warning) when it fails or the wait runs out. */
async function waitOnline(client: ApiClient, json: boolean, domain: { id: string; domain_name: string }, sub: string): Promise<number> {
  const deadline = Date.now() + DOMAIN_WAIT_MS;
  for (;;) {
    const [answer] = await findDomainsByName(client, domain.domain_name, true);
    const d = answer.domains.find((x) => x.id === domain.id);
    if (!d) throw new ApiError('CDN.0105', 400, `The domain '${domain.domain_name}' disappeared while waiting for it.`);
    if (d.domain_status === 'online') {
      if (json) printJson(answer);
      else print(domainTable([d]));
      return 0;
    }
    if (d.domain_status !== 'configuring' && d.domain_status !== 'checking') {
      if (json) printJson(answer);
      warn(`cachectl domains ${sub}: ${d.domain_name} is ${d.domain_status}${d.status_detail ? `: ${d.status_detail}` : ''}`);
      return 1;
    }
    if (Date.now() > deadline) {
      warn(`cachectl domains ${sub}: ${d.domain_name} is still ${d.domain_status} after ${DOMAIN_WAIT_MS / 1000} s${d.status_detail ? ` (${d.status_detail})` : ''}`);
      return 1;
    }
    await sleep(WATCH_INTERVAL_MS);
  }
}

const DOMAIN_OPTIONS: Record<string, OptionSpec> = {
  origin: { type: 'string' },
  standby: { type: 'string', multiple: true },
  type: { type: 'string' },
  wait: { type: 'boolean' },
  name: { type: 'string' },
  exact: { type: 'boolean' },
};

function domains(args: string[]): Promise<number> {
  const c = 'domains';
  const { sub, rest } = splitSubcommand(args, DOMAIN_OPTIONS);
  const only = (...names: string[]) => Object.fromEntries(names.map((n) => [n, DOMAIN_OPTIONS[n]]));
  switch (sub) {
    case 'add':
      return run(c, rest, only('origin', 'standby', 'type', 'wait'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one domain name', c);
        const type = oneOf(c, 'type', str(values.type), BUSINESS_TYPES) ?? 'web';
        const sources = sourcesOf(c, values);
        const created = await client.call<{ domain: DomainObject }>('POST', '/v1.0/cdn/domains', {
          body: { domain: { domain_name: positionals[0], business_type: type, sources } },
        });
        if (json) printJson(created);
        if (values.wait !== true) {
          if (!json) print(domainTable([{ ...created.domain, sources: created.domain.sources.map((s, i) => ({ ...s, http_port: sources[i]?.http_port })) }]));
          return 0;
        }
        return waitOnline(client, json, created.domain, 'add');
      });
    case 'list':
      return run(c, rest, only('name', 'exact'), async ({ client, json, values, positionals }) => {
        if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, c);
        const name = str(values.name);
        if (values.exact === true && name === undefined) throw new UsageError('--exact needs --name', c);
        const pages = await findDomainsByName(client, name?.toLowerCase() ?? '', values.exact === true);
        if (json) {
          for (const p of pages) printJson(p);
          return 0;
        }
        const all = pages.flatMap((p) => p.domains);
        print(all.length === 0 ? 'No domains.' : domainTable(all));
        return 0;
      });
    case 'origin':
      // UpdateDomainOrigin: the whole origin list is replaced; what the edges cached stays cached.
      return run(c, rest, only('origin', 'standby', 'wait'), async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one domain name or id', c);
        const sources = sourcesOf(c, values);
        const id = await resolveDomain(client, positionals[0]);
        await client.call('PUT', `/v1.0/cdn/domains/${encodeURIComponent(id)}/origin`, { body: { origin: { sources } } });
        const detail = await client.call<{ domain: DomainObject }>('GET', `/v1.0/cdn/domains/${encodeURIComponent(id)}/detail`);
        if (values.wait === true && detail.domain.domain_status !== 'offline') return waitOnline(client, json, detail.domain, 'origin');
        if (json) printJson(detail);
        else print(domainTable([detail.domain]));
        return 0;
      });
    case 'enable':
    case 'disable':
    case 'rm':
      return run(c, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one domain name or id', c);
        const id = await resolveDomain(client, positionals[0]);
        const path = `/v1.0/cdn/domains/${encodeURIComponent(id)}`;
        const answer =
          sub === 'rm'
            ? await client.call<{ domain: DomainObject }>('DELETE', path)
            : await client.call<{ domain: DomainObject }>('PUT', `${path}/${sub}`);
        if (json) printJson(answer);
        else print(sub === 'rm' ? `deleted ${answer.domain.domain_name} (${answer.domain.id})` : domainTable([answer.domain]));
        return 0;
      });
    default:
      return usageOnly(c, args, sub === undefined ? 'give a sub-command: add, list, origin, enable, disable or rm' : `unknown sub-command '${sub}'`);
  }
}

/** `cachectl domains` (no or a wrong sub-command): the usage, or --help. */
async function usageOnly(command: string, args: string[], message: string): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    print(commandUsage(command));
    return 0;
  }
  return report(new UsageError(message, command));
}

interface NodeResultObject {
  node: string;
  ok: boolean;
  ms: number;
  attempts: number;
  detail?: string;
  classify?: string;
  error?: string;
}

interface TaskNodesPage {
  task_id: string;
  total: number;
  urls: Array<{ id: string; url: string; status: string; nodes: NodeResultObject[] }>;
}

/** Each URL's result on each node (cachectl's own endpoint; the Huawei detail does not carry it). */
async function taskNodes(client: ApiClient, json: boolean, id: string, url: string | undefined): Promise<number> {
  const pages: TaskNodesPage[] = [];
  for (let offset = 0; ; offset += NODES_PAGE) {
    const page = await client.call<TaskNodesPage>('GET', `/cachectl/v1/tasks/${encodeURIComponent(id)}/nodes`, {
      query: [['offset', offset], ['limit', NODES_PAGE], ['url', url]],
    });
    pages.push(page);
    if (page.urls.length < NODES_PAGE) break;
  }
  if (json) {
    for (const p of pages) printJson(p);
    return 0;
  }
  const rows: Cell[][] = [];
  for (const u of pages.flatMap((p) => p.urls)) {
    if (u.nodes.length === 0) rows.push([u.url, u.status, '-', '', '', 'no node has answered yet']);
    for (const n of u.nodes) rows.push([u.url, u.status, n.node, n.ok ? 'ok' : `failed ${n.classify ?? ''}`.trim(), `${n.ms}`, n.ok ? (n.detail ?? '') : (n.error ?? '')]);
  }
  print(
    rows.length === 0
      ? 'No URLs.'
      : renderTable([{ header: 'URL' }, { header: 'STATUS' }, { header: 'NODE' }, { header: 'RESULT' }, { header: 'MS', align: 'right' }, { header: 'DETAIL / ERROR' }], rows),
  );
  return 0;
}

const NODES_PAGE = 1000;

// ---------------------------------------------------------------------------------------------------
// nodes (admin)

interface NodeObject {
  name: string;
  driver: string;
  traffic_url: string;
  control_url: string;
  labels: Record<string, string>;
  transport?: string;
  pop?: string | null;
  source: string;
  up: boolean;
  checked_at: number | null;
  domains_version: number | null;
  backlog: number;
  detail?: string;
}

const NODE_OPTIONS: Record<string, OptionSpec> = {
  driver: { type: 'string' },
  traffic: { type: 'string' },
  control: { type: 'string' },
  'secret-file': { type: 'string' },
  label: { type: 'string', multiple: true },
  transport: { type: 'string' },
  pop: { type: 'string' },
};

function nodeTable(nodes: NodeObject[]): string {
  return renderTable(
    [{ header: 'NAME' }, { header: 'DRIVER' }, { header: 'STATE' }, { header: 'TRAFFIC' }, { header: 'CONTROL' }, { header: 'DOMAINS V', align: 'right' }, { header: 'BACKLOG', align: 'right' }, { header: 'LABELS' }, { header: 'DETAIL' }],
    nodes.map((n): Cell[] => [
      n.source === 'process' ? `${n.name} (built-in)` : n.name,
      n.transport === 'nats' ? `${n.driver} via ${n.pop}` : n.driver,
      n.up ? 'up' : 'DOWN',
      n.traffic_url,
      n.control_url,
      n.domains_version ?? '-',
      n.backlog,
      Object.entries(n.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      n.detail ?? '',
    ]),
  );
}

function nodes(args: string[]): Promise<number> {
  const c = 'nodes';
  const { sub, rest } = splitSubcommand(args, NODE_OPTIONS);
  switch (sub) {
    case 'add':
      return run(c, rest, NODE_OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one node name', c);
        const driver = oneOf(c, 'driver', str(values.driver), ['builtin', 'varnish', 'nginx', 'ats'] as const);
        const traffic = str(values.traffic);
        const control = str(values.control);
        if (!driver || !traffic || !control) throw new UsageError('--driver, --traffic and --control are required', c);
        const labels: Record<string, string> = {};
        for (const l of list(values.label)) {
          const eq = l.indexOf('=');
          if (eq < 1) throw new UsageError(`--label '${l}' is not key=value`, c);
          labels[l.slice(0, eq)] = l.slice(eq + 1);
        }
        const secretFile = str(values['secret-file']);
        let secret: string | undefined;
        if (secretFile !== undefined) {
          try {
            secret = readFileSync(secretFile, 'utf8'); // verbatim: varnishd's -S secret is the file's exact bytes
          } catch (err) {
            throw new UsageError(`--secret-file: ${(err as Error).message}`, c);
          }
        }
        const answer = await client.call<{ node: NodeObject }>('POST', '/cachectl/v1/nodes', {
          body: {
            name: positionals[0],
            driver,
            traffic_url: traffic,
            control_url: control,
            labels,
            ...(secret !== undefined && { secret }),
            ...(str(values.transport) !== undefined && { transport: str(values.transport) }),
            ...(str(values.pop) !== undefined && { pop: str(values.pop) }),
          },
        });
        if (json) printJson(answer);
        else print(`${nodeTable([answer.node])}\n\nadded node ${answer.node.name}${answer.node.up ? '' : ' (it is down: tasks fail on it with INNER_ERROR until it answers)'}`);
        return 0;
      });
    case 'list':
      return run(c, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, c);
        const answer = await client.call<{ nodes: NodeObject[] }>('GET', '/cachectl/v1/nodes');
        if (json) printJson(answer);
        else print(answer.nodes.length === 0 ? 'No edge nodes: add one with cachectl nodes add.' : nodeTable(answer.nodes));
        return 0;
      });
    case 'rm':
    case 'check':
      return run(c, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one node name', c);
        const path = `/cachectl/v1/nodes/${encodeURIComponent(positionals[0])}`;
        const answer = sub === 'rm' ? await client.call<{ node: NodeObject }>('DELETE', path) : await client.call<{ node: NodeObject }>('POST', `${path}/check`);
        if (json) printJson(answer);
        else print(sub === 'rm' ? `removed node ${answer.node.name}` : nodeTable([answer.node]));
        return sub === 'check' && !answer.node.up ? 1 : 0;
      });
    default:
      return usageOnly(c, args, sub === undefined ? 'give a sub-command: add, list, rm or check' : `unknown sub-command '${sub}'`);
  }
}

// ---------------------------------------------------------------------------------------------------
// accounts, keys (admin)

interface QuotaLimits {
  file_refresh: number;
  dir_refresh: number;
  preheat: number;
  domain: number;
}

const ACCOUNT_OPTIONS: Record<string, OptionSpec> = { user: { type: 'string' }, password: { type: 'string' } };

function accounts(args: string[]): Promise<number> {
  const c = 'accounts';
  const { sub, rest } = splitSubcommand(args, ACCOUNT_OPTIONS);
  switch (sub) {
    case 'add':
      return run(c, rest, ACCOUNT_OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one account name', c);
        const password = str(values.password);
        if (password !== undefined && password.length < 8) throw new UsageError('--password must have at least 8 characters', c);
        const answer = await client.call<{ account: { id: string; name: string }; user: string; password: string; access_key: string; secret_key: string }>(
          'POST',
          '/cachectl/v1/accounts',
          { body: { name: positionals[0], ...(str(values.user) !== undefined && { user: str(values.user) }), ...(password !== undefined && { password }) } },
        );
        if (json) printJson(answer);
        else
          print(
            `${renderFields([
              ['account', answer.account.name],
              ['account id', answer.account.id],
              ['user', answer.user],
              ['password', answer.password],
              ['access key', answer.access_key],
              ['secret key', answer.secret_key],
            ])}\n\nThe password and the secret key are shown only now.`,
          );
        return 0;
      });
    case 'list':
      return run(c, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, c);
        const answer = await client.call<{ accounts: Array<{ id: string; name: string; admin: boolean; quotas: QuotaLimits; created_at: number }> }>('GET', '/cachectl/v1/accounts');
        if (json) {
          printJson(answer);
          return 0;
        }
        print(
          renderTable(
            [
              { header: 'ID' },
              { header: 'NAME' },
              { header: 'ADMIN' },
              { header: 'FILE REFRESH/DAY', align: 'right' },
              { header: 'DIR REFRESH/DAY', align: 'right' },
              { header: 'PREFETCH/DAY', align: 'right' },
              { header: 'DOMAINS', align: 'right' },
              { header: 'CREATED' },
            ],
            answer.accounts.map((a) => [a.id, a.name, a.admin ? 'yes' : 'no', a.quotas?.file_refresh, a.quotas?.dir_refresh, a.quotas?.preheat, a.quotas?.domain, formatTime(Number(a.created_at))]),
          ),
        );
        return 0;
      });
    default:
      return usageOnly(c, args, sub === undefined ? 'give a sub-command: add or list' : `unknown sub-command '${sub}'`);
  }
}

const KEY_OPTIONS: Record<string, OptionSpec> = { account: { type: 'string' }, description: { type: 'string' } };

function keys(args: string[]): Promise<number> {
  const c = 'keys';
  const { sub, rest } = splitSubcommand(args, KEY_OPTIONS);
  switch (sub) {
    case 'add':
      return run(c, rest, KEY_OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (the account goes in --account)`, c);
        const account = str(values.account);
        if (account === undefined) throw new UsageError('--account is required', c);
        const description = str(values.description);
        if (description !== undefined && description.length > 200) throw new UsageError('--description is at most 200 characters', c);
        const answer = await client.call<{ account: string; access_key: string; secret_key: string }>('POST', '/cachectl/v1/keys', {
          body: { account, ...(description !== undefined && { description }) },
        });
        if (json) printJson(answer);
        else
          print(
            `${renderFields([
              ['account', answer.account],
              ['access key', answer.access_key],
              ['secret key', answer.secret_key],
            ])}\n\nThe secret key is shown only now.`,
          );
        return 0;
      });
    case 'list':
      return run(c, rest, { account: KEY_OPTIONS.account }, async ({ client, json, values, positionals }) => {
        if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, c);
        const answer = await client.call<{ keys: Array<{ access_key: string; account: string; description: string; created_at: number }> }>('GET', '/cachectl/v1/keys', {
          query: [['account', str(values.account)]],
        });
        if (json) {
          printJson(answer);
          return 0;
        }
        print(
          answer.keys.length === 0
            ? 'No access keys.'
            : renderTable(
                [{ header: 'ACCESS KEY' }, { header: 'ACCOUNT' }, { header: 'DESCRIPTION' }, { header: 'CREATED' }],
                answer.keys.map((k): Cell[] => [k.access_key, k.account, k.description, formatTime(Number(k.created_at))]),
              ),
        );
        return 0;
      });
    case 'rm':
      return run(c, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one access key', c);
        const answer = await client.call<{ deleted: string }>('DELETE', `/cachectl/v1/keys/${encodeURIComponent(positionals[0])}`);
        if (json) printJson(answer);
        else print(`deleted access key ${answer.deleted}`);
        return 0;
      });
    default:
      return usageOnly(c, args, sub === undefined ? 'give a sub-command: add, list or rm' : `unknown sub-command '${sub}'`);
  }
}

// ---------------------------------------------------------------------------------------------------

const guarded =
  (fn: (args: string[]) => Promise<number>) =>
  (args: string[]): Promise<number> => {
    guardPipes();
    return fn(args).catch(report);
  };

export const clientCommands: Record<string, (args: string[]) => Promise<number>> = {
  purge: guarded(createTask('refresh')),
  prefetch: guarded(createTask('preheating')),
  tasks: guarded(tasks),
  task: guarded(task),
  domains: guarded(domains),
  accounts: guarded(accounts),
  keys: guarded(keys),
  nodes: guarded(nodes),
};
