// One section of `npm run bench` run alone (the `*-main.ts` files): the machine and its load first,
// the section's lines as they come, then its table and its JSON. BENCH_QUICK=1 asks for the small version.
import os from 'node:os';
import { renderTable, type Row } from './report.js';

export async function runSectionAlone<C, R>(section: { config(quick: boolean): C; run(cfg: C, log: (line: string) => void): Promise<R>; rows(result: R): Row[] }): Promise<never> {
  const t0 = Date.now();
  const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const result = await section.run(section.config(process.env.BENCH_QUICK === '1'), log);
  console.log(`\n${renderTable(section.rows(result))}`);
  console.log(JSON.stringify(result));
  process.exit(0);
}
