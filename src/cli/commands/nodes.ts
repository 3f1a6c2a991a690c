// nodes (admin): the edge node registry — add, list, rm, check.
import { readFileSync } from 'node:fs';
import { NODE_DRIVERS } from '../../edge/engines.js';
import { list, noArguments, oneOf, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import type { NodeObject } from '../api-types.js';
import { print, printJson } from '../output.js';
import { guarded, run, badSubcommand, type ClientCommand } from '../run-command.js';
import { renderTable, type Cell } from '../table.js';

const OPTIONS: Record<string, OptionSpec> = {
  driver: { type: 'string' },
  traffic: { type: 'string' },
  control: { type: 'string' },
  'secret-file': { type: 'string' },
  label: { type: 'string', multiple: true },
  transport: { type: 'string' },
  pop: { type: 'string' },
};

const SUBCOMMANDS = ['add', 'list', 'rm', 'check'] as const;

const scope: CommandScope = {
  name: 'nodes',
  usage: [
    {
      synopsis: `cachectl nodes add <name> --driver ${NODE_DRIVERS.join('|')} --traffic <url> --control <url or host:port> [--secret-file F] [--label key=value]… [--transport http|nats --pop NAME]`,
      help: '(admin) register an edge node: traffic is where users connect; control is the built-in edge admin URL, the edge agent URL (nginx, ATS) or varnishd -T host:port; --secret-file: varnishd -S file, or the bearer secret of the built-in edge (cachectl edge --secret-file) or agent; never shown again',
    },
    { synopsis: 'cachectl nodes list', help: '(admin) every edge node, up or down, its domain-set version and backlog' },
    { synopsis: 'cachectl nodes rm <name>', help: '(admin) remove a node: its pending work fails with INNER_ERROR' },
    { synopsis: 'cachectl nodes check <name>', help: '(admin) check a node now; exit 1 when it is down' },
  ],
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
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  switch (sub) {
    case 'add':
      return run(scope, rest, OPTIONS, async ({ client, json, values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one node name', scope);
        const driver = oneOf(scope, 'driver', str(values.driver), NODE_DRIVERS);
        const traffic = str(values.traffic);
        const control = str(values.control);
        if (!driver || !traffic || !control) throw new UsageError('--driver, --traffic and --control are required', scope);
        const labels: Record<string, string> = {};
        for (const l of list(values.label)) {
          const eq = l.indexOf('=');
          if (eq < 1) throw new UsageError(`--label '${l}' is not key=value`, scope);
          labels[l.slice(0, eq)] = l.slice(eq + 1);
        }
        const secretFile = str(values['secret-file']);
        let secret: string | undefined;
        if (secretFile !== undefined) {
          try {
            secret = readFileSync(secretFile, 'utf8'); // verbatim: varnishd's -S secret is the file's exact bytes
          } catch (err) {
            throw new UsageError(`--secret-file: ${(err as Error).message}`, scope);
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
      return run(scope, rest, {}, async ({ client, json, positionals }) => {
        noArguments(scope, positionals);
        const answer = await client.call<{ nodes: NodeObject[] }>('GET', '/cachectl/v1/nodes');
        if (json) printJson(answer);
        else print(answer.nodes.length === 0 ? 'No edge nodes: add one with cachectl nodes add.' : nodeTable(answer.nodes));
        return 0;
      });
    case 'rm':
    case 'check':
      return run(scope, rest, {}, async ({ client, json, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one node name', scope);
        const path = `/cachectl/v1/nodes/${encodeURIComponent(positionals[0])}`;
        const answer = sub === 'rm' ? await client.call<{ node: NodeObject }>('DELETE', path) : await client.call<{ node: NodeObject }>('POST', `${path}/check`);
        if (json) printJson(answer);
        else print(sub === 'rm' ? `removed node ${answer.node.name}` : nodeTable([answer.node]));
        return sub === 'check' && !answer.node.up ? 1 : 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const nodesCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(nodes) };
