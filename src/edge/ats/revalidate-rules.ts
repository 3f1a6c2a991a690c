// The regex_revalidate rules file ("<regex> <expiry epoch s> MISS|STALE" per line) and the plugin's state
// file ("<regex> <epoch> <expiry> MISS|STALE"). Pure functions; rule-loader.ts does the I/O.
//
// How the plugin (ATS 9.2) treats them, which shapes everything here:
// - A rule invalidates a cached object when the URL matches and the object's cached Date <= the rule's
//   epoch (the second the plugin loaded the rule): MISS refetches it, STALE revalidates it (a 304 keeps
//   the body). An object stored after that second is not touched; one stored in that same second is
//   invalidated once more (harmless: one extra fetch, then its Date is newer).
// - It keeps ONE rule per regex: a line whose expiry or type differs from the loaded rule resets that
//   rule's epoch to now. So the file must hold one line per regex (two lines with different types would
//   reset the epoch on every reload, invalidating the directory again and again).
// - Rules removed from the file stay loaded until they expire; every live rule costs every cache hit
//   (about 0.1 ms per 1,000 rules). So rules expire (AtsEngineOptions.ruleTtlSec), and that lifetime must
//   cover the longest freshness ATS grants (records.config guaranteed_max_lifetime): after that, an object
//   cached before the rule and never requested since is stale anyway.

export type RuleType = 'MISS' | 'STALE';

export interface Rule {
  regex: string;
  expiry: number;
  type: RuleType;
}

/** A rule as loaded by the plugin (its state file): `epoch` is the second it took effect. */
export interface LoadedRule extends Rule {
  epoch: number;
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A rule's regex for everything below a directory of a host: the cache key is http://<host><path>. */
export function directoryRegex(host: string, dir: string): string {
  // The file splits on whitespace: paths are percent-encoded, a space cannot occur.
  if (/\s/.test(host + dir)) throw new Error(`whitespace in ${host}${dir}`);
  if (!dir.startsWith('/')) throw new Error(`directory ${JSON.stringify(dir)} must start with /`);
  return `^http://${reEscape(host.toLowerCase())}${reEscape(dir)}`;
}

export function parseRules(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+(MISS|STALE)$/.exec(line.trim());
    if (m) rules.push({ regex: m[1], expiry: Number(m[2]), type: m[3] as RuleType });
  }
  return rules;
}

export function parseState(text: string): LoadedRule[] {
  const rules: LoadedRule[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(MISS|STALE)$/.exec(line.trim());
    if (m) rules.push({ regex: m[1], epoch: Number(m[2]), expiry: Number(m[3]), type: m[4] as RuleType });
  }
  return rules;
}

export function formatRules(rules: Rule[]): string {
  return rules.map((r) => `${r.regex} ${r.expiry} ${r.type}\n`).join('');
}

/**
 * The file after adding `added` at `nowSec`: expired rules dropped; one line per regex (MISS wins over
 * STALE: refetching covers revalidating); a repeated regex gets a later expiry, which makes the plugin
 * reset its epoch (the new request counts from now). Rules of the same type below a new directory rule
 * are shortened to expire in a few seconds: the new rule covers them from now on, and each one costs
 * every hit. Returns the file's rules and, of those, the ones the plugin must show as loaded (the added
 * ones; a shortened line the plugin finds already expired is ignored by it, which only costs time).
 */
export function mergeRules(current: Rule[], added: Rule[], nowSec: number): { rules: Rule[]; confirm: Rule[] } {
  const byRegex = new Map<string, Rule>();
  for (const r of current) if (r.expiry > nowSec) byRegex.set(r.regex, { ...r });
  const changed = new Map<string, Rule>();
  for (const a of added) {
    const old = byRegex.get(a.regex);
    const fresh = changed.get(a.regex);
    let rule: Rule;
    if (fresh) {
      // Twice in one load: one line, the stronger type, the later expiry.
      rule = { regex: a.regex, expiry: Math.max(fresh.expiry, a.expiry), type: fresh.type === 'MISS' || a.type === 'MISS' ? 'MISS' : 'STALE' };
    } else if (old) {
      rule = { regex: a.regex, expiry: Math.max(a.expiry, old.expiry + 1), type: old.type === 'MISS' || a.type === 'MISS' ? 'MISS' : 'STALE' };
    } else {
      rule = { ...a };
    }
    byRegex.set(a.regex, rule);
    changed.set(a.regex, rule);
  }
  const soon = nowSec + 5;
  for (const a of changed.values()) {
    for (const r of byRegex.values()) {
      if (r.regex !== a.regex && r.regex.startsWith(a.regex) && r.type === a.type && r.expiry > soon && !changed.has(r.regex)) r.expiry = soon;
    }
  }
  return { rules: [...byRegex.values()], confirm: [...changed.values()] };
}

/** True when the plugin's state shows every one of `rules` loaded as written. */
export function allLoaded(state: LoadedRule[], rules: Rule[]): boolean {
  const loaded = new Map(state.map((r) => [r.regex, r]));
  return rules.every((r) => {
    const l = loaded.get(r.regex);
    return l !== undefined && l.expiry === r.expiry && l.type === r.type;
  });
}
