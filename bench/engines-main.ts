// `node dist/bench/engines-main.js`: the engine section of `npm run bench` alone (BENCH_ENGINES,
// BENCH_ENGINE_PURGES, BENCH_ENGINE_TASKS, BENCH_QUICK apply).
import { engineRows, engineSectionConfig, runEngineSection } from './engine-rows.js';
import { runSectionAlone } from './section-main.js';

await runSectionAlone({ config: engineSectionConfig, run: runEngineSection, rows: engineRows });
