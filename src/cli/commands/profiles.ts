// profiles: save, list and remove the client config's profiles (an API and a key pair each).
import { readFileSync } from 'node:fs';
import { noArguments, parse, splitSubcommand, str, UsageError, type CommandScope, type OptionSpec } from '../args.js';
import { loadClientCredentials, normaliseApi, CredentialsError } from '../client-credentials.js';
import { ConfigFileError, configPath, PROFILE_NAME, readProfiles, writeProfiles } from '../client-config.js';
import { print, printJson, warn } from '../output.js';
import { commandUsage, guarded, report, badSubcommand, type ClientCommand } from '../run-command.js';
import { renderTable } from '../table.js';

const OPTIONS: Record<string, OptionSpec> = { 'access-key': { type: 'string' } };
const SUBCOMMANDS = ['set', 'list', 'rm'] as const;

const scope: CommandScope = {
  name: 'profiles',
  usage: [
    {
      synopsis: 'cachectl profiles set <name> [--api URL] [--access-key AK]',
      help: 'save a profile in the client config (created 0600): the API and keys found as for any command (--data-dir, the environment), or --access-key AK with the secret key read from stdin; "default" is used outside a server\'s directory',
    },
    { synopsis: 'cachectl profiles list', help: 'the profiles: name, API and access key (never the secret)' },
    { synopsis: 'cachectl profiles rm <name>', help: 'remove a profile' },
  ],
};

/** The first line of stdin: a secret is not given on the command line, where `ps` and the history see it. */
function secretFromStdin(): string {
  const line = readFileSync(0, 'utf8').split(/\r?\n/)[0].trim();
  if (line === '') throw new UsageError('--access-key: give the secret key on stdin', scope);
  return line;
}

/** Like run(), without an API client: these commands touch only the config file. */
async function local(args: string[], options: Record<string, OptionSpec>, body: (values: ReturnType<typeof parse>) => number): Promise<number> {
  try {
    const parsed = parse(scope, args, options);
    if (parsed.values.help) {
      print(commandUsage(scope.usage));
      return 0;
    }
    return body(parsed);
  } catch (err) {
    return report(err instanceof ConfigFileError ? new CredentialsError(err.message) : err, args.includes('--json'));
  }
}

function profiles(args: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(args, OPTIONS);
  const file = configPath();
  switch (sub) {
    case 'set':
      return local(rest, OPTIONS, ({ values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one profile name', scope);
        const name = positionals[0];
        if (!PROFILE_NAME.test(name)) throw new UsageError(`'${name}' is not a profile name (letters, digits, . _ -)`, scope);
        const accessKey = str(values['access-key']);
        const api = str(values.api);
        const found =
          accessKey !== undefined
            ? { api: api === undefined ? undefined : normaliseApi(api, '--api'), accessKey, secretKey: secretFromStdin() }
            : loadClientCredentials({ api, dataDir: str(values['data-dir']), profile: str(values.profile) });
        const all = readProfiles(file);
        all.set(name, { ...(found.api !== undefined && { api: found.api }), access_key: found.accessKey, secret_key: found.secretKey });
        writeProfiles(file, all, warn);
        const saved = { name, api: found.api, access_key: found.accessKey, file };
        if (values.json === true) printJson({ profile: saved });
        else print(`saved profile ${name} (${found.api ?? 'API from --api or CACHECTL_API'}, access key ${found.accessKey}) in ${file}`);
        return 0;
      });
    case 'list':
      return local(rest, {}, ({ values, positionals }) => {
        noArguments(scope, positionals);
        const rows = [...readProfiles(file)].map(([name, p]) => ({ name, api: p.api, access_key: p.access_key }));
        if (values.json === true) printJson({ file, profiles: rows });
        else print(rows.length === 0 ? `No profiles in ${file}.` : renderTable([{ header: 'NAME' }, { header: 'API' }, { header: 'ACCESS KEY' }], rows.map((r) => [r.name, r.api, r.access_key])));
        return 0;
      });
    case 'rm':
      return local(rest, {}, ({ values, positionals }) => {
        if (positionals.length !== 1) throw new UsageError('give one profile name', scope);
        const all = readProfiles(file);
        if (!all.delete(positionals[0])) throw new CredentialsError(`no profile '${positionals[0]}' in ${file}`);
        writeProfiles(file, all, warn);
        if (values.json === true) printJson({ deleted: positionals[0] });
        else print(`removed profile ${positionals[0]}`);
        return 0;
      });
    default:
      return badSubcommand(scope, args, sub, SUBCOMMANDS);
  }
}

export const profilesCommand: ClientCommand = { ...scope, subcommands: SUBCOMMANDS, options: OPTIONS, run: guarded(profiles) };
