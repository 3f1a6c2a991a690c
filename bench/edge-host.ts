// `node dist/bench/edge-host.js <count> [per-pop]`: N built-in edges in one process of their own (so the
// scale-out bench can count their CPU apart from the bench's), on free loopback ports. Prints one JSON
// line {"edges":[{name,trafficUrl,controlUrl,secret,pop?}]} on stdout (a pipe to the bench) when all
// listen; stops on SIGTERM or SIGINT. With per-pop K the edges are named popP-edge-E, K to a PoP (pop1,
// pop2, ...). Their control ports take one secret, made here, as every registered edge must have one.
import { randomBytes } from 'node:crypto';
import { startBuiltinEdge, type BuiltinEdge } from '../src/edge/builtin/edge-server.js';
import { OriginAllowList } from '../src/edge/origin-allow.js';

const count = Number(process.argv[2] ?? '2');
const perPop = Number(process.argv[3] ?? '0');
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(perPop) || perPop < 0) {
  console.error('usage: edge-host <count> [per-pop]');
  process.exit(2);
}

const edges: BuiltinEdge[] = [];
const stop = async () => {
  await Promise.all(edges.map((e) => e.close().catch(() => undefined)));
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

const secret = randomBytes(32).toString('hex');
const described = [];
for (let i = 0; i < count; i++) {
  const pop = perPop > 0 ? `pop${Math.floor(i / perPop) + 1}` : undefined;
  const name = pop ? `${pop}-edge-${(i % perPop) + 1}` : `edge-${i + 1}`;
  // 16 MiB each: the bench caches a few hundred 512-byte objects; 100 edges stay small.
  const e = await startBuiltinEdge({ name, secret, maxBytes: 16 * 1024 * 1024, originAllow: OriginAllowList.parse('loopback,public') });
  edges.push(e);
  described.push({ name, trafficUrl: e.trafficUrl, controlUrl: e.controlUrl, secret, ...(pop && { pop }) });
}
console.log(JSON.stringify({ edges: described }));
