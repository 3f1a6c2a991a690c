// `node dist/bench/retention-main.js`: the retention section of `npm run bench` alone
// (BENCH_QUICK, BENCH_RETENTION_TASKS apply).
import { retentionConfig, retentionRows, runRetentionSection } from './retention.js';
import { runSectionAlone } from './section-main.js';

await runSectionAlone({ config: retentionConfig, run: runRetentionSection, rows: retentionRows });
