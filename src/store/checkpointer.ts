import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CheckpointWorkerData } from './checkpoint-worker';

/**
 * Copies the write-ahead log back into the database file from a thread of its own, on a connection of its
 * own. Left to SQLite, the commit that fills the log to 1,000 pages does this copy, with two fsyncs, on the
 * event loop, and every request behind it waits (milliseconds, every few hundred log-outs). A PASSIVE
 * checkpoint never waits for, nor holds up, readers or the writer; the log restarts from its start once it
 * has all been copied.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;

  /** `onLost` runs if the thread ends on its own: the caller then lets SQLite checkpoint again. */
  constructor(path: string, intervalMs: number, busyTimeoutMs: number, onLost: () => void) {
    const workerData: CheckpointWorkerData = { path, intervalMs, busyTimeoutMs };
    this.worker = new Worker(WORKER_FILE, { workerData });
    this.worker.unref();
    this.worker.on('error', () => undefined); // 'exit' follows and reports it
    this.worker.on('exit', () => {
      if (!this.stopped) onLost();
    });
  }

  /** Stops the thread and closes its connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.worker.terminate();
  }
}

/**
 * The thread's module, compiled: beside this one in dist/ (or the bench's build/). Run from the TypeScript
 * sources (the tests, under ts-jest), a thread cannot load TypeScript, so it is the build's copy, which
 * `npm test` makes first.
 */
const WORKER_FILE = ((): string => {
  const beside = join(__dirname, 'checkpoint-worker.js');
  return existsSync(beside) ? beside : join(__dirname, '..', '..', 'dist', 'store', 'checkpoint-worker.js');
})();
