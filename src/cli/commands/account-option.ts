// --account NAME: the platform admin acts on another account's users, groups, policies, projects and keys.
import { str, type OptionSpec, type Values } from '../args.js';
import type { QueryValue } from '../../client/api-client.js';

export const ACCOUNT_OPTION: Record<string, OptionSpec> = { account: { type: 'string' } };
/** The usage line that says so, for a command's usage. */
export const accountUsage = (command: string) => ({ synopsis: `cachectl ${command} … --account A`, help: '(admin) the same in account A' });

export const accountQuery = (values: Values): Array<[string, QueryValue]> => [['account', str(values.account)]];

/** A path segment: a name as typed (a policy name may hold spaces). */
export const seg = (name: string): string => encodeURIComponent(name);
