// The driver for a node, by the node's driver name. A new engine adds one case here.
import type { EdgeDriver, EdgeNode } from './edge-driver.js';
import { BuiltinDriver } from './builtin/builtin-driver.js';

export function createDriver(node: EdgeNode): EdgeDriver {
  switch (node.driver) {
    case 'builtin':
      return new BuiltinDriver(node.controlUrl);
  }
}
