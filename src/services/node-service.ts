// The edge node registry: nodes are configured data (name, driver, traffic and control addresses,
// labels), stored, and joined to the running fleet at once. Built-in edges of this process are shown
// beside them but are not stored and cannot be removed.
import { isUniqueViolation } from '../store/unique-violation.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { deleteNode, insertNode, listNodes, type EdgeNodeRow } from '../store/repositories/node-repository.js';
import { InvalidNodeError, type DriverName, type EdgeDriver, type EdgeNode, type NodeControl } from '../edge/edge-driver.js';
import { NODE_DRIVERS, engineOf } from '../edge/engines.js';
import { plainHttpUrl } from '../edge/node-control.js';
import { BUS_TOKEN_RE } from '../edge/nats/bus-wire.js';
import type { EdgeFleet, FleetMember } from '../engine/edge-fleet.js';
import type { DomainSync } from '../engine/domain-sync.js';
import { badParameter, nodeExists, notFound } from '../errors.js';
import { insertAuditEvents } from '../store/repositories/audit-repository.js';
import { ACTIONS } from './iam/actions.js';
import { callOf, type Call } from './iam/call.js';

export interface NewNode {
  name: string;
  driver: string;
  traffic_url: string;
  control_url: string;
  secret?: string;
  labels?: Record<string, string>;
  transport?: string;
  pop?: string;
}

export interface NodeView {
  name: string;
  driver: DriverName;
  traffic_url: string;
  control_url: string;
  labels: Record<string, string>;
  transport: 'http' | 'nats';
  pop: string | null;
  source: 'registry' | 'process';
  up: boolean;
  checked_at: number | null;
  domains_version: number | null;
  backlog: number;
  detail?: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const LABEL_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/** An engine's check of a node's fields, its InvalidNodeError answered as a 400. */
function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof InvalidNodeError) throw badParameter(err.message);
    throw err;
  }
}

/** Checks a new node; returns it normalised, or throws a 400 that says what is wrong. */
export function validateNode(input: NewNode): EdgeNode {
  if (!NAME_RE.test(input.name)) throw badParameter(`node name '${input.name}': 1-63 letters, digits, '.', '_' or '-'`);
  const engine = engineOf(input.driver);
  if (!engine || engine.capabilities.testOnly) throw badParameter(`driver '${input.driver}': one of ${NODE_DRIVERS.join(', ')}`);
  const driver = engine.name;
  const trafficUrl = checked(() => plainHttpUrl(input.traffic_url, 'traffic_url'));
  const control: NodeControl = checked(() => engine.validateNode({ controlUrl: input.control_url, ...(input.secret !== undefined && { secret: input.secret }) }));
  const { controlUrl, secret } = control;
  const labels = input.labels ?? {};
  const entries = Object.entries(labels);
  if (entries.length > 32) throw badParameter('at most 32 labels');
  for (const [k, v] of entries) {
    if (!LABEL_KEY_RE.test(k) || typeof v !== 'string' || v.length > 256) throw badParameter(`label '${k}': key of letters, digits, '.', '_', '/', '-'; value a string of at most 256 characters`);
  }
  const transport = input.transport ?? 'http';
  if (transport !== 'http' && transport !== 'nats') throw badParameter(`transport '${transport}': http or nats`);
  if (transport === 'nats' && (input.pop === undefined || !BUS_TOKEN_RE.test(input.pop))) throw badParameter(`a node with transport nats needs its pop: 1-32 letters, digits, '_' or '-'`);
  if (transport === 'http' && input.pop !== undefined) throw badParameter('pop applies to transport nats only (the PoP agent that drives the node)');
  return { name: input.name, driver, trafficUrl, controlUrl, labels, ...(secret && { secret }), ...(transport === 'nats' && { transport, pop: input.pop }) };
}

/** The node as stored. */
export function rowOfNode(node: EdgeNode, createdAt: number): EdgeNodeRow {
  return {
    name: node.name,
    driver: node.driver,
    traffic_url: node.trafficUrl,
    control_url: node.controlUrl,
    secret: node.secret ?? null,
    labels: JSON.stringify(node.labels),
    created_at: createdAt,
    transport: node.transport ?? 'http',
    pop: node.pop ?? null,
  };
}

export function nodeOfRow(row: EdgeNodeRow): EdgeNode {
  return {
    name: row.name,
    driver: row.driver as DriverName,
    trafficUrl: row.traffic_url,
    controlUrl: row.control_url,
    labels: JSON.parse(row.labels) as Record<string, string>,
    ...(row.secret !== null && { secret: row.secret }),
    ...(row.transport === 'nats' && { transport: 'nats' as const, pop: row.pop ?? '' }),
  };
}

