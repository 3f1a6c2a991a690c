// `node dist/bench/logging-main.js`: the logging section of `npm run bench` alone (BENCH_QUICK,
// BENCH_LOG_CALLS apply).
import { loggingConfig, loggingRows, runLoggingSection } from './logging.js';
import { runSectionAlone } from './section-main.js';

await runSectionAlone({ config: loggingConfig, run: runLoggingSection, rows: loggingRows });
