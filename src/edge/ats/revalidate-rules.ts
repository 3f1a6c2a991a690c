// The regex_revalidate rules file: "<regex> <expiry epoch s> MISS|STALE" per line. A rule invalidates the
// objects whose URL matches and that were cached before the rule was loaded: MISS refetches them,
// STALE revalidates them (If-None-Match/If-Modified-Since, body kept on 304). Every live rule is checked
// on every cache hit (about 0.1 ms per 1,000 rules), so rules expire; but when a rule expires, objects
// cached before it and never requested since become valid again, so its lifetime must cover the longest
// TTL the origins give (AtsEngineOptions.ruleTtlSec).
import { promises as fsp } from 'node:fs';

export interface Rule {
  regex: string;
  expiry: number;
  type: 'MISS' | 'STALE';
}

/** A rule's regex for everything below a directory of a host: the cache key is http://<host><path>. */
export function directoryRegex(host: string, dir: string): string {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // The rules file splits on whitespace: paths are percent-encoded, a space cannot occur.
  if (/\s/.test(host + dir)) throw new Error(`whitespace in ${host}${dir}`);
  return `^http://${esc(host.toLowerCase())}${esc(dir)}`;
}

export function parseRules(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+(MISS|STALE)\s*$/.exec(line.trim());
    if (m) rules.push({ regex: m[1], expiry: Number(m[2]), type: m[3] as Rule['type'] });
  }
  return rules;
}

/** The live rules plus the new ones (a repeated regex and type gets the new expiry: the plugin then reloads it with a new time). */
export function mergeRules(current: Rule[], added: Rule[], nowSec: number): Rule[] {
  const byKey = new Map<string, Rule>();
  for (const r of [...current, ...added]) if (r.expiry > nowSec) byKey.set(`${r.type} ${r.regex}`, r);
  return [...byKey.values()];
}

export function formatRules(rules: Rule[]): string {
  return rules.map((r) => `${r.regex} ${r.expiry} ${r.type}\n`).join('');
}

export async function readRules(file: string): Promise<Rule[]> {
  return parseRules(await fsp.readFile(file, 'utf8').catch(() => ''));
}
