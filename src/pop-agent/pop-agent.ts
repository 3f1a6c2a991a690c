// `cachectl agent --nats … --pop NAME`: runs in a PoP, takes the PoP's commands from its durable
// stream consumer, applies them to the local nodes through the ordinary drivers (with the engine's
// per-node queue: batching and bounded calls in flight), and publishes each result to the process
// that asked. A command past its deadline is answered, not applied.
import path from 'node:path';
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import { createDriver } from '../edge/engines.js';
import type { EdgeDriver, EdgeResult, EdgeTarget, WorkKind } from '../edge/edge-driver.js';
import { decode, encode, parseCommands, parseControl, type BusCommand, type BusNode, type ControlReply } from '../edge/nats/bus-wire.js';
import { busNames, connectNats, ensureBus } from '../edge/nats/edge-bus.js';
import { NodeQueue } from '../engine/node-queue.js';
import { AppliedRecord } from './applied-record.js';

export interface PopAgentOptions {
  natsUrl: string;
  pop: string;
  prefix?: string;
  /** Where the record of applied commands lives (a SQLite file per PoP). */
  stateDir: string;
  log?: (line: string) => void;
}

export interface PopAgent {
  /** Per node: targets applied on the node, and targets answered from the record without applying. */
  stats(): Record<string, { applied: number; replayed: number }>;
  /** The PoP consumer's backlog as JetStream counts it now (one consumer-info request). */
  consumerPending(): Promise<{ numPending: number; numAckPending: number }>;
  close(): Promise<void>;
}

interface LocalNode {
  driver: EdgeDriver;
  queue: NodeQueue;
}

const ACK_WAIT_MS = 60_000;
const MAX_COMMANDS = 256;

const failure = (message: string): EdgeResult => ({ ok: false, classify: 'INNER_ERROR', retryable: false, message });

