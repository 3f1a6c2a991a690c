// Plain-text tables for the client commands: a header row, columns separated by two spaces, padded to
// the widest cell (wide CJK characters count as two columns), numbers right-aligned.

export interface Column {
  header: string;
  /** 'right' for numbers. Default 'left'. */
  align?: 'left' | 'right';
}

export type Cell = string | number | boolean | null | undefined;

/** Epoch ms → `2026-11-28 15:04:05Z` (UTC); '-' for a missing or invalid time. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '-';
  return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

// East Asian wide and full-width ranges (the common ones), and zero-width combining marks.
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;
const ZERO = /[\u0300-\u036F\u200B-\u200F\uFE00-\uFE0F]/u;

/** Terminal columns a string takes. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    if (ZERO.test(ch)) continue;
    width += WIDE.test(ch) ? 2 : 1;
  }
  return width;
}

/** A cell as one printable line: control characters (a newline in an error text) become spaces or '?'. */
export function cellText(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  const text = typeof value === 'string' ? value : String(value);
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\t\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** The table as lines joined with '\n' (no trailing newline). No trailing spaces on any line. */
export function renderTable(columns: Column[], rows: Cell[][]): string {
  const cells = rows.map((r) => columns.map((_, i) => cellText(r[i])));
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i]))));
  const line = (values: string[]) =>
    values
      .map((v, i) => pad(v, widths[i], columns[i].align ?? 'left'))
      .join('  ')
      .replace(/\s+$/, '');
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** `key: value` lines with the keys aligned, for one object. */
export function renderFields(fields: Array<[string, Cell]>): string {
  const width = Math.max(0, ...fields.map(([k]) => displayWidth(k) + 1));
  return fields.map(([k, v]) => `${pad(`${k}:`, width, 'left')} ${cellText(v)}`.replace(/\s+$/, '')).join('\n');
}
