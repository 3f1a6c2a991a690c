// Finished tasks, announced across processes: the outcome statement NOTIFYs each task it finishes on
// this channel (delivered at its commit), and each process LISTENs on one connection of its own, so a
// /wait on any process wakes when the task is done, without reading the store over and over.
import pg from 'pg';

export const TASK_DONE_CHANNEL = 'cachectl_task_done';

const RECONNECT_MS = 1000;

/**
 * Calls `onDone` with the id of every task any process finishes. A lost connection is made again
 * after a second; notices sent meanwhile are missed (waiters also read the store now and then).
 */
export function listenTaskDone(url: string, onDone: (taskId: number) => void, log: (msg: string, err?: unknown) => void): { close(): Promise<void> } {
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let failing = false;
  const connect = async () => {
    retry = null;
    const c = new pg.Client({ connectionString: url });
    client = c;
    const lost = (err?: unknown) => {
      if (client !== c) return;
      client = null;
      c.end().catch(() => undefined);
      if (closed) return;
      // One line per outage, not one per attempt.
      if (!failing) log('listening for finished tasks failed; /wait falls back to reading the store until it is back', err);
      failing = true;
      retry = setTimeout(() => void connect(), RECONNECT_MS);
      retry.unref();
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (n) => {
      const id = Number(n.payload);
      if (n.channel === TASK_DONE_CHANNEL && Number.isSafeInteger(id)) onDone(id);
    });
    try {
      await c.connect();
      await c.query(`listen ${TASK_DONE_CHANNEL}`);
      failing = false;
    } catch (err) {
      lost(err);
    }
  };
  void connect();
  return {
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
