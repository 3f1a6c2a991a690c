// The benchmark's stdout table: each figure beside its target, PASS or MISS.

export interface Row {
  section: string;
  metric: string;
  value: string;
  target: string;
  result: 'PASS' | 'MISS' | '';
}

export function row(section: string, metric: string, value: number | null, unit: string, target?: { op: '<=' | '>='; limit: number }, digits = 2): Row {
  const shown = value === null || Number.isNaN(value) ? 'n/a' : `${fmt(value, digits)}${unit ? ' ' + unit : ''}`;
  if (!target) return { section, metric, value: shown, target: '', result: '' };
  const ok = value !== null && !Number.isNaN(value) && (target.op === '<=' ? value <= target.limit : value >= target.limit);
  return { section, metric, value: shown, target: `${target.op === '<=' ? '≤' : '≥'} ${fmt(target.limit, Number.isInteger(target.limit) ? 0 : digits)}${unit ? ' ' + unit : ''}`, result: ok ? 'PASS' : 'MISS' };
}

export function info(section: string, metric: string, value: string): Row {
  return { section, metric, value, target: '', result: '' };
}

function fmt(v: number, digits: number): string {
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}

export function renderTable(rows: Row[]): string {
  const head = { section: 'section', metric: 'metric', value: 'value', target: 'target', result: 'result' };
  const all = [head, ...rows];
  // Measured figures line up; free-text info rows (no target) may run past the value column.
  const measured = [head, ...rows.filter((r) => r.target !== '')];
  const w = {
    section: Math.max(...all.map((r) => r.section.length)),
    metric: Math.max(...all.map((r) => r.metric.length)),
    value: Math.max(...measured.map((r) => r.value.length)),
    target: Math.max(...all.map((r) => r.target.length)),
  };
  const line = (r: typeof head) =>
    `${r.section.padEnd(w.section)}  ${r.metric.padEnd(w.metric)}  ${r.value.length > w.value ? r.value : r.value.padStart(w.value)}  ${r.target.padEnd(w.target)}  ${r.result}`.trimEnd();
  const sep = '-'.repeat(w.section + w.metric + w.value + w.target + 14);
  const out = [line(head), sep];
  let last = '';
  for (const r of rows) {
    if (last !== '' && r.section !== last) out.push('');
    out.push(line({ ...r, section: r.section === last ? '' : r.section }));
    last = r.section;
  }
  return out.join('\n');
}
