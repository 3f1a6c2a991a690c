// The engine an edge agent drives, built from its JSON options (the `instance.json`/engine.json that
// scripts/engines.mjs writes, or an operator's own). Loaded on demand, one engine per agent.
import type { EdgeDriver } from '../edge-driver.js';

export async function createLocalEngine(engine: 'nginx' | 'ats', options: unknown): Promise<EdgeDriver> {
  if (typeof options !== 'object' || options === null) throw new Error(`${engine} options must be a JSON object`);
  switch (engine) {
    case 'nginx': {
      const { NginxEngine } = await import('../nginx/nginx-engine.js');
      return new NginxEngine(options as ConstructorParameters<typeof NginxEngine>[0]);
    }
    case 'ats': {
      const { AtsEngine } = await import('../ats/ats-engine.js');
      return new AtsEngine(options as ConstructorParameters<typeof AtsEngine>[0]);
    }
  }
}
