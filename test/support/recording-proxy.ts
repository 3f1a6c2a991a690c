// A pass-through HTTP proxy in front of a server that notes what crossed it: every request with the
// request id the server answered, and every secret on the wire (signatures of Authorization headers,
// X-Auth-Token values, the tokens of X-Subject-Token answers, and passwords, secret keys and node
// secrets in JSON bodies either way). Headers, Host included, are forwarded as they came, so that
// signatures still verify.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Crossing {
  method: string;
  path: string;
  status: number;
  requestId: string | undefined;
}

export interface RecordingProxy {
  url: string;
  crossings: Crossing[];
  /** Every secret seen on the wire, once each. */
  secrets: Set<string>;
  close(): Promise<void>;
}

// Fields of JSON bodies, either way, whose string values are secrets: passwords of logins and user changes,
// secret keys of new keys and accounts, node secrets, token values.
const SECRET_FIELDS = new Set(['password', 'secret', 'secret_key', 'securitytoken', 'access_secret']);

/** Every string value under a secret field name, at any depth. */
function secretValues(json: unknown, into: string[]): void {
  if (Array.isArray(json)) for (const v of json) secretValues(v, into);
  else if (json !== null && typeof json === 'object') {
    for (const [k, v] of Object.entries(json)) {
      if (SECRET_FIELDS.has(k.toLowerCase()) && typeof v === 'string' && v.length >= 6) into.push(v);
      else secretValues(v, into);
    }
  }
}

function parsed(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The secret parts of a request and its answer: headers and JSON bodies. */
function secretsOf(req: http.IncomingMessage, body: Buffer, answer: http.IncomingMessage, answerBody: Buffer): string[] {
  const found: string[] = [];
  const signature = /Signature=([0-9a-f]+)/i.exec(String(req.headers.authorization ?? ''))?.[1];
  if (signature) found.push(signature);
  for (const value of [req.headers['x-auth-token'], answer.headers['x-subject-token']]) if (typeof value === 'string' && value.length > 0) found.push(value);
  secretValues(parsed(body), found);
  secretValues(parsed(answerBody), found);
  return found;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const crossings: Crossing[] = [];
  const secrets = new Set<string>();
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
        const answerChunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => answerChunks.push(c));
        answer.on('end', () => {
          for (const s of secretsOf(req, body, answer, Buffer.concat(answerChunks))) secrets.add(s);
          crossings.push({ method: req.method!, path: req.url!, status: answer.statusCode!, requestId: answer.headers['x-request-id'] as string | undefined });
        });
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      up.on('error', (err) => {
        res.writeHead(502);
        res.end(err.message);
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    crossings,
    secrets,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
