// The client commands, in the order the usage lists them: a new command is one file and one line here.
import type { ClientCommand } from '../run-command.js';
import { GLOBAL_HELP, usageOf } from '../help-layout.js';
import { prefetch, purge } from './create-tasks.js';
import { tasksCommand } from './tasks.js';
import { taskCommand } from './task.js';
import { domainsCommand } from './domains.js';
import { nodesCommand } from './nodes.js';
import { accountsCommand } from './accounts.js';
import { keysCommand } from './keys.js';
import { usersCommand } from './users.js';
import { groupsCommand } from './groups.js';
import { policiesCommand } from './policies.js';
import { projectsCommand } from './projects.js';
import { auditCommand } from './audit.js';
import { quotaCommand } from './quota.js';
import { urlTasksCommand } from './url-tasks.js';
import { profilesCommand } from './profiles.js';
import { completionCommand } from './completion.js';

export const CLIENT_COMMANDS: readonly ClientCommand[] = [
  purge,
  prefetch,
  tasksCommand,
  taskCommand,
  urlTasksCommand,
  quotaCommand,
  domainsCommand,
  nodesCommand,
  accountsCommand,
  usersCommand,
  groupsCommand,
  policiesCommand,
  projectsCommand,
  keysCommand,
  auditCommand,
  profilesCommand,
  completionCommand(() => CLIENT_COMMANDS),
];

export const clientCommand = (name: string): ClientCommand | undefined => CLIENT_COMMANDS.find((c) => c.name === name);

export const clientUsage = `${usageOf(CLIENT_COMMANDS.flatMap((c) => c.usage))}\n\n${GLOBAL_HELP}\n`;
