// With room for only a few URLs in memory, the engine leaves the rest in the store and reads them
// back as outcomes are written: every URL still ends, each counted once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, addDomain } from '../support/test-server.js';
import { startOrigin } from '../support/origin.js';
import { waitTask } from '../support/signed-client.js';

test("a backlog far beyond the engine's room completes, in order of arrival", async () => {
  const s = await startTestServer({ 'max-tracked-urls': '40' });
  const origin = await startOrigin();
  after(async () => {
    await s.close();
    await origin.close();
  });
  await addDomain(s.call, 'www.backlog.test', origin.port);
  const ids = await Promise.all(
    Array.from({ length: 12 }, async (_, t) => {
      const urls = Array.from({ length: 100 }, (_, u) => `http://www.backlog.test/${t}/${u}`);
      const res = await s.call('POST', '/v1.0/cdn/content/refresh-tasks', { body: { refresh_task: { urls } } });
      assert.equal(res.status, 200, res.text);
      return res.json.refresh_task as string;
    }),
  );
  for (const id of ids) {
    const task = await waitTask(s.call, id, 30_000);
    assert.deepEqual([task.total, task.succeed, task.failed, task.processing], [100, 100, 0, 0], `task ${id}`);
  }
  const history = await s.call('GET', '/v1.0/cdn/historytasks', { query: [['page_size', '100'], ['page_number', '1'], ['status', 'task_inprocess']] });
  assert.equal(history.json.total, 0);
});
