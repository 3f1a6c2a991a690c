// The conformance suite against the scale-out cluster (src/cluster/local-cluster.ts): every API call
// goes round-robin to the next of three serve processes sharing one PostgreSQL, and the edges the
// suite checks (CONF_EDGES) are the PoPs' built-in edges, driven over NATS JetStream by their agents.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suiteEnv } from './conformance-env.mjs';

export async function runOnCluster(root, suite) {
  const { startLocalCluster } = await import(path.join(root, 'dist/src/cluster/local-cluster.js'));
  // The machine's PostgreSQL and NATS when they answer (or the ones named here); otherwise the cluster
  // starts private ones from the installed binaries.
  const postgresUrl = process.env.CACHECTL_TEST_POSTGRES_URL;
  const natsUrl = process.env.CACHECTL_TEST_NATS_URL;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachectl-conformance-cluster-'));
  let cluster;
  try {
    cluster = await startLocalCluster({ dir, postgresUrl, natsUrl, log: (l) => console.log(`conformance --cluster: ${l}`) });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    console.error(`conformance --cluster: could not start the cluster: ${err.message}`);
    return process.env.CACHECTL_REQUIRE_SERVICES === '1' ? 1 : 77;
  }
  let failed = true;
  const stop = async () => {
    await cluster.stop();
    // The processes' logs stay for a failed run.
    if (failed) console.error(`conformance --cluster: logs in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const admin = cluster.client();
    const other = await admin.call('POST', '/cachectl/v1/accounts', { body: { name: 'conformance-other', user: 'admin' } });
    await admin.close();
    const edges = cluster.pops.flatMap((p) => p.edges.map((e) => e.trafficUrl));
    const c = cluster.credentials;
    console.log(`conformance: ${suite} against ${cluster.api} (round robin over ${cluster.serves.map((s) => s.url).join(', ')}), PoP edges ${edges.join(', ')}`);
    const run = spawn(process.execPath, ['--test', suite], {
      stdio: 'inherit',
      env: { ...process.env, ...suiteEnv({ api: cluster.api, accessKey: c.accessKey, secretKey: c.secretKey, other, account: c.account, user: c.user, password: c.password, edges }) },
    });
    const code = await new Promise((resolve) => run.on('exit', (n) => resolve(n ?? 1)));
    const counts = cluster.proxy.counts();
    console.log(`conformance --cluster: API calls answered per process: ${counts.join(', ')}`);
    if (code === 0 && counts.some((n) => n === 0)) {
      console.error('conformance --cluster: a process answered no call: the calls were not spread');
      return 1;
    }
    failed = code !== 0;
    return code;
  } finally {
    await stop();
  }
}
