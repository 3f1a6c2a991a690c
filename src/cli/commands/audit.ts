// audit: the account's audit trail, newest first: who changed what, who was refused, who logged in.
import { intOption, noArguments, str, timeOption, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { AuditPage } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, type ClientCommand } from '../run-command.js';
import { formatTime, renderTable } from '../table.js';

const OPTIONS: Record<string, OptionSpec> = {
  since: { type: 'string' },
  until: { type: 'string' },
  user: { type: 'string' },
  action: { type: 'string' },
  resource: { type: 'string' },
  outcome: { type: 'string' },
  account: { type: 'string' },
  limit: { type: 'string' },
  ndjson: { type: 'boolean' },
};

const scope: CommandScope = {
  name: 'audit',
  usage: [
    {
      synopsis: 'cachectl audit [--since 1h|T] [--until T] [--user U] [--action A] [--resource R] [--outcome success|failure|STATUS] [--limit N] [--ndjson] [--account NAME|*]',
      help: "the audit trail, newest first (default the last 100 rows): changes, refused and failed calls, logins; A and R exact or a prefix ending in '*' (--action 'cdn:*'); --ndjson: every matching row, one JSON object a line; --account: (admin) another account, or * for all",
    },
  ],
};

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };
const PAGE = 1000;

/** `90m`, `1h`, `7d` ago, or a time (epoch ms, ISO date). */
function since(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d{1,9})([smhd])$/.exec(value);
  return m ? Date.now() - Number(m[1]) * UNITS[m[2]] : timeOption(scope, 'since', value);
}

function audit(args: string[]): Promise<number> {
  return run(scope, args, OPTIONS, async ({ client, json, values, positionals }) => {
    noArguments(scope, positionals);
    const ndjson = values.ndjson === true;
    if (ndjson && json) throw new UsageError('--ndjson and --json do not go together', scope);
    const limit = intOption(scope, 'limit', str(values.limit), 1, 1_000_000_000);
    const filter: Array<[string, string | number | undefined]> = [
      ['from', since(str(values.since))],
      ['to', timeOption(scope, 'until', str(values.until))],
      ['user', str(values.user)],
      ['action', str(values.action)],
      ['resource', str(values.resource)],
      ['outcome', str(values.outcome)],
      ['account', str(values.account)],
    ];
    // Every row with --ndjson (unless --limit), else the newest 100: pages of at most 1000 either way.
    let left = limit ?? (ndjson ? Infinity : 100);
    let marker: string | undefined;
    const events: AuditPage['events'] = [];
    let more = false;
    while (left > 0) {
      const page = await client.call<AuditPage>('GET', '/cachectl/v1/audit', { query: [...filter, ['limit', Math.min(PAGE, left)], ['marker', marker]] });
      left -= page.events.length;
      if (ndjson) for (const e of page.events) printJson(e);
      else if (json) printJson(page);
      else events.push(...page.events);
      marker = page.next_marker ?? undefined;
      more = marker !== undefined;
      if (!more) break;
    }
    if (ndjson || json) return 0;
    if (events.length === 0) {
      print('No audit records match.');
      return 0;
    }
    print(
      renderTable(
        [{ header: 'TIME' }, { header: 'USER' }, { header: 'KEY' }, { header: 'ACTION' }, { header: 'RESOURCE' }, { header: 'STATUS', align: 'right' }, { header: 'ERROR' }, { header: 'SOURCE' }],
        events.map((e) => [formatTime(e.time), e.user_name ?? '-', e.access_key ?? '-', e.action, e.resource, e.status, e.error_code ?? '', e.source_ip]),
      ),
    );
    if (more) print(`(newest ${events.length} shown; --limit N or --ndjson for more)`);
    return 0;
  });
}

export const auditCommand: ClientCommand = { ...scope, options: OPTIONS, run: guarded(audit) };
