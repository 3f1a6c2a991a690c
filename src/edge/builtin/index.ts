// The built-in edge (`cachectl edge`): cachectl's own cache server, driven over its admin API.
import type { EngineModule } from '../edge-driver.js';
import { httpControl } from '../node-control.js';
import { BuiltinDriver } from './driver.js';

export const builtin: EngineModule = {
  name: 'builtin',
  capabilities: { softPurge: true, directoryPurge: true, tagPurge: false, prefetchVerification: true, directPurgeEndpoint: false, needsAgent: false, resolvesOrigins: true, testOnly: false },
  validateNode: httpControl,
  createDriver: (node) => new BuiltinDriver(node.controlUrl, { secret: node.secret }),
};
