// A stream of task creates against a server, in rounds of concurrent calls, until stopped: for tests
// that do something (a backup, a crash) while tasks keep coming in.
import type { Call } from './signed-client.js';

export interface CreateLoad {
  /** The ids of the tasks acknowledged so far, in order of their answers. */
  readonly acked: number[];
  /** Resolves once `count` tasks are acknowledged. */
  reach(count: number): Promise<void>;
  /** Ends the stream after the round in flight; rejects if a create was refused. */
  stop(): Promise<void>;
}

/** One-URL tasks on `host`, `concurrency` calls a round; every `preheatEvery`-th a prefetch (0: none). */
export function createLoad(call: Call, host: string, options: { concurrency?: number; preheatEvery?: number } = {}): CreateLoad {
  const { concurrency = 8, preheatEvery = 0 } = options;
  const acked: number[] = [];
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const batch = await Promise.all(
        Array.from({ length: concurrency }, () => {
          const i = n++;
          const kind = preheatEvery > 0 && i % preheatEvery === 0 ? 'preheating' : 'refresh';
          return call('POST', `/v1.0/cdn/content/${kind}-tasks`, { body: { [`${kind}_task`]: { urls: [`http://${host}/${i}`] } } });
        }),
      );
      for (const r of batch) {
        if (r.status !== 200) throw new Error(`a create was refused: ${r.status} ${r.text}`);
        acked.push(Number(r.json.refresh_task ?? r.json.preheating_task));
      }
    }
  })();
  loop.catch(() => undefined); // reported by stop() and reach()
  return {
    acked,
    reach: async (count) => {
      while (acked.length < count) await Promise.race([loop, new Promise((r) => setTimeout(r, 20))]);
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
