#!/usr/bin/env node
// Local cache engines for development and tests, as plain background processes on loopback ports.
//   node scripts/engines.mjs install varnish
//   node scripts/engines.mjs start varnish --count 2 --dir /tmp/engines   # one JSON line per instance
//   node scripts/engines.mjs stop --dir /tmp/engines                       # by recorded PIDs
// The logic lives in src/edge/varnish/varnish-process.ts (shared with the tests): build first (npm run build).
import { parseArgs } from 'node:util';

let mod;
try {
  mod = await import('../dist/src/edge/varnish/varnish-process.js');
} catch (e) {
  console.error(`engines.mjs: cannot load dist/ (run npx tsc -p tsconfig.json first): ${e.message}`);
  process.exit(2);
}
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '1' }, dir: { type: 'string', default: '/tmp/cachectl-engines' } },
});
const [cmd, engine = 'varnish'] = positionals;
if (engine !== 'varnish') {
  console.error(`engines.mjs: unknown engine ${engine} (supported: varnish)`);
  process.exit(2);
}
try {
  if (cmd === 'install') mod.installVarnish();
  else if (cmd === 'start') {
    for (let i = 0; i < Number(values.count); i++) {
      console.log(JSON.stringify(await mod.startVarnish(values.dir, `varnish-${i}`)));
    }
  } else if (cmd === 'stop') await mod.stopVarnish(values.dir);
  else {
    console.error('usage: engines.mjs install varnish | start varnish [--count N] [--dir D] | stop [--dir D]');
    process.exit(2);
  }
} catch (e) {
  console.error(`engines.mjs: ${e.message}`);
  process.exit(1);
}
