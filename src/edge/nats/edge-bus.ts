// The edge bus on NATS JetStream. Names, for a deployment prefix P:
//   stream P_CMD   subjects P.cmd.<pop>   commands; one durable consumer per PoP (its agent)
//   stream P_RES   subjects P.res.<proc>  results, per control-plane process (an ordered consumer)
//   P.ctl.<pop>                           request/reply: health and domain sets (core NATS)
// Streams are durable, so a command waits for an agent that is away, and a result waits for a
// control plane that is reconnecting.
import { DeliverPolicy, connect, nanos, type ConsumerMessages, type JetStreamClient, type NatsConnection } from 'nats';
import { decode, encode, parseControlReply, parseResults, type BusCommand, type BusResult, type ControlReply, type ControlRequest } from './bus-wire.js';

export interface BusNames {
  cmdStream: string;
  resStream: string;
  cmdSubject(pop: string): string;
  resSubject(instance: string): string;
  ctlSubject(pop: string): string;
  popConsumer(pop: string): string;
}

export function busNames(prefix: string): BusNames {
  return {
    cmdStream: `${prefix}_CMD`,
    resStream: `${prefix}_RES`,
    cmdSubject: (pop) => `${prefix}.cmd.${pop}`,
    resSubject: (instance) => `${prefix}.res.${instance}`,
    ctlSubject: (pop) => `${prefix}.ctl.${pop}`,
    popConsumer: (pop) => `pop_${pop}`,
  };
}

const DAY_MS = 86_400_000;

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  // Reconnect for ever: NATS restarts must not take the process down. No async traces: by default
  // every request (each JetStream publish too) captures two stack traces, a large share of the bus's
  // CPU per command; a failed request is handled where it is made.
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true, noAsyncTraces: true });
}

/** Creates the streams when missing; several processes may do this at once. */
export async function ensureBus(nc: NatsConnection, names: BusNames): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const streams: Array<[string, string, number]> = [
    [names.cmdStream, names.cmdSubject('>'), DAY_MS],
    [names.resStream, names.resSubject('>'), 3600_000],
  ];
  for (const [name, subject, maxAgeMs] of streams) {
    try {
      await jsm.streams.info(name);
    } catch {
      await jsm.streams.add({ name, subjects: [subject], max_age: nanos(maxAgeMs) }).catch(async (err: unknown) => {
        // Another process created it between our look and our add.
        await jsm.streams.info(name).catch(() => {
          throw err;
        });
      });
    }
  }
}

/** Deletes the streams of a prefix (tests and local clusters clean up after themselves). */
export async function removeBus(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url, maxReconnectAttempts: 0 });
  try {
    const jsm = await nc.jetstreamManager();
    const names = busNames(prefix);
    for (const s of [names.cmdStream, names.resStream]) await jsm.streams.delete(s).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

export interface EdgeBus {
  readonly names: BusNames;
  /** Publishes a command and resolves with the agent's result, or undefined when `deadline` passes first. */
  send(pop: string, command: Omit<BusCommand, 'replyTo'>): Promise<BusResult | undefined>;
  control(pop: string, request: ControlRequest, timeoutMs: number): Promise<ControlReply>;
  close(): Promise<void>;
}

/** The control plane's side of the bus: one connection per process, results routed by command id. */
export async function connectBus(options: { url: string; prefix: string; instanceId: string }): Promise<EdgeBus> {
  const names = busNames(options.prefix);
  const instance = options.instanceId.replace(/[^A-Za-z0-9_-]/g, '_');
  const nc = await connectNats(options.url, `cachectl ${options.instanceId}`);
  await ensureBus(nc, names);
  const js: JetStreamClient = nc.jetstream();
  const replyTo = names.resSubject(instance);
  const waiting = new Map<string, { resolve: (r: BusResult | undefined) => void; timer: NodeJS.Timeout }>();
  // Ordered consumer from now on: it follows the stream across reconnects without losing results.
  // One subject as a string: a list needs NATS 2.10, Debian 12 ships 2.9.
  const consumer = await js.consumers.get(names.resStream, { filterSubjects: replyTo, deliver_policy: DeliverPolicy.New });
  const messages: ConsumerMessages = await consumer.consume();
  const reading = (async () => {
    for await (const m of messages) {
      let results: BusResult[];
      try {
        results = parseResults(decode(m.data));
      } catch {
        continue;
      }
      for (const result of results) {
        const w = waiting.get(result.id);
        if (!w) continue; // answered after its deadline, or for an earlier life of this process
        waiting.delete(result.id);
        clearTimeout(w.timer);
        w.resolve(result);
      }
    }
  })();
  // Commands of one turn of the event loop go to each PoP in one message.
  const outgoing = new Map<string, Array<{ command: BusCommand; fail: (err: unknown) => void }>>();
  const flush = () => {
    const batches = [...outgoing];
    outgoing.clear();
    for (const [pop, list] of batches) {
      js.publish(names.cmdSubject(pop), encode({ commands: list.map((c) => c.command) })).catch((err: unknown) => {
        for (const c of list) c.fail(err);
      });
    }
  };
  return {
    names,
    send: (pop, command) =>
      new Promise<BusResult | undefined>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(command.id);
          resolve(undefined);
        }, Math.max(0, command.deadline - Date.now()));
        waiting.set(command.id, { resolve, timer });
        let list = outgoing.get(pop);
        if (!list) {
          if (outgoing.size === 0) setImmediate(flush);
          outgoing.set(pop, (list = []));
        }
        list.push({
          command: { ...command, replyTo },
          fail: (err) => {
            waiting.delete(command.id);
            clearTimeout(timer);
            reject(err);
          },
        });
      }),
    control: async (pop, request, timeoutMs) => {
      const answer = await nc.request(names.ctlSubject(pop), encode(request), { timeout: timeoutMs });
      return parseControlReply(decode(answer.data));
    },
    close: async () => {
      for (const [, w] of waiting) {
        clearTimeout(w.timer);
        w.resolve(undefined);
      }
      waiting.clear();
      messages.stop();
      await reading.catch(() => undefined);
      await nc.close();
    },
  };
}
