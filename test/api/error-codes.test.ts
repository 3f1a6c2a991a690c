// The error codes in three places agree: the module every error is made by (src/errors.ts), the page that
// lists them (docs/error-codes.md) and the API contract's error table (huawei-cdn-api.md §10.2, §10.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as errors from '../../src/errors.js';
import { CachectlError } from '../../src/errors.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const DOC = path.join(ROOT, 'docs/error-codes.md');
// The contract sits beside the repository, as the conformance suite does (scripts/conformance.mjs).
const SPEC = path.resolve(ROOT, process.env.CACHECTL_SPEC_FILE ?? '../shared/spec/huawei-cdn-api.md');
const noSpec = fs.existsSync(SPEC) ? false : `no API contract at ${SPEC} (set CACHECTL_SPEC_FILE)`;

interface Row {
  code: string;
  status: string;
  factory: string;
}
const key = (r: Row) => `${r.code} ${r.status} ${r.factory}`;

/** Every factory the module exports, with the code and status it answers. */
function moduleRows(): Row[] {
  return Object.entries(errors)
    .filter(([, v]) => typeof v === 'function' && typeof (v as { code?: unknown }).code === 'string')
    .map(([name, v]) => ({ code: (v as { code: string }).code, status: String((v as { status: number | string }).status), factory: name }));
}

/** The rows of the first Markdown table after `heading`, as trimmed cells (header and rule left out). */
function tableAfter(text: string, heading: string): string[][] {
  const start = text.indexOf(heading);
  assert.notEqual(start, -1, `no '${heading}'`);
  const lines = text.slice(start + heading.length).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, line.trimEnd().length - 1).split('|').map((c) => c.trim()));
  }
  return rows.slice(2);
}

const codeOf = (cell: string) => /^(CDN|APIGW)\.\d+/.exec(cell)?.[0] ?? assert.fail(`no code in '${cell}'`);

function docTables() {
  const text = fs.readFileSync(DOC, 'utf8');
  const answered = tableAfter(text, '## Codes cachectl answers').map(([code, status, factory, meaning, spec]) => ({
    code,
    status,
    factory: factory.replace(/`/g, ''),
    meaning,
    spec,
  }));
  const never = tableAfter(text, '## Codes in the contract cachectl never answers').map(([code]) => code);
  return { answered, never };
}

/** The contract's codes by section, each with the statuses it gives (§10.2's recommendation, §10.3's HTTP). */
function specCodes(): Map<string, { section: string; statuses: number[] }> {
  const text = fs.readFileSync(SPEC, 'utf8');
  const out = new Map<string, { section: string; statuses: number[] }>();
  for (const section of ['10.2', '10.3']) {
    for (const cells of tableAfter(text, `### ${section} `)) {
      const http = section === '10.2' ? cells[cells.length - 1] : cells[1];
      out.set(codeOf(cells[0]), { section, statuses: [...http.matchAll(/\b[1-5]\d\d\b/g)].map((m) => Number(m[0])) });
    }
  }
  return out;
}

test('every factory in src/errors.ts is on the page with its code and status, and every row there is a factory', () => {
  const inModule = moduleRows().map(key).sort();
  const onPage = docTables().answered.map(key).sort();
  assert.ok(inModule.length > 20, `only ${inModule.length} factories found`);
  assert.deepEqual(onPage, inModule);
});

test('each factory makes the error it says: its code, its status, the message given', () => {
  const rows = moduleRows();
  assert.ok(rows.length > 20, `only ${rows.length} factories found`);
  for (const { factory, code, status } of rows) {
    const make = (errors as unknown as Record<string, (...a: unknown[]) => CachectlError>)[factory];
    const err = status === '4xx' ? make(418, 'm') : make('m');
    assert.ok(err instanceof CachectlError, factory);
    assert.equal(err.code, code, factory);
    assert.equal(err.statusCode, status === '4xx' ? 418 : Number(status), factory);
    assert.equal(err.message, 'm', factory);
    assert.equal(err.isGateway, code.startsWith('APIGW.'), factory);
  }
});

test('the ErrorCode type holds exactly the codes the factories answer', () => {
  const source = fs.readFileSync(path.join(ROOT, 'src/errors.ts'), 'utf8');
  const union = /export type ErrorCode =([^;]*);/.exec(source)?.[1] ?? assert.fail('no ErrorCode type');
  const typed = [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort();
  assert.deepEqual(typed, [...new Set(moduleRows().map((r) => r.code))].sort());
  // @ts-expect-error a misspelt code does not compile
  assert.equal(new CachectlError('CDN.011', 400, 'm').code, 'CDN.011');
});

test('no error is coded outside src/errors.ts: no CachectlError built and no code written by hand elsewhere', () => {
  const offenders: string[] = [];
  for (const f of fs.readdirSync(path.join(ROOT, 'src'), { recursive: true }).map(String)) {
    if (!f.endsWith('.ts') || f === 'errors.ts') continue;
    const text = fs.readFileSync(path.join(ROOT, 'src', f), 'utf8');
    for (const m of text.matchAll(/new CachectlError\b|['"`](CDN|APIGW)\.\d+['"`]/g)) offenders.push(`${f}: ${m[0]}`);
  }
  assert.deepEqual(offenders, [], 'make these errors through a factory in src/errors.ts');
});

test("the page's Spec column says truly whether the contract gives that code this status", { skip: noSpec }, () => {
  const spec = specCodes();
  for (const row of docTables().answered) {
    const entry = spec.get(row.code);
    assert.ok(entry, `${row.code} is not in the contract's error table: the page has no column for cachectl's own codes`);
    const given = entry.statuses.includes(Number(row.status));
    const want = given ? `§${entry.section}` : `beyond §${entry.section}`;
    assert.equal(row.spec, want, `${row.code} ${row.status} (${row.factory}): the contract gives ${entry.statuses.join(' / ')} in §${entry.section}`);
  }
});

test('every code of the contract cachectl never answers is listed as such, and only those', { skip: noSpec }, () => {
  const answered = new Set(moduleRows().map((r) => r.code));
  const unanswered = [...specCodes().keys()].filter((c) => !answered.has(c)).sort();
  assert.ok(specCodes().size > 30, 'the contract table was not read');
  assert.deepEqual([...docTables().never].sort(), unanswered);
});
