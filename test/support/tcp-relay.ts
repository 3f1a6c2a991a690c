// A TCP relay in front of a real server (the test PostgreSQL): a store outage on demand (down()
// drops every connection and refuses new ones until up()), and a look at what clients send.
import net from 'node:net';

export interface TcpRelay {
  port: number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/** `onClient` gets a parser per connection, fed the bytes the client sends. */
export async function tcpRelay(target: URL, onClient?: () => (chunk: Buffer) => void): Promise<TcpRelay> {
  let isDown = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    if (isDown) return inbound.destroy();
    const outbound = net.connect(Number(target.port), target.hostname);
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    if (onClient) inbound.on('data', onClient());
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    down: () => {
      isDown = true;
      for (const s of open) s.destroy();
    },
    up: () => (isDown = false),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Counts the statements a PostgreSQL client runs: Execute ('E', extended protocol) and Query ('Q',
 * simple protocol) messages, after the untyped startup message. No TLS: the relay sees plain bytes.
 */
export function statementCounter(): { count: () => number; onClient: () => (chunk: Buffer) => void } {
  let n = 0;
  return {
    count: () => n,
    onClient: () => {
      let buf = Buffer.alloc(0);
      let started = false;
      return (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const head = started ? 5 : 4;
          if (buf.length < head) return;
          const len = started ? buf.readInt32BE(1) + 1 : buf.readInt32BE(0);
          if (buf.length < len) return;
          if (started && (buf[0] === 0x45 || buf[0] === 0x51)) n++;
          started = true;
          buf = buf.subarray(len);
        }
      };
    },
  };
}
