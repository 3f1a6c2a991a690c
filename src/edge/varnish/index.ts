// Varnish: the control plane speaks to varnishd itself (HTTP control methods, and its admin CLI for VCL).
import { InvalidNodeError, type EngineModule } from '../edge-driver.js';
import { checkSecretSize } from '../node-control.js';
import { VarnishDriver } from './driver.js';

const HOST_PORT_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export const varnish: EngineModule = {
  name: 'varnish',
  capabilities: { softPurge: true, directoryPurge: true, tagPurge: false, prefetchVerification: true, directPurgeEndpoint: false, needsAgent: false, resolvesOrigins: false, testOnly: false },
  validateNode({ controlUrl, secret }) {
    // varnishd's admin CLI is a plain TCP protocol: its -T address.
    const m = HOST_PORT_RE.exec(controlUrl);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new InvalidNodeError(`control_url '${controlUrl}': varnish nodes take the -T address, host:port`);
    if (!secret) throw new InvalidNodeError('a varnish node needs its secret (the contents of varnishd -S)');
    // varnishd authenticates with the -S file's exact bytes, trailing newline included: not trimmed.
    checkSecretSize(secret);
    return { controlUrl, secret };
  },
  createDriver: (node) => new VarnishDriver({ trafficUrl: node.trafficUrl, adminAddress: node.controlUrl, secret: node.secret ?? '' }),
  localProcess: () => import('./launcher.js'),
};
