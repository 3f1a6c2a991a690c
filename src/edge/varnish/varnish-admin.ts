// Minimal client of the Varnish CLI protocol (varnish-cli(7)) over TCP: one connection, one command at
// a time. Each answer is "<status> <length>\n<body>\n"; a 107 on connect asks for the -S secret auth.
import { createConnection, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

export class VarnishCliError extends Error {
  constructor(readonly status: number, message: string) {
    super(`varnish CLI ${status}: ${message}`);
  }
}

interface Answer { status: number; body: string }

export class VarnishAdmin {
  private socket?: Socket;
  private buf = Buffer.alloc(0);
  private waiter?: { resolve: (a: Answer) => void; reject: (e: Error) => void };
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly address: string, private readonly secret: string, private readonly timeoutMs = 5000) {}

  /** Sends one command line (arguments quoted) and returns the body of a 200 answer. */
  command(...args: string[]): Promise<string> {
    const line = args.map((a, i) => (i === 0 ? a : quote(a))).join(' ');
    return this.send(line);
  }

  /** vcl.inline with a here-document, so the VCL needs no quoting. */
  vclInline(name: string, vcl: string): Promise<string> {
    const marker = `EOF_${randomBytes(8).toString('hex')}`;
    return this.send(`vcl.inline ${quote(name)} << ${marker}\n${vcl}\n${marker}`);
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private send(line: string): Promise<string> {
    // Serialise commands: the protocol has no request ids.
    const run = this.chain.then(async () => {
      await this.connect();
      const a = await this.exchange(line);
      if (a.status !== 200) throw new VarnishCliError(a.status, a.body.trim());
      return a.body;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async connect(): Promise<void> {
    if (this.socket && !this.socket.destroyed) return;
    const [host, port] = splitAddress(this.address);
    const socket = createConnection({ host, port });
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    socket.setTimeout(this.timeoutMs, () => socket.destroy(new Error(`varnish CLI ${this.address}: timeout`)));
    socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.drain(); });
    const fail = (e: Error) => { this.socket = undefined; const w = this.waiter; this.waiter = undefined; w?.reject(e); };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(`varnish CLI ${this.address}: connection closed`)));
    let hello = await this.next();
    if (hello.status === 107) {
      // Challenge-response: SHA256(challenge "\n" secret challenge "\n"), secret = the -S file's bytes.
      const challenge = hello.body.slice(0, 32);
      const hash = createHash('sha256').update(`${challenge}\n${this.secret}${challenge}\n`).digest('hex');
      hello = await this.exchange(`auth ${hash}`);
    }
    if (hello.status !== 200) {
      socket.destroy();
      // varnishd says nothing on a wrong secret; say what to check.
      throw new VarnishCliError(hello.status, hello.body.trim() || 'authentication failed: the secret must be the exact contents of the varnishd -S file');
    }
  }

  private exchange(line: string): Promise<Answer> {
    const p = this.next();
    this.socket!.write(`${line}\n`);
    return p;
  }

  private next(): Promise<Answer> {
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; this.drain(); });
  }

  private drain(): void {
    const nl = this.buf.indexOf(10);
    if (!this.waiter || nl < 0) return;
    const m = /^(\d{3}) +(\d+)/.exec(this.buf.subarray(0, nl).toString());
    if (!m) { this.socket?.destroy(new Error('varnish CLI: malformed answer')); return; }
    const len = Number(m[2]);
    if (this.buf.length < nl + 1 + len + 1) return;
    const body = this.buf.subarray(nl + 1, nl + 1 + len).toString();
    this.buf = this.buf.subarray(nl + 1 + len + 1);
    const w = this.waiter;
    this.waiter = undefined;
    w.resolve({ status: Number(m[1]), body });
  }
}

/** CLI arguments are double-quoted with backslash escapes (varnish-cli(7)). */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}