export async function startPopAgent(options: PopAgentOptions): Promise<PopAgent> {
  const { pop } = options;
  const log = options.log ?? ((line: string) => console.error(`agent ${pop}: ${line}`));
  const names = busNames(options.prefix ?? 'cachectl');
  const nc: NatsConnection = await connectNats(options.natsUrl, `cachectl agent ${pop}`);
  await ensureBus(nc, names);
  const record = new AppliedRecord(path.join(options.stateDir, `applied-${pop}.db`), log);
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const durable = names.popConsumer(pop);
  await jsm.consumers.info(names.cmdStream, durable).catch(() =>
    jsm.consumers.add(names.cmdStream, {
      durable_name: durable,
      filter_subject: names.cmdSubject(pop),
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ACK_WAIT_MS),
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 10_000,
    }),
  );

  const nodes = new Map<string, LocalNode>();
  const stats: Record<string, { applied: number; replayed: number }> = {};
  const inProgress = new Map<string, Promise<EdgeResult>>();
  const nodeFor = (def: BusNode): LocalNode => {
    // Keyed by the whole definition: a node re-registered with other addresses gets a new driver.
    const key = JSON.stringify(def);
    let n = nodes.get(key);
    if (!n) {
      const driver = createDriver({ ...def, labels: {} });
      nodes.set(key, (n = { driver, queue: new NodeQueue(def.name, driver) }));
    }
    return n;
  };
  const countOf = (name: string) => (stats[name] ??= { applied: 0, replayed: 0 });
  // The command's deadline bounds the driver call (a prefetch's is long: a slow or large object).
  const run = (n: LocalNode, kind: WorkKind, target: EdgeTarget, deadline: number) =>
    new Promise<EdgeResult>((resolve) => n.queue.push({ kind, target, deadline, done: resolve }));

  /**
   * Applies each command's targets on its node, each target at most once per node (by ref); answers
   * one result per target, per command. The whole message costs two record transactions: one claim
   * before anything is applied, one to store the results.
   */
  const applyAll = async (commands: BusCommand[]): Promise<EdgeResult[][]> => {
    // Refs are unique within one deployment (its database); the scope keeps two apart.
    const keysOf = commands.map((cmd) => cmd.targets.map((t) => (t.ref === undefined ? undefined : `${cmd.scope}.${cmd.node.name}.${cmd.kind}.${t.ref}`)));
    // A target already being applied here (a redelivery racing the first) waits for that application.
    const toClaim = [...new Set(keysOf.flat().filter((k): k is string => k !== undefined && !inProgress.has(k)))];
    const claims = record.claim(toClaim);
    const claimOf = new Map(toClaim.map((k, i) => [k, claims[i]]));
    const fresh: Array<{ key: string; result: Promise<EdgeResult> }> = [];
    const pending = commands.map((cmd, c) => {
      const n = nodeFor(cmd.node);
      const counts = countOf(cmd.node.name);
      const applied = (r: EdgeResult) => (counts.applied++, r);
      return cmd.targets.map((t, i): Promise<EdgeResult> => {
        const key = keysOf[c][i];
        if (key === undefined) return run(n, cmd.kind, t, cmd.deadline).then(applied);
        const running = inProgress.get(key);
        if (running) return running;
        const claim = claimOf.get(key)!;
        if (claim.kind === 'done') {
          counts.replayed++;
          return Promise.resolve(claim.result);
        }
        if (claim.kind === 'interrupted') return Promise.resolve(failure(`PoP ${pop}: the agent restarted while applying this on node ${cmd.node.name}; not applied twice`));
        const result = run(n, cmd.kind, t, cmd.deadline).then(applied);
        inProgress.set(key, result);
        fresh.push({ key, result });
        return result;
      });
    });
    const out = await Promise.all(pending.map((results) => Promise.all(results)));
    // Recorded before the in-progress entries go, so a repeat always finds one or the other.
    record.finish(await Promise.all(fresh.map(async (f) => ({ key: f.key, result: await f.result }))));
    for (const f of fresh) inProgress.delete(f.key);
    return out;
  };

  const late = (cmd: BusCommand) => cmd.targets.map(() => failure(`PoP ${pop}: the deadline passed before the agent got the command for node ${cmd.node.name}; not applied`));

  const handle = async (m: JsMsg): Promise<void> => {
    let commands: BusCommand[];
    try {
      commands = parseCommands(decode(m.data));
    } catch (err) {
      log(`dropping a malformed message: ${err instanceof Error ? err.message : String(err)}`);
      m.term();
      return;
    }
    try {
      const now = Date.now();
      const applied = await applyAll(commands.filter((cmd) => now <= cmd.deadline));
      let k = 0;
      const results = commands.map((cmd) => ({ id: cmd.id, replyTo: cmd.replyTo, results: now > cmd.deadline ? late(cmd) : applied[k++] }));
      // One answer per asking process (commands of one message normally come from one).
      const byReply = new Map<string, Array<{ id: string; results: EdgeResult[] }>>();
      for (const r of results) {
        let list = byReply.get(r.replyTo);
        if (!list) byReply.set(r.replyTo, (list = []));
        list.push({ id: r.id, results: r.results });
      }
      for (const [replyTo, list] of byReply) await js.publish(replyTo, encode({ results: list }));
      m.ack();
    } catch (err) {
      // The result stream did not answer: deliver again later (the record keeps it once).
      log(`a message of ${commands.length} commands: ${err instanceof Error ? err.message : String(err)}; retrying`);
      m.nak(1000);
    }
  };

  const consumer = await js.consumers.get(names.cmdStream, durable);
  const messages = await consumer.consume({ max_messages: MAX_COMMANDS });
  let active = 0;
  let wake: (() => void) | null = null;
  const reading = (async () => {
    for await (const m of messages) {
      while (active >= MAX_COMMANDS) await new Promise<void>((r) => (wake = r));
      active++;
      void handle(m).finally(() => {
        active--;
        const w = wake;
        wake = null;
        w?.();
      });
    }
  })();

  const control = nc.subscribe(names.ctlSubject(pop), {
    queue: durable,
    callback: (err, msg) => {
      if (err) return;
      void (async () => {
        let reply: ControlReply;
        try {
          const req = parseControl(decode(msg.data));
          const { driver } = nodeFor(req.node);
          if (req.op === 'health') reply = { ok: true, health: await driver.health() };
          else {
            await driver.applyDomains(req.domains, req.version);
            reply = { ok: true };
          }
        } catch (e) {
          reply = { ok: false, error: e instanceof Error ? e.message : String(e) };
        }
        msg.respond(encode(reply));
      })();
    },
  });

  return {
    stats: () => structuredClone(stats),
    consumerPending: async () => {
      const info = await jsm.consumers.info(names.cmdStream, durable);
      return { numPending: info.num_pending, numAckPending: info.num_ack_pending };
    },
    close: async () => {
      control.unsubscribe();
      messages.stop();
      await reading.catch(() => undefined);
      // Commands being applied finish and are acknowledged before the connection goes.
      while (active > 0) await new Promise((r) => setTimeout(r, 10));
      await nc.drain();
      for (const n of nodes.values()) await n.driver.close().catch(() => undefined);
      await record.close();
    },
  };
}
