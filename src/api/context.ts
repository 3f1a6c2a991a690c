// What the route plugins are given: the services, and the settings that shape answers.
import type { AccountService } from '../services/account-service.js';
import type { AuthService, Caller } from '../services/auth-service.js';
import type { DomainService } from '../services/domain-service.js';
import type { DomainSettingsService } from '../services/domain-settings-service.js';
import type { QuotaService } from '../services/quota-service.js';
import type { TaskService } from '../services/task-service.js';
import type { EdgeFleet } from '../engine/edge-fleet.js';
import type { NodeService } from '../services/node-service.js';
import type { RateGate, RateClass } from './rate-limit.js';
import type { Credential } from './auth/authenticate.js';

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
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
    /** The credential the headers name, checked before the body is read (see auth/authenticate.ts). */
    credential: Credential;
  }
  interface FastifyContextConfig {
    /** false: the route needs no credentials (IAM password login, health). */
    auth?: boolean;
    /** The per-account rate bucket the route draws from. */
    rateClass?: RateClass;
    /** true: only callers of the admin account. */
    admin?: boolean;
  }
}
