// Apache Traffic Server has no control API of its own: `cachectl agent ats` runs beside it and speaks the
// built-in edge's control protocol; exact purges may go straight to ATS's PURGE (directPurge).
import type { EngineModule } from '../edge-driver.js';
import { httpControl } from '../node-control.js';
import { AgentDriver } from '../agent/driver.js';

export const ats: EngineModule = {
  name: 'ats',
  capabilities: { softPurge: true, directoryPurge: true, tagPurge: false, prefetchVerification: true, directPurgeEndpoint: true, needsAgent: true, resolvesOrigins: false, testOnly: false },
  validateNode: httpControl,
  createDriver: (node) => new AgentDriver(node.controlUrl, node.secret),
  async agentEngine(options) {
    const { AtsEngine } = await import('./agent-engine.js');
    return new AtsEngine(options as ConstructorParameters<typeof AtsEngine>[0]);
  },
  localProcess: () => import('./launcher.js'),
};
