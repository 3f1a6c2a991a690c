// Callers waiting for a task to finish (a create with wait, /wait): woken when this process writes the
// task's last outcome, when another process announces it finished it, or when a poll of the store says so.
import { EventEmitter } from 'node:events';
import type { TaskRow } from '../store/repositories/task-rows.js';

export class TaskWaiters {
  private readonly events = new EventEmitter();

  /** `pollMs`: shared mode, how often a waiter reads the store (another process may finish the task). */
  constructor(private readonly pollMs: number | undefined) {
    this.events.setMaxListeners(0);
  }

  /** This process finished the task (`final`: as its last outcomes left it), or another one did (no row). */
  done(taskId: number, final?: TaskRow): void {
    this.events.emit(`done:${taskId}`, final);
  }

  /**
   * Resolves done when the task is done, not done after timeoutMs. `isDone` reads the store: it runs
   * once right after the listener is in place (the task may be done already; an error there rejects),
   * and in shared mode now and then, since another process may finish the task. When this process
   * finished it, `final` is the task as its last outcomes left it (no need to read it again).
   */
  wait(taskId: number, timeoutMs: number, isDone: () => Promise<boolean>): Promise<{ done: boolean; final?: TaskRow }> {
    return new Promise((resolve, reject) => {
      const event = `done:${taskId}`;
      const poll = this.pollMs !== undefined ? setInterval(() => isDone().then((done) => done && finish(true), () => undefined), this.pollMs) : undefined;
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.events.off(event, onDone);
      };
      const finish = (done: boolean, final?: TaskRow) => {
        cleanup();
        resolve({ done, final });
      };
      const onDone = (final: TaskRow) => finish(true, final);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.events.on(event, onDone);
      isDone().then(
        (done) => done && finish(true),
        (err: unknown) => {
          cleanup();
          reject(err);
        },
      );
    });
  }
}
