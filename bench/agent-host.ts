// `node dist/bench/agent-host.js <nats-url> <prefix> <state-dir> <pop>...`: one PoP agent per named PoP,
// all in this one process (the scale-out bench's "lightweight" agents: on 2 cores, ten agent processes
// spend much of their CPU being scheduled). Each agent is what `cachectl agent` runs, with its own NATS
// connection, durable consumer and record. Prints one JSON line {"pops":[...]} when all are ready;
// stops on SIGTERM or SIGINT.
import { startPopAgent, type PopAgent } from '../src/pop-agent/pop-agent.js';

const [natsUrl, prefix, stateDir, ...pops] = process.argv.slice(2);
if (!natsUrl || !prefix || !stateDir || pops.length === 0) {
  console.error('usage: agent-host <nats-url> <prefix> <state-dir> <pop>...');
  process.exit(2);
}

const agents: PopAgent[] = [];
const stop = async () => {
  await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

for (const pop of pops) agents.push(await startPopAgent({ natsUrl, pop, prefix, stateDir }));
console.log(JSON.stringify({ pops }));
