import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite';
import { ACCOUNT, AT, sessionOf } from '../support/rows';
import { tempDir } from '../support/server';

// What only SQLite can show: a use that does not move the idle expiry leaves its index alone. Every field read
// back from its own column, through every read, is the contract suite's (test/store/contract.test.ts, both stores).

describe('SQLite store: the idle-expiry index', () => {
  let store: SqliteStore;
  let path: string;
  beforeEach(() => {
    path = join(tempDir(), 'rows.db');
    store = openSqliteStore({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 });
  });
  afterEach(() => store.close());

  it('writes a use of a session: the last-seen time always, the idle expiry (and so its index) only when given one', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    await store.createSession(sessionOf(account, 'session-3'), { hash: Buffer.alloc(32, 5), kind: 'guid', createdAt: AT });
    // SQLite rewrites an index entry exactly when an UPDATE's SET names the column, which is also exactly
    // when an `UPDATE OF` trigger fires: the trigger counts the idle-expiry writes.
    const db = new Database(path);
    db.exec(`CREATE TABLE idle_writes (n INTEGER);
      CREATE TRIGGER count_idle_writes AFTER UPDATE OF idle_expires_at ON sessions BEGIN INSERT INTO idle_writes VALUES (1); END;`);
    const idleWrites = () => (db.prepare('SELECT count(*) AS n FROM idle_writes').get() as { n: number }).n;
    try {
      await store.useTokens([{ hash: Buffer.alloc(32, 5), use: () => ({ lastSeenAt: AT + 50, idleExpiresAt: undefined }) }]);
      expect(await store.findSession('session-3')).toMatchObject({ lastSeenAt: AT + 50, idleExpiresAt: AT + 4000 });
      expect(idleWrites()).toBe(0);
      await store.useTokens([{ hash: Buffer.alloc(32, 5), use: () => ({ lastSeenAt: AT + 60, idleExpiresAt: AT + 70 }) }]);
      expect(await store.findSession('session-3')).toMatchObject({ lastSeenAt: AT + 60, idleExpiresAt: AT + 70 });
      expect(idleWrites()).toBe(1);
    } finally {
      db.close();
    }
  });
});
