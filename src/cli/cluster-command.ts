// `cachectl cluster`: the scale-out deployment on loopback, in one command (src/cluster/local-cluster.ts),
// until Ctrl-C; then it stops everything it started and drops its database.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, originAllow } from '../config.js';
import { startLocalCluster } from '../cluster/local-cluster.js';
import { writePrivateFile } from '../private-files.js';

export async function runCluster(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string', default: './cluster-data' },
      serves: { type: 'string', default: '3' },
      pops: { type: 'string', default: '2' },
      'edges-per-pop': { type: 'string', default: '2' },
      port: { type: 'string', default: '8080' },
      postgres: { type: 'string' },
      nats: { type: 'string' },
      // The cluster runs on loopback, for origins on this machine too; say otherwise here.
      'origin-allow': { type: 'string', default: 'loopback,public' },
    },
  });
  const int = (name: string, min: number, max: number): number => {
    const v = (values as Record<string, string>)[name];
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(`cachectl cluster: --${name} must be an integer from ${min} to ${max} (got '${v}')`);
    return Number(v);
  };
  const dir = path.resolve(values.dir!);
  const started = Date.now();
  const cluster = await startLocalCluster({
    dir,
    serves: int('serves', 1, 16),
    pops: int('pops', 1, 16),
    edgesPerPop: int('edges-per-pop', 1, 16),
    apiPort: int('port', 0, 65535),
    postgresUrl: values.postgres,
    natsUrl: values.nats,
    originAllow: originAllow(values['origin-allow']!, 'cachectl cluster --origin-allow').spec,
    log: (line) => console.log(`cluster: ${line}`),
  });
  const c = cluster.credentials;
  const credentialsFile = path.join(dir, 'credentials.json');
  writePrivateFile(
    credentialsFile,
    JSON.stringify({ api: cluster.api, account: c.account, user: c.user, password: c.password, access_key: c.accessKey, secret_key: c.secretKey }, null, 2) + '\n',
  );
  console.log(
    [
      '',
      `cachectl cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  API (round robin)  ${cluster.api}`,
      ...cluster.serves.map((s) => `  serve ${s.index + 1}            ${s.url} (pid ${s.pid()})`),
      `  PostgreSQL         ${cluster.databaseUrl}`,
      `  NATS               ${cluster.natsUrl} (subjects ${cluster.natsPrefix}.*)`,
      ...cluster.pops.map((p) => `  PoP ${p.name}           agent pid ${p.agent.pid()}; edges ${p.edges.map((e) => `${e.name} ${e.trafficUrl}`).join(', ')}`),
      // The secrets on a terminal only (not into a file this output is redirected to).
      ...(process.stdout.isTTY
        ? [`  account ${c.account}, user ${c.user}, password ${c.password}`, `  access key ${c.accessKey}`, `  secret key ${c.secretKey}`]
        : [`  account ${c.account}, user ${c.user}: password and keys in ${credentialsFile} (mode 0600)`]),
      `  client commands: cachectl <command> --data-dir ${values.dir} (reads ${path.join(values.dir!, 'credentials.json')})`,
      `  logs: ${dir}`,
      'Ctrl-C stops everything this command started.',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('cluster: stopping');
  await cluster.stop();
}
