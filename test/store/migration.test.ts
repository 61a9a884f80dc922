import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from '../../src/store/migrations';
import { openSqliteStore } from '../../src/store/sqlite';
import { tempDir } from '../support/server';

// The upgrade to RFC 8265 usernames and never-reused ids: existing rows get their key, ids and the sessions
// that refer to them are kept, and two existing accounts that now compare equal stop the start, named.

const BEFORE = 3; // the schema version before issue 17's migrations

function oldDatabase(usernames: string[]): string {
  const path = join(tempDir(), 'old.db');
  made.push(path);
  const db = new Database(path);
  for (const sql of migrations.slice(0, BEFORE)) db.exec(sql as string);
  db.pragma(`user_version = ${BEFORE}`);
  const insert = db.prepare(
    `INSERT INTO accounts (username, name, password_hash, role, customer_key, created_at, updated_at)
     VALUES (?, ?, 'x', 'user', ?, 1, 1)`,
  );
  usernames.forEach((u, i) => insert.run(u, `name-${i}`, `key-${i}`));
  db.prepare(
    `INSERT INTO sessions (id, account_id, username, door, created_at, last_seen_at, idle_ttl, idle_expires_at, absolute_expires_at)
     VALUES ('s1', 2, ?, 'zato', 1, 1, 60, 2, 3)`,
  ).run(usernames[1]);
  db.close();
  return path;
}

const made: string[] = [];
afterAll(() => {
  for (const path of made) rmSync(dirname(path), { recursive: true, force: true });
});

describe('store: the migration to RFC 8265 usernames', () => {
  it('keys every existing account, keeps ids and the sessions that refer to them, and never reuses an id', async () => {
    const path = oldDatabase(['alice', 'Bob', 'jose\u0301', 'old\u200bname']);
    const store = openSqliteStore({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 });
    try {
      expect((await store.listAccounts()).map((a) => [a.id, a.username, a.usernameKey])).toEqual([
        [1, 'alice', 'alice'],
        [2, 'Bob', 'bob'],
        [3, 'jose\u0301', 'jos\u00e9'],
        // A name the profile refuses keeps working by its mapped form.
        [4, 'old\u200bname', 'old\u200bname'],
      ]);
      expect(await store.findSession('s1')).toMatchObject({ accountId: 2, username: 'Bob' });
      await store.deleteAccount(4);
      const next = await store.createAccount(
        { username: 'carol', usernameKey: 'carol', name: 'carol', passwordHash: 'x', role: 'user', isActive: true, firstName: '', lastName: '', email: '', customerKey: 'k', ttl: null },
        1,
      );
      expect(next.id).toBe(5);
    } finally {
      await store.close();
    }
  });

  it('refuses to start, naming them, when two existing accounts compare equal', () => {
    const path = oldDatabase(['admin', 'Admin', 'jos\u00e9', 'jose\u0301', 'zed']);
    expect(() => openSqliteStore({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 })).toThrow(
      'cannot upgrade the database: these accounts have usernames that compare equal under RFC 8265 (case, width, normal form): "admin" (id 1) and "Admin" (id 2); "jos\\u00e9" (id 3) and "jose\\u0301" (id 4); rename or delete all but one of each with the dualgate that made them, then start again',
    );
    // The refused open closed its connection: SQLite removes the -wal and -shm files with the last one, and a
    // connection left open would hold them (and the file) until the process exits.
    expect([existsSync(`${path}-wal`), existsSync(`${path}-shm`)]).toEqual([false, false]);
    // Nothing was changed: the file is still at the old version, for the old dualgate.
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(BEFORE);
    db.close();
  });
});
