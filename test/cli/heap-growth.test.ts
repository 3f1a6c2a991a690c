// `cachectl serve` caps how far V8 lets the heap grow past its live size (see heap-growth.ts), unless
// node was started with its own --heap-growing-percent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/cli/heap-growth.js';

test('the serve process sets a heap growing percent, unless node was given one', () => {
  assert.equal(heapGrowthFlag([]), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(heapGrowthFlag(['--enable-source-maps', '--max-old-space-size=512']), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(heapGrowthFlag(['--heap-growing-percent=100']), null);
  assert.equal(heapGrowthFlag(['--heap_growing_percent', '80']), null);
});
