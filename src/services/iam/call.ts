// One API call as the services see it: who makes it (for the audit trail), what they may do, and the
// action the route performs. Services check the domains and projects a call touches with `check`, and
// write `auditRow` in the transaction of the change.
import type { AuditRow } from '../../store/repositories/audit-repository.js';
import { policyDenied, projectNotAuthorised } from '../../errors.js';
import type { ActionInfo } from './actions.js';
import { Permissions, type Target } from './permissions.js';

export interface Actor {
  accountId: string;
  userId: string | null;
  userName: string | null;
  /** The access key id (never the secret); null for a token. */
  accessKey: string | null;
  sourceIp: string;
  userAgent: string;
  requestId: string;
}

export class Call {
  constructor(
    readonly actor: Actor,
    readonly permissions: Permissions,
    readonly action: ActionInfo,
    /** true: the system itself; no audit record is written for it. */
    readonly internal = false,
  ) {}

  /** A call by the system itself (tests, start-up work): every action allowed, recorded as no user. */
  static internal(accountId: string, action: ActionInfo): Call {
    return new Call({ accountId, userId: null, userName: null, accessKey: null, sourceIp: '', userAgent: 'cachectl', requestId: '' }, Permissions.administrator(), action, true);
  }

  get accountId(): string {
    return this.actor.accountId;
  }

  /** Refuses the call (CDN.0021 or CDN.0020, naming the action) unless the policies allow it on the target. */
  check(target: Target, action: ActionInfo = this.action): void {
    const verdict = this.permissions.decide(action, target);
    if (verdict === 'allow') return;
    const on = target.domain !== undefined ? ` on domain ${target.domain}` : '';
    if (verdict === 'project') throw projectNotAuthorised(`The user is not authorised for enterprise project ${target.project ?? ''}: ${action.name}${on} is not allowed there.`);
    throw policyDenied(`Fine-grained authorization failed: the user's policies do not allow ${action.name}${on}.`);
  }

  /** Of these enterprise projects, those where the action is allowed. */
  projectsAllowed(projects: readonly string[], action: ActionInfo = this.action): string[] {
    return this.permissions.projectsFor(action, projects);
  }

  /** The audit rows of a successful change, to write in its transaction: none for the system itself. */
  auditRows(resource: string, action: ActionInfo = this.action): AuditRow[] {
    return this.internal ? [] : [this.auditRow(resource, 200, null, action)];
  }

  auditRow(resource: string, status = 200, errorCode: string | null = null, action: ActionInfo = this.action): AuditRow {
    const a = this.actor;
    return {
      time: Date.now(),
      account_id: a.accountId,
      user_id: a.userId,
      user_name: a.userName,
      access_key: a.accessKey,
      source_ip: a.sourceIp,
      user_agent: a.userAgent,
      request_id: a.requestId,
      action: action.name,
      resource,
      status,
      error_code: errorCode,
    };
  }
}

/** A call as given, or the system itself acting for an account (tests, start-up work): every action allowed. */
export function callOf(who: string | Call, action: ActionInfo): Call {
  return typeof who === 'string' ? Call.internal(who, action) : who;
}
