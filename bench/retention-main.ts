// `node dist/bench/retention-main.js`: the retention section of `npm run bench` alone
// (BENCH_QUICK, BENCH_RETENTION_TASKS apply).
import { retentionConfig, retentionRows, runRetentionSection } from './retention.js';
import { renderTable } from './report.js';

const t0 = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const result = await runRetentionSection(retentionConfig(process.env.BENCH_QUICK === '1'), log);
console.log(`\n${renderTable(retentionRows(result))}`);
console.log(JSON.stringify(result));
process.exit(0);
