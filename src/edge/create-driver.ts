// The driver for a node, by the node's driver name. A new engine adds one case here.
import type { EdgeDriver, EdgeNode } from './edge-driver.js';
import { BuiltinDriver } from './builtin/builtin-driver.js';
import { VarnishDriver } from './varnish/varnish-driver.js';
import { AgentDriver } from './agent/agent-driver.js';

export function createDriver(node: EdgeNode): EdgeDriver {
  switch (node.driver) {
    case 'builtin':
      return new BuiltinDriver(node.controlUrl, { secret: node.secret });
    case 'varnish':
      return new VarnishDriver({ trafficUrl: node.trafficUrl, adminAddress: node.controlUrl, secret: node.secret ?? '' });
    // nginx and ATS have no control API of their own: `cachectl agent` runs beside them and speaks the
    // built-in edge's control protocol (src/edge/agent/agent-server.ts).
    case 'nginx':
    case 'ats':
      return new AgentDriver(node.controlUrl, node.secret);
  }
}
