// The names of accounts, users, groups and enterprise projects: what a path segment and a shell word take.
import { badParameter } from '../../errors.js';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) throw badParameter(`${kind} name '${name.slice(0, 80)}': 1-64 letters, digits, '_', '.', '-'`);
}
