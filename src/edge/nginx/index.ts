// nginx has no control API of its own: `cachectl agent nginx` runs beside it and speaks the built-in
// edge's control protocol, so the control plane drives it through an AgentDriver.
import type { EngineModule } from '../edge-driver.js';
import { httpControl } from '../node-control.js';
import { AgentDriver } from '../agent/driver.js';

export const nginx: EngineModule = {
  name: 'nginx',
  // No direct purge: nginx's purge location removes one file, not the key's other Vary variants.
  capabilities: { softPurge: true, directoryPurge: true, tagPurge: false, prefetchVerification: true, directPurgeEndpoint: false, needsAgent: true, resolvesOrigins: false, testOnly: false },
  validateNode: httpControl,
  createDriver: (node) => new AgentDriver(node.controlUrl, node.secret),
  async agentEngine(options) {
    const { NginxEngine } = await import('./agent-engine.js');
    return new NginxEngine(options as ConstructorParameters<typeof NginxEngine>[0]);
  },
  localProcess: () => import('./launcher.js'),
};
