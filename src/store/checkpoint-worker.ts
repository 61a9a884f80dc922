/**
 * The checkpointer's thread (see checkpointer.ts): its own connection to the database, and a PASSIVE
 * checkpoint every `intervalMs`. A failed checkpoint (the store locked, full or read-only for a while) is
 * tried again at the next tick; the requests see such a fault themselves.
 */
import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  busyTimeoutMs: number;
}

const { path, intervalMs, busyTimeoutMs } = workerData as CheckpointWorkerData;
const db = new Database(path, { fileMustExist: true });
db.pragma(`busy_timeout = ${Number(busyTimeoutMs)}`);
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // tried again at the next tick
  }
}, intervalMs);
