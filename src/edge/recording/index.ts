// The recording engine: no server, every call recorded (see driver.ts). For tests only, so the node API
// refuses it; a test reaches the driver a node got by the node's name (recordingOf).
import { InvalidNodeError, type EngineModule } from '../edge-driver.js';
import { RecordingDriver } from './driver.js';

const drivers = new Map<string, RecordingDriver>();

/** The driver last created for the node of this name, in this process. */
export function recordingOf(name: string): RecordingDriver | undefined {
  return drivers.get(name);
}

export const recording: EngineModule = {
  name: 'recording',
  capabilities: { softPurge: true, directoryPurge: true, tagPurge: false, prefetchVerification: false, directPurgeEndpoint: false, needsAgent: false, resolvesOrigins: true, testOnly: true },
  validateNode({ controlUrl }) {
    if (!controlUrl.startsWith('recording:')) throw new InvalidNodeError(`control_url '${controlUrl}': a recording node takes recording:<anything>`);
    return { controlUrl };
  },
  createDriver(node) {
    const driver = new RecordingDriver();
    drivers.set(node.name, driver);
    return driver;
  },
};
