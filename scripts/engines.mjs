#!/usr/bin/env node
// Local cache engine nodes for development, on loopback ports, for as long as this script runs:
//   node scripts/engines.mjs start varnish [--count 2]
//   node scripts/engines.mjs start nginx            (also starts the `cachectl agent` beside it)
// Prints, per node, the `cachectl nodes add` command that registers it, then waits: Ctrl-C (or SIGTERM)
// stops the nodes and removes this run's scratch directory (a fresh one per run, so that two users or
// two runs never share one). Installing the engines is scripts/install-engines.sh. The logic is
// src/edge/local-engines.ts: build first (npm run build).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

let local;
try {
  local = await import('../dist/src/edge/local-engines.js');
} catch (e) {
  console.error(`engines.mjs: cannot load dist/ (run npm run build first): ${e.message}`);
  process.exit(2);
}
const { values, positionals } = parseArgs({ allowPositionals: true, options: { count: { type: 'string', default: '1' } } });
const [cmd, engine] = positionals;
if (cmd !== 'start' || !local.ENGINE_NAMES.includes(engine) || !/^[1-9]\d*$/.test(values.count)) {
  console.error(`usage: engines.mjs start ${local.ENGINE_NAMES.join('|')} [--count N]   (runs until Ctrl-C, then stops them)`);
  process.exit(2);
}

const nodes = [];
let dir;
let stopping;
/** Stops what was started and removes the scratch directory; once, whatever asks first. */
function stopAll() {
  stopping ??= (async () => {
    for (const n of nodes.reverse()) {
      await n.stop().catch((e) => console.error(`engines.mjs: stopping ${n.name}: ${e.message}`));
      console.log(`stopped ${n.name}`);
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => void stopAll().then(() => process.exit(0)));
}

try {
  const missing = await local.engineMissing(engine);
  if (missing) throw new Error(missing);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `cachectl-engines-${engine}-`));
  console.log(`scratch directory ${dir} (removed when this stops)`);
  for (let i = 1; i <= Number(values.count) && !stopping; i++) {
    const n = await local.startLocalNode(engine, dir, `${engine}-${i}`);
    nodes.push(n);
    console.log(`cachectl nodes add ${n.name} --driver ${n.driver} --traffic ${n.trafficUrl} --control ${n.controlUrl} --secret-file ${n.secretFile}`);
  }
  if (!stopping) console.log('running; Ctrl-C stops them');
  // Stays alive until a signal: the engines are this run's, and go with it.
  setInterval(() => undefined, 1 << 30);
} catch (e) {
  console.error(`engines.mjs: ${e.message}`);
  await stopAll();
  process.exit(1);
}
