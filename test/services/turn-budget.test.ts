// A burst of large tasks is parsed over several turns of the event loop (TurnBudget), so that other
// requests are served in between. Counted in loop turns (setImmediate hops), not milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBudget } from '../../src/services/turn-budget.js';

test('work beyond the per-turn budget runs in later turns, in order; small work shares a turn', async () => {
  const budget = new TurnBudget(1000);
  let turn = 0;
  const hop = () => {
    turn++;
    if (turn < 50) setImmediate(hop);
  };
  setImmediate(hop);
  const at = new Map<string, number>();
  const job = async (name: string, units: number) => {
    await budget.take(units);
    at.set(name, turn);
  };
  await Promise.all([job('a', 1000), job('b', 1000), job('c', 600), job('d', 400), job('e', 1), job('f', 2500)]);
  const [a, b, c, d, e, f] = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => at.get(n)!);
  assert.ok(a < b, `b runs in a later turn than a (${a}, ${b})`);
  assert.ok(b < c, `c runs in a later turn than b (${b}, ${c})`);
  assert.equal(c, d, 'c and d (600 + 400) share a turn');
  assert.ok(d < e, `e, though small, waits behind d: first come first served (${d}, ${e})`);
  assert.ok(e < f, `f (larger than the budget) runs alone, after e (${e}, ${f})`);
});

test('a lone job runs at once, without waiting for a turn', () => {
  assert.equal(new TurnBudget(10).take(500), undefined);
});
