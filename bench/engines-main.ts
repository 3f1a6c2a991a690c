// `node dist/bench/engines-main.js`: the engine section of `npm run bench` alone (BENCH_ENGINES,
// BENCH_ENGINE_PURGES, BENCH_ENGINE_TASKS, BENCH_QUICK apply).
import { engineRows, engineSectionConfig, runEngineSection } from './engine-rows.js';
import os from 'node:os';
import { renderTable } from './report.js';

const t0 = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const results = await runEngineSection(engineSectionConfig(process.env.BENCH_QUICK === '1'), log);
console.log(`\n${renderTable(engineRows(results))}`);
console.log(JSON.stringify(results));
process.exit(0);
