// HTTP/1.1 over a plain socket, for requests no HTTP client would send: stalled, trickled, malformed.
import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: any;
}

/** A connection to 127.0.0.1; from `localAddress` when given (any 127.x.y.z is a distinct loopback client). */
export function connect(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * The first response on the socket, once its Content-Length bytes are in; null when the socket closes
 * (or `waitMs` passes) before a whole response arrived.
 */
export function readAnswer(socket: net.Socket, waitMs = 15_000): Promise<RawAnswer | null> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const done = (answer: RawAnswer | null) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(answer);
    };
    const timer = setTimeout(() => done(null), waitMs);
    const onClose = () => done(parse(buffer));
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const answer = parse(buffer);
      if (answer) done(answer);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.on('error', () => {});
  });
}

function parse(buffer: Buffer): RawAnswer | null {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buffer.length < end + 4 + length) return null;
  const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body, json };
}

/** Resolves once the socket is closed (by either side). */
export function closed(socket: net.Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((r) => socket.once('close', () => r()));
}

/** Sends `text` on a new connection and reads the answer. */
export async function exchange(port: number, text: string | Buffer): Promise<RawAnswer | null> {
  const socket = await connect(port);
  const answer = readAnswer(socket);
  socket.write(text);
  const result = await answer;
  socket.destroy();
  return result;
}
