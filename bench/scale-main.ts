// `node dist/bench/scale-main.js`: the scale-out section of `npm run bench` alone (BENCH_QUICK,
// BENCH_SCALE, BENCH_PG_URL, BENCH_NATS_URL apply; see scale-out.ts).
import { runScaleOutSection, scaleOutConfig, scaleOutRows } from './scale-out.js';
import { runSectionAlone } from './section-main.js';

process.once('SIGINT', () => process.exit(130)); // the exit handler kills the children
await runSectionAlone({ config: scaleOutConfig, run: runScaleOutSection, rows: scaleOutRows });
