import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite';
import type { AuditRow } from '../../src/store/types';
import { tempDir } from '../support/server';

// A server's store copies the write-ahead log into the database file from a thread of its own: the
// requests' commits never do it (the main connection's autocheckpoint is off), yet the file gets the pages.

const row = (n: number): AuditRow => ({
  at: n,
  cid: `cid-${n}`,
  event: 'logout',
  username: `user-${n}-${'x'.repeat(200)}`,
  sessionId: null,
  door: 'zato',
  clientIp: null,
  outcome: 'ok',
  detail: null,
});

/** Waits for `done` on the background thread's schedule, up to a deadline (no fixed sleep decides anything). */
async function eventually(done: () => boolean, deadlineMs = 10_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('store: background checkpoints', () => {
  it('copies committed pages into the database file without a commit doing it, and stops with the store', async () => {
    const dbPath = join(tempDir(), 'checkpoint.db');
    const store = openSqliteStore({ path: dbPath, synchronous: 'NORMAL', busyTimeoutMs: 1000, checkpointEveryMs: 10 });
    const before = statSync(dbPath).size;
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.appendAudit(row(i))));
    expect(await eventually(() => statSync(dbPath).size > before + 50_000)).toBe(true);
    await store.close();
    const reader = new Database(dbPath, { readonly: true });
    try {
      expect((reader.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n).toBe(500);
    } finally {
      reader.close();
    }
  });

  it('without the thread, leaves a small log to the commits (SQLite checkpoints at 1,000 pages)', async () => {
    const dbPath = join(tempDir(), 'plain.db');
    const store = openSqliteStore({ path: dbPath, synchronous: 'NORMAL', busyTimeoutMs: 1000 });
    const before = statSync(dbPath).size;
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.appendAudit(row(i))));
    expect(statSync(dbPath).size).toBe(before);
    await store.close();
  });
});
