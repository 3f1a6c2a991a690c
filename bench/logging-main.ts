// `node dist/bench/logging-main.js`: the logging section of `npm run bench` alone (BENCH_QUICK,
// BENCH_LOG_CALLS apply).
import os from 'node:os';
import { loggingConfig, loggingRows, runLoggingSection } from './logging.js';
import { renderTable } from './report.js';

const t0 = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const result = await runLoggingSection(loggingConfig(process.env.BENCH_QUICK === '1'), log);
console.log(`\n${renderTable(loggingRows(result))}`);
console.log(JSON.stringify(result));
process.exit(0);
