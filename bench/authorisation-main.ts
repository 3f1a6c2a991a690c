// `node dist/bench/authorisation-main.js`: the authorisation section of `npm run bench` alone
// (BENCH_QUICK, BENCH_AUTHZ_CALLS apply).
import { authorisationConfig, authorisationRows, runAuthorisationSection } from './authorisation.js';
import { runSectionAlone } from './section-main.js';

await runSectionAlone({ config: authorisationConfig, run: runAuthorisationSection, rows: authorisationRows });
