#!/usr/bin/env node
// Local cache engine nodes for development, as plain background processes on loopback ports:
//   node scripts/engines.mjs start varnish [--count 2] [--dir /tmp/cachectl-engines]
//   node scripts/engines.mjs start nginx            (also starts the `cachectl agent` beside it)
//   node scripts/engines.mjs stop [--dir D]        (by the recorded PIDs)
// Prints, per node, the `cachectl nodes add` command that registers it. Installing the engines is
// scripts/install-engines.sh. The logic is src/edge/local-engines.ts: build first (npm run build).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

let local;
try {
  local = await import('../dist/src/edge/local-engines.js');
} catch (e) {
  console.error(`engines.mjs: cannot load dist/ (run npm run build first): ${e.message}`);
  process.exit(2);
}
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '1' }, dir: { type: 'string', default: '/tmp/cachectl-engines' } },
});
const [cmd, engine] = positionals;
const dir = path.resolve(values.dir);
const registry = path.join(dir, 'nodes.json');
const recorded = () => (fs.existsSync(registry) ? JSON.parse(fs.readFileSync(registry, 'utf8')) : []);

async function stopAll() {
  for (const n of recorded()) {
    for (const pid of [...n.pids].reverse()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      for (let i = 0; i < 200; i++) {
        try {
          process.kill(pid, 0);
          await new Promise((r) => setTimeout(r, 25));
        } catch {
          break;
        }
      }
    }
    console.log(`stopped ${n.name} (pids ${n.pids.join(', ')})`);
  }
  fs.rmSync(registry, { force: true });
}

try {
  if (cmd === 'start' && local.ENGINE_NAMES.includes(engine)) {
    const missing = await local.engineMissing(engine);
    if (missing) throw new Error(missing);
    fs.mkdirSync(dir, { recursive: true });
    const nodes = recorded();
    const taken = new Set(nodes.map((n) => n.name));
    for (let i = 1, started = 0; started < Number(values.count); i++) {
      const name = `${engine}-${i}`;
      if (taken.has(name)) continue;
      const n = await local.startLocalNode(engine, dir, name);
      nodes.push({ name, driver: n.driver, trafficUrl: n.trafficUrl, controlUrl: n.controlUrl, pids: n.pids });
      fs.writeFileSync(registry, JSON.stringify(nodes, null, 2));
      console.log(`cachectl nodes add ${name} --driver ${n.driver} --traffic ${n.trafficUrl} --control ${n.controlUrl} --secret-file ${n.secretFile}`);
      started++;
    }
  } else if (cmd === 'stop') {
    await stopAll();
  } else {
    console.error(`usage: engines.mjs start ${local.ENGINE_NAMES.join('|')} [--count N] [--dir D] | stop [--dir D]`);
    process.exit(2);
  }
} catch (e) {
  console.error(`engines.mjs: ${e.message}`);
  process.exit(1);
}
