// Running a client command: parse, load the key, call, and map every failure to an exit code and one
// message (a JSON line with --json): 1 for an API or network error, 2 for a usage error or no keys.
import { ApiClient, ApiError, TransportError } from '../client/api-client.js';
import { CredentialsError, loadClientCredentials } from './client-credentials.js';
import { parse, str, UsageError, type CommandScope, type OptionSpec, type Values } from './args.js';
import { GLOBAL_HELP, usageOf, type UsageEntry } from './help-layout.js';
import { guardPipes, print, warn } from './output.js';
import { nearest } from './nearest.js';

/** A client command: its usage, what completion offers, and what it does. */
export interface ClientCommand extends CommandScope {
  /** Sub-commands (domains add, list, …), for completion. */
  subcommands?: readonly string[];
  /** Every option any of its forms takes, for completion. */
  options: Record<string, OptionSpec>;
  run(args: string[]): Promise<number>;
}

export interface Context {
  client: ApiClient;
  json: boolean;
  values: Values;
  positionals: string[];
}

export function commandUsage(usage: readonly UsageEntry[]): string {
  return `Usage:\n${usageOf(usage)}\n\n${GLOBAL_HELP}`;
}

const wantsJson = (args: readonly string[]) => args.includes('--json');

/** Parses, loads the key, runs, maps errors to exit codes, and closes the connection pool. */
export async function run(scope: CommandScope, args: string[], options: Record<string, OptionSpec>, body: (ctx: Context) => Promise<number>): Promise<number> {
  let client: ApiClient | undefined;
  try {
    const { values, positionals } = parse(scope, args, options);
    if (values.help) {
      print(commandUsage(scope.usage));
      return 0;
    }
    const credentials = loadClientCredentials({ api: str(values.api), dataDir: str(values['data-dir']), profile: str(values.profile) });
    client = new ApiClient(credentials);
    return await body({ client, json: values.json === true, values, positionals });
  } catch (err) {
    return report(err, wantsJson(args));
  } finally {
    await client?.close();
  }
}

/** The error's code for --json: the API's own, else one naming the kind of failure. */
function describe(err: unknown): { code: string; message: string; exit: number; status?: number; request_id?: string } {
  if (err instanceof UsageError) return { code: 'CLI.USAGE', message: `cachectl ${err.scope.name}: ${err.message}`, exit: 2 };
  if (err instanceof CredentialsError) return { code: 'CLI.CREDENTIALS', message: err.message, exit: 2 };
  if (err instanceof ApiError) return { code: err.code, message: err.message, exit: 1, status: err.status, ...(err.requestId && { request_id: err.requestId }) };
  if (err instanceof TransportError) return { code: 'CLI.TRANSPORT', message: err.message, exit: 1 };
  return { code: 'CLI.ERROR', message: err instanceof Error ? err.message : String(err), exit: 1 };
}

export function report(err: unknown, json: boolean): number {
  const d = describe(err);
  if (json) {
    // The spec's flat error shape, on stderr: stdout stays for answers.
    const { exit, code, message, ...rest } = d;
    warn(JSON.stringify({ error_code: code, error_msg: message, ...rest }));
    return exit;
  }
  if (err instanceof UsageError) warn(`${d.message}\n\n${commandUsage(err.scope.usage)}`);
  else if (err instanceof ApiError) warn(`error ${d.code}: ${d.message}`);
  else warn(`cachectl: ${d.message}`);
  return d.exit;
}

/** `cachectl domains` (no or a wrong sub-command): the usage, or --help. */
export async function usageOnly(scope: CommandScope, args: string[], message: string): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    print(commandUsage(scope.usage));
    return 0;
  }
  return report(new UsageError(message, scope), wantsJson(args));
}

/** A missing or unknown sub-command: which ones there are, or the nearest to the one given. */
export function badSubcommand(scope: CommandScope, args: string[], sub: string | undefined, subcommands: readonly string[]): Promise<number> {
  const names = subcommands.length > 1 ? `${subcommands.slice(0, -1).join(', ')} or ${subcommands[subcommands.length - 1]}` : subcommands.join('');
  const guess = sub === undefined ? undefined : nearest(sub, subcommands);
  return usageOnly(scope, args, sub === undefined ? `give a sub-command: ${names}` : `unknown sub-command '${sub}'${guess ? `; did you mean '${guess}'?` : ''}`);
}

/** The entry point of a command: pipes guarded, anything thrown reported. */
export function guarded(fn: (args: string[]) => Promise<number>): (args: string[]) => Promise<number> {
  return (args) => {
    guardPipes();
    return fn(args).catch((err: unknown) => report(err, wantsJson(args)));
  };
}
