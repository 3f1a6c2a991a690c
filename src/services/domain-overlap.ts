// Which domain names overlap, by the edges' rule (src/edge/builtin/domain-set.ts): `*.example.com`
// covers every deeper host (a.example.com, x.y.example.com, and so *.y.example.com too) but not
// example.com itself. Accounts may not overlap one another's names, and a public suffix is no one's.
import { getPublicSuffix } from 'tldts';
import { domainCandidates } from './task-url.js';

/** The names that would cover `name` if some domain had them, `name` itself first, then wildcards nearest first. */
export function coveringNames(name: string): string[] {
  return [...new Set(domainCandidates(name))];
}

/** For a wildcard `*.example.com`, the ending (`.example.com`) of every name it covers; null for an exact name. */
export function coveredEnding(name: string): string | null {
  return name.startsWith('*.') ? name.slice(1) : null;
}

/**
 * True for `com`, `co.uk`, `*.com`, `*.co.uk` and `*.test`: a name that every registrant under the suffix
 * shares. An unknown TLD counts as a suffix (the PSL's default rule), so `*.victim.test` stays allowed.
 * Only the ICANN section is used: a platform from the private section (github.io) may front all its
 * customers' sites through one wildcard, and other accounts are kept out of it by the overlap rule.
 */
export function claimsPublicSuffix(name: string): boolean {
  const base = name.startsWith('*.') ? name.slice(2) : name;
  return getPublicSuffix(base) === base;
}
