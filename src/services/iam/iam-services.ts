// The management services of identity, built once over one store and one identity writer.
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import { SecretSealer } from '../secret-sealer.js';
import { IdentityWriter } from './identity-writer.js';
import { TenantScope } from './tenant-scope.js';
import { UserService } from './user-service.js';
import { GroupService } from './group-service.js';
import { PolicyService } from './policy-service.js';
import { ProjectService } from './project-service.js';
import { KeyService } from './key-service.js';

export interface IamServices {
  writer: IdentityWriter;
  tenants: TenantScope;
  users: UserService;
  groups: GroupService;
  policies: PolicyService;
  projects: ProjectService;
  keys: KeyService;
}

/** `invalidate`: drops this process's cached identity answers after a change (AuthService.invalidate). */
export function iamServices(db: Kysely<Database>, invalidate: () => void, sealer = SecretSealer.none()): IamServices {
  const writer = new IdentityWriter(db, invalidate);
  const policies = new PolicyService(writer);
  return {
    writer,
    tenants: new TenantScope(db),
    users: new UserService(writer),
    groups: new GroupService(writer, policies),
    policies,
    projects: new ProjectService(writer),
    keys: new KeyService(writer, sealer),
  };
}
