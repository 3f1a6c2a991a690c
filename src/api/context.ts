// What the route plugins are given: the services, and the settings that shape answers.
import type { AccountService } from '../services/account-service.js';
import type { AuthService, Caller } from '../services/auth-service.js';
import type { DomainService } from '../services/domain-service.js';
import type { DomainSettingsService } from '../services/domain-settings-service.js';
import type { QuotaService } from '../services/quota-service.js';
import type { TaskService } from '../services/task-service.js';
import type { EdgeFleet } from '../engine/edge-fleet.js';
import type { NodeService } from '../services/node-service.js';
import type { AuditService } from '../services/audit-service.js';
import type { RateGate, RateClass } from './rate-limit.js';
import type { Credential } from './auth/authenticate.js';
import type { ActionInfo } from '../services/iam/actions.js';
import type { Call } from '../services/iam/call.js';
import type { IamServices } from '../services/iam/iam-services.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReadinessService } from '../services/readiness-service.js';

export interface ApiContext {
  tasks: TaskService;
  domains: DomainService;
  domainSettings: DomainSettingsService;
  quotas: QuotaService;
  auth: AuthService;
  accounts: AccountService;
  rates: RateGate;
  fleet: EdgeFleet;
  nodes: NodeService;
  /** Users, groups, policies, enterprise projects and access keys of an account. */
  iam: IamServices;
  audit: AuditService;
  /** Set when metrics are served (--metrics-listen): requests and refusals are counted there. */
  metrics?: Metrics;
  /** /readyz's checks. */
  readiness: ReadinessService;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
    /** The credential the headers name, checked before the body is read (see auth/authenticate.ts). */
    credential: Credential;
    /** The call as the services see it: actor, permissions and the route's action (credentialed routes with an action). */
    call: Call;
    /** The error code answered, when the call failed (for its audit row). */
    errorCode: string | null;
  }
  interface FastifyContextConfig {
    /** false: the route needs no credentials (IAM password login, health). */
    auth?: boolean;
    /** The per-account rate bucket the route draws from. */
    rateClass?: RateClass;
    /** true: only callers of the platform's admin account. */
    admin?: boolean;
    /**
     * The IAM action the route performs, checked against the caller's policies before anything is read
     * (CDN.0021); null: any authenticated caller (the IAM discovery routes). Every credentialed route
     * must say which (the server refuses to start otherwise).
     */
    action?: ActionInfo | null;
  }
}
