import type { StoreLocation } from './location';
import { openPostgresStore } from './postgres';
import { openSqliteStore } from './sqlite';
import type { Store } from './types';

export interface StoreOptions {
  /** How long a call may wait (SQLite: for another process's lock; PostgreSQL: for a connection or an answer). */
  busyTimeoutMs: number;
  /** SQLite's `synchronous` (PostgreSQL has its own `synchronous_commit`, set in its configuration). */
  synchronous: 'NORMAL' | 'FULL';
  /** SQLite: checkpoint the write-ahead log from a thread of its own this often (a server does). */
  checkpointEveryMs?: number;
  /** SQLite: open only a file that exists, creating nothing (CLI commands other than `init`). */
  mustExist?: boolean;
}

/** Opens the store DUALGATE_DB names and brings its schema up to date: the one place that knows both kinds. */
export async function openStore(location: StoreLocation, options: StoreOptions): Promise<Store> {
  if (location.kind === 'postgres') {
    return openPostgresStore({ url: location.url, where: location.where, pool: location.pool, timeoutMs: options.busyTimeoutMs });
  }
  return openSqliteStore({
    path: location.path,
    synchronous: options.synchronous,
    busyTimeoutMs: options.busyTimeoutMs,
    checkpointEveryMs: options.checkpointEveryMs,
    mustExist: options.mustExist,
  });
}
