// What a user may do: the statements of every policy attached to its groups, compiled once per user.
// Deny wins over Allow; nothing allowed is refused. A call is judged on what it names: the action, and,
// where known, the domain it acts on and that domain's enterprise project. What a call does not name yet
// (the coarse check before the body is read, a listing over every project) is judged optimistically for
// Allow and not at all for Deny; the fine check on the real domain and project follows.
import type { ActionInfo } from './actions.js';
import { globRegExp } from './glob-pattern.js';
import type { Condition, PolicyDocument, Statement } from './policy-document.js';

/** A policy as attached to one of the user's groups: for every project ('*') or for one. */
export interface Grant {
  document: PolicyDocument;
  project: string;
}

export interface Target {
  /** The accelerated domain's name, for domain actions. */
  domain?: string;
  /** The enterprise project of what the call acts on. */
  project?: string;
}

/** allow, or why not: no statement allows it (CDN.0021), or not in this enterprise project (CDN.0020). */
export type Verdict = 'allow' | 'action' | 'project';

interface Compiled {
  allow: boolean;
  actions: RegExp[];
  /** Domain-name patterns; undefined: any resource. */
  domains?: RegExp[];
  conditions: Condition[];
  project: string;
}

/** true, false, or unknown (the call does not name that part yet). */
type Match = boolean | undefined;

function holds(c: Condition, value: string): boolean {
  const v = value;
  switch (c.operator) {
    case 'StringEquals':
      return c.values.includes(v);
    case 'StringNotEquals':
      return !c.values.includes(v);
    case 'StringEqualsIgnoreCase':
      return c.values.some((x) => x.toLowerCase() === v.toLowerCase());
    case 'StringNotEqualsIgnoreCase':
      return !c.values.some((x) => x.toLowerCase() === v.toLowerCase());
    case 'StringMatch':
    case 'StringLike':
      return c.values.some((x) => globRegExp(x, false).test(v));
    case 'StringNotMatch':
    case 'StringNotLike':
      return !c.values.some((x) => globRegExp(x, false).test(v));
    case 'StringStartWith':
      return c.values.some((x) => v.startsWith(x));
    case 'StringEndWith':
      return c.values.some((x) => v.endsWith(x));
  }
}

const and = (a: Match, b: Match): Match => (a === false || b === false ? false : a === undefined || b === undefined ? undefined : true);

function compile(s: Statement, project: string): Compiled {
  return {
    allow: s.effect === 'Allow',
    actions: s.actions.map((a) => globRegExp(a === '*' ? '*:*:*' : a)),
    domains: s.resources?.some((r) => r === '*') ? undefined : s.resources?.map((r) => globRegExp(r.slice(r.toLowerCase().indexOf(':domain:') + ':domain:'.length))),
    conditions: s.conditions,
    project,
  };
}

function matches(c: Compiled, action: ActionInfo, target: Target): Match {
  let m: Match = true;
  if (action.domain && c.domains) m = target.domain === undefined ? undefined : c.domains.some((d) => d.test(target.domain!));
  if (c.project !== '*') m = and(m, target.project === undefined ? undefined : c.project === target.project);
  for (const cond of c.conditions) m = and(m, target.project === undefined ? undefined : holds(cond, target.project));
  return m;
}

// Verdicts remembered per user: a purge pipeline names the same few domains again and again, and a
// verdict over 100 policies costs tens of microseconds. Past this many the memo starts afresh; small,
// as the auth service may hold thousands of users' Permissions.
const MAX_VERDICTS = 64;
// Stands for a part the call does not name yet; no domain name or project id contains it.
const UNNAMED = '\u0001';

export class Permissions {
  private readonly statements: Compiled[];
  private readonly byAction = new Map<string, Compiled[]>();
  /** Permissions never change once compiled (a changed identity compiles anew), so verdicts can be kept. */
  private readonly verdicts = new Map<string, Verdict>();

  private constructor(
    grants: Grant[],
    /** Members of the account's admin group: every action, no policy consulted. */
    readonly administrator: boolean,
  ) {
    this.statements = grants.flatMap((g) => g.document.statements.map((s) => compile(s, g.project)));
  }

  static of(grants: Grant[]): Permissions {
    return new Permissions(grants, false);
  }

  static administrator(): Permissions {
    return new Permissions([], true);
  }

  private statementsFor(action: ActionInfo): Compiled[] {
    let list = this.byAction.get(action.name);
    if (!list) {
      list = this.statements.filter((s) => s.actions.some((a) => a.test(action.name)));
      this.byAction.set(action.name, list);
    }
    return list;
  }

  decide(action: ActionInfo, target: Target = {}): Verdict {
    if (this.administrator) return 'allow';
    const key = `${action.name}\u0000${target.domain ?? UNNAMED}\u0000${target.project ?? UNNAMED}`;
    let verdict = this.verdicts.get(key);
    if (verdict === undefined) {
      verdict = this.evaluate(action, target);
      if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear();
      this.verdicts.set(key, verdict);
    }
    return verdict;
  }

  private evaluate(action: ActionInfo, target: Target): Verdict {
    let allowed = false;
    for (const s of this.statementsFor(action)) {
      const m = matches(s, action, target);
      if (s.allow) {
        if (m !== false) allowed = true;
      } else if (m === true) {
        return target.project !== undefined && matches(s, action, { ...target, project: undefined }) === undefined ? 'project' : 'action';
      }
    }
    if (allowed) return 'allow';
    if (target.project !== undefined && this.decide(action, { domain: target.domain }) === 'allow') return 'project';
    return 'action';
  }

  /**
   * Whether the verdict on this action can depend on the domain: some statement for it names domains.
   * When not, a listing is scoped by project alone (in SQL); when so, domain by domain.
   */
  dependsOnDomain(action: ActionInfo): boolean {
    return !this.administrator && action.domain && this.statementsFor(action).some((s) => s.domains !== undefined);
  }

  /** Of the given projects, those where the action is allowed (on some resource). */
  projectsFor(action: ActionInfo, projects: readonly string[]): string[] {
    return projects.filter((p) => this.decide(action, { project: p }) === 'allow');
  }
}
