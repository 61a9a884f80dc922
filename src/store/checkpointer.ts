import { Worker } from 'node:worker_threads';

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
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), path, intervalMs, busyTimeoutMs },
    });
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

// Plain JavaScript, so that it runs the same from dist/ and under ts-jest. A failed checkpoint (the store
// locked, full or read-only for a while) is tried again at the next tick; the requests see such a fault
// themselves.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs));
setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
`;
