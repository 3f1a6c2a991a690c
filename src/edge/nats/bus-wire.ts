// What travels on the edge bus (JSON): commands from the control plane to a PoP's agent, results back,
// and the control requests (health, domain set) an agent answers. Everything received is checked: a
// malformed message is dropped with a log line, never trusted.
import type { DomainConfig, DriverName, EdgeHealth, EdgeResult, EdgeTarget, WorkKind } from '../edge-driver.js';
import { DRIVER_NAMES } from '../engines.js';

/** The node as its PoP's agent needs it: the agent keeps no configuration of its own. */
export interface BusNode {
  name: string;
  driver: DriverName;
  trafficUrl: string;
  controlUrl: string;
  secret?: string;
}

export interface BusCommand {
  /** Routes the result back to the waiting call; at-most-once is per target ref, not per command. */
  id: string;
  /** The control plane's deployment (its database): target refs are unique within one. */
  scope: string;
  node: BusNode;
  kind: WorkKind;
  targets: EdgeTarget[];
  /** Epoch ms: after this the agent does not apply the command. */
  deadline: number;
  replyTo: string;
}

export interface BusResult {
  id: string;
  results: EdgeResult[];
}

export type ControlRequest = { op: 'health'; node: BusNode } | { op: 'domains'; node: BusNode; domains: DomainConfig[]; version: number };
export type ControlReply = { ok: true; health?: EdgeHealth } | { ok: false; error: string };

/** A PoP name or a NATS prefix: it becomes a token of subjects and stream names. */
export const BUS_TOKEN_RE = /^[A-Za-z0-9_-]{1,32}$/;

const KINDS: readonly string[] = ['purge', 'purge_dir', 'revalidate', 'revalidate_dir', 'prefetch'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

function parseNode(v: unknown): BusNode {
  if (!isObject(v) || !isString(v.name) || !DRIVER_NAMES.includes(v.driver as string) || !isString(v.trafficUrl) || !isString(v.controlUrl)) throw new Error('bad node');
  if (v.secret !== undefined && !isString(v.secret)) throw new Error('bad node secret');
  return { name: v.name, driver: v.driver as DriverName, trafficUrl: v.trafficUrl, controlUrl: v.controlUrl, ...(v.secret !== undefined && { secret: v.secret }) };
}

function parseCommand(v: unknown): BusCommand {
  if (!isObject(v) || !isString(v.id) || !isString(v.scope) || !/^[A-Za-z0-9_-]{1,64}$/.test(v.scope) || !isString(v.kind) || !KINDS.includes(v.kind) || typeof v.deadline !== 'number' || !isString(v.replyTo) || !Array.isArray(v.targets)) throw new Error('bad command');
  const targets = v.targets.map((t): EdgeTarget => {
    if (!isObject(t) || !isString(t.host) || !isString(t.path) || (t.ref !== undefined && !Number.isSafeInteger(t.ref))) throw new Error('bad target');
    return { host: t.host, path: t.path, ...(t.ref !== undefined && { ref: t.ref as number }) };
  });
  return { id: v.id, scope: v.scope, node: parseNode(v.node), kind: v.kind as WorkKind, targets, deadline: v.deadline, replyTo: v.replyTo };
}

/**
 * One message carries every command of one turn of the sender's event loop for one PoP (a URL goes to
 * all of a PoP's nodes at once), and one message carries their results back.
 */
export function parseCommands(v: unknown): BusCommand[] {
  if (!isObject(v) || !Array.isArray(v.commands)) throw new Error('bad command message');
  return v.commands.map(parseCommand);
}

export function parseResults(v: unknown): BusResult[] {
  if (!isObject(v) || !Array.isArray(v.results)) throw new Error('bad result message');
  return v.results.map(parseResult);
}

function parseResult(v: unknown): BusResult {
  if (!isObject(v) || !isString(v.id) || !Array.isArray(v.results)) throw new Error('bad result');
  const results = v.results.map((r): EdgeResult => {
    if (!isObject(r) || typeof r.ok !== 'boolean') throw new Error('bad result entry');
    if (r.ok) return { ok: true, ...(isString(r.detail) && { detail: r.detail }) };
    const classify = r.classify === 'ORIGIN_ERROR' ? 'ORIGIN_ERROR' : 'INNER_ERROR';
    return { ok: false, classify, retryable: r.retryable === true, message: isString(r.message) ? r.message : 'no message' };
  });
  return { id: v.id, results };
}

export function parseControl(v: unknown): ControlRequest {
  if (!isObject(v)) throw new Error('bad control request');
  const node = parseNode(v.node);
  if (v.op === 'health') return { op: 'health', node };
  if (v.op === 'domains' && Array.isArray(v.domains) && typeof v.version === 'number') return { op: 'domains', node, domains: v.domains as DomainConfig[], version: v.version };
  throw new Error('bad control request');
}

/** An agent's answer to a control request; health as the agent's driver reported it. */
export function parseControlReply(v: unknown): ControlReply {
  if (!isObject(v) || typeof v.ok !== 'boolean') throw new Error('bad control reply');
  if (!v.ok) return { ok: false, error: isString(v.error) ? v.error : 'no message' };
  if (v.health === undefined) return { ok: true };
  if (!isObject(v.health) || typeof v.health.up !== 'boolean') throw new Error('bad health in control reply');
  return { ok: true, health: v.health as unknown as EdgeHealth };
}

export const encode = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));
export const decode = (data: Uint8Array): unknown => JSON.parse(Buffer.from(data).toString('utf8'));
