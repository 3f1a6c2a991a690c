// The cache engines cachectl drives, one line each; everything that lists engines or asks what one can
// do reads this list (README: "Adding an engine").
import type { EdgeDriver, EdgeNode, EngineModule } from './edge-driver.js';
import { builtin } from './builtin/index.js';
import { varnish } from './varnish/index.js';
import { nginx } from './nginx/index.js';
import { ats } from './ats/index.js';
import { recording } from './recording/index.js';

export const ENGINES: readonly EngineModule[] = [builtin, varnish, nginx, ats, recording];

export const DRIVER_NAMES: readonly string[] = ENGINES.map((e) => e.name);

/** The engines an operator may register nodes of (the API refuses test-only ones). */
export const NODE_DRIVERS: readonly string[] = ENGINES.filter((e) => !e.capabilities.testOnly).map((e) => e.name);

export function engineOf(name: string): EngineModule | undefined {
  return ENGINES.find((e) => e.name === name);
}

/** The control plane's driver for a node, by its engine. */
export function createDriver(node: EdgeNode): EdgeDriver {
  const engine = engineOf(node.driver);
  if (!engine) throw new Error(`node ${node.name}: unknown driver '${node.driver}' (one of ${DRIVER_NAMES.join(', ')})`);
  return engine.createDriver(node);
}
