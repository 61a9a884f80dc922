import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { join } from 'node:path';
import { openStore } from '../../src/store/open';
import { parseStoreLocation } from '../../src/store/location';
import type { Store } from '../../src/store/types';
import { createTestDatabase, dropTestDatabase } from './postgres';
import { tempDir } from './server';

/**
 * Which store this jest project runs its suites on (jest.config.js sets `DUALGATE_TEST_STORE` for the
 * `postgres` project): the suites ask here instead of naming a store, so one test runs on both.
 */
export type TestStoreKind = 'sqlite' | 'postgres';
export const TEST_STORE: TestStoreKind =
  (globalThis as { DUALGATE_TEST_STORE?: string }).DUALGATE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** `it` where the test's store is SQLite (a test of SQLite's own files or locks), `it.skip` elsewhere. */
export const itOnSqlite: jest.It = TEST_STORE === 'sqlite' ? it : it.skip;

/** PostgreSQL databases made for a directory, and how many test servers use each. */
const sharedDatabases = new Map<string, { url: string; users: number }>();

export interface TestDatabase {
  /** The DUALGATE_DB value: a file in a fresh directory, or the URL of a fresh PostgreSQL database. */
  db: string;
  /** Removes the file's directory or drops the database. */
  remove(): Promise<void>;
}

/** A fresh, empty database of the project's store (SQLite: `name` in `dir`, a fresh directory by default). */
export async function testDatabase(options: { dir?: string; name?: string } = {}): Promise<TestDatabase> {
  if (TEST_STORE === 'postgres') {
    // Servers started on one `dir` share one database, as they would share its SQLite file: the database is
    // dropped when the last of them is done with it.
    const key = options.dir && `${options.dir}\n${options.name ?? ''}`;
    const shared = key ? sharedDatabases.get(key) : undefined;
    const entry = shared ?? { url: await createTestDatabase(), users: 0 };
    if (key && !shared) sharedDatabases.set(key, entry);
    entry.users++;
    return {
      db: entry.url,
      remove: async () => {
        if (--entry.users > 0) return;
        if (key) sharedDatabases.delete(key);
        await dropTestDatabase(entry.url);
      },
    };
  }
  const dir = options.dir ?? tempDir();
  return {
    db: join(dir, options.name ?? 'dualgate.db'),
    remove: async () => {
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The store itself, opened on a fresh database as the server would open it. */
export async function openTestStore(): Promise<{ store: Store; db: string; remove(): Promise<void> }> {
  const database = await testDatabase();
  const store = await openStore(parseStoreLocation(database.db, 4).location!, { busyTimeoutMs: 2000, synchronous: 'NORMAL' });
  return {
    store,
    db: database.db,
    async remove() {
      await store.close();
      await database.remove();
    },
  };
}

/**
 * Another connection holding the write lock on the server's database until released, as another process
 * would: SQLite's exclusive transaction, or a PostgreSQL transaction that has locked every table against writes.
 */
export async function holdWriteLock(db: string): Promise<{ release(): Promise<void> }> {
  if (TEST_STORE === 'postgres') {
    const client = new Client({ connectionString: db });
    await client.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE accounts, sessions, tokens, audit, secrets, login_attempts, health IN EXCLUSIVE MODE');
    let held = true;
    return {
      async release() {
        if (!held) return;
        held = false;
        await client.query('ROLLBACK');
        await client.end();
      },
    };
  }
  const sqlite = new Database(db);
  sqlite.exec('BEGIN EXCLUSIVE');
  let held = true;
  return {
    async release() {
      if (!held) return;
      held = false;
      sqlite.exec('ROLLBACK');
      sqlite.close();
    },
  };
}