export function viewOf(m: FleetMember): NodeView {
  return {
    name: m.node.name,
    driver: m.node.driver,
    traffic_url: m.node.trafficUrl,
    control_url: m.node.controlUrl,
    labels: m.node.labels,
    transport: m.node.transport ?? 'http',
    pop: m.node.pop ?? null,
    source: m.source,
    up: m.up,
    checked_at: m.checkedAt || null,
    domains_version: m.domainsVersion ?? null,
    backlog: m.queue.backlog,
    ...(m.detail && { detail: m.detail }),
  };
}

/** The audit trail's name for an edge node. */
const nodeResource = (name: string) => `node/${name}`;

export class NodeService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly fleet: EdgeFleet,
    private readonly domainSync: DomainSync,
    private readonly createDriver: (node: EdgeNode) => EdgeDriver,
  ) {}

  /** Registry changes one at a time: a sync must not join a node that add() is joining. */
  private serial: Promise<unknown> = Promise.resolve();

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /** Joins every stored node to the fleet (at start). */
  async load(): Promise<void> {
    for (const row of await listNodes(this.db)) {
      const node = nodeOfRow(row);
      this.fleet.add(node, this.createDriver(node), 'registry');
    }
  }

  /**
   * Several processes on one store: nodes added or removed through another process's API join or
   * leave this fleet here. Answers whether anything changed.
   */
  sync(): Promise<boolean> {
    return this.exclusive(async () => {
      const rows = await listNodes(this.db);
      const stored = new Set(rows.map((r) => r.name));
      let changed = false;
      for (const row of rows) {
        if (this.fleet.get(row.name)) continue;
        const node = nodeOfRow(row);
        const member = this.fleet.add(node, this.createDriver(node), 'registry');
        await this.domainSync.checkMember(member);
        changed = true;
      }
      for (const m of this.fleet.members) {
        if (m.source !== 'registry' || stored.has(m.node.name)) continue;
        await this.fleet.remove(m.node.name);
        changed = true;
      }
      if (changed) this.domainSync.request();
      return changed;
    });
  }

  list(): NodeView[] {
    return this.fleet.members.map(viewOf);
  }

  /** `who`: the call (recorded on the audit trail with the node's row), or an account id for the system itself. */
  add(input: NewNode, who: string | Call): Promise<NodeView> {
    const node = validateNode(input);
    return this.exclusive(() => this.join(node, callOf(who, ACTIONS.addNode)));
  }

  private async join(node: EdgeNode, call: Call): Promise<NodeView> {
    if (this.fleet.get(node.name)) throw nodeExists(`a node named '${node.name}' exists`);
    const driver = this.createDriver(node);
    try {
      await this.db.transaction().execute(async (trx) => {
        await insertNode(trx, rowOfNode(node, Date.now()));
        await insertAuditEvents(trx, call.auditRows(nodeResource(node.name)));
      });
    } catch (err) {
      await driver.close();
      if (isUniqueViolation(err)) throw nodeExists(`a node named '${node.name}' exists`);
      throw err;
    }
    const member = this.fleet.add(node, driver, 'registry');
    await this.domainSync.checkMember(member);
    // Every domain must reach the new node too (domains stay online: the push is idempotent elsewhere).
    this.domainSync.request();
    return viewOf(member);
  }

  remove(name: string, who: string | Call): Promise<NodeView> {
    return this.exclusive(() => this.leave(name, callOf(who, ACTIONS.removeNode)));
  }

  private async leave(name: string, call: Call): Promise<NodeView> {
    const member = this.fleet.get(name);
    if (!member) throw notFound(`no node named '${name}'`);
    if (member.source === 'process') throw badParameter(`'${name}' is a built-in edge of this process: start the server with --builtin-edges 0 instead`);
    await this.db.transaction().execute(async (trx) => {
      await deleteNode(trx, name);
      await insertAuditEvents(trx, call.auditRows(nodeResource(name)));
    });
    await this.fleet.remove(name);
    // Domains waiting only for this node can go online now.
    this.domainSync.request();
    return { ...viewOf(member), up: false };
  }

  /** Checks the node's health now (the background check runs every few seconds anyway). */
  async check(name: string, who: string | Call): Promise<NodeView> {
    const member = this.fleet.get(name);
    if (!member) throw notFound(`no node named '${name}'`);
    await this.domainSync.checkMember(member);
    // Nothing stored changes: the row alone (a check may push the domain set to the node).
    await insertAuditEvents(this.db, callOf(who, ACTIONS.checkNode).auditRows(nodeResource(name)));
    return viewOf(member);
  }
}
