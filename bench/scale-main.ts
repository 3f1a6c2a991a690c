// `node dist/bench/scale-main.js`: the scale-out section of `npm run bench` alone (BENCH_QUICK,
// BENCH_SCALE, BENCH_PG_URL, BENCH_NATS_URL apply; see scale-out.ts).
import os from 'node:os';
import { renderTable } from './report.js';
import { runScaleOutSection, scaleOutConfig, scaleOutRows } from './scale-out.js';

const t0 = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.once('SIGINT', () => process.exit(130)); // the exit handler kills the children
const result = await runScaleOutSection(scaleOutConfig(process.env.BENCH_QUICK === '1'), log);
console.log(`\n${renderTable(scaleOutRows(result))}`);
console.log(JSON.stringify(result));
process.exit(0);
