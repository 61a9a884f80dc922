import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite';
import type { AccountRow, NewAccount, SessionRow } from '../../src/store/types';
import { tempDir } from '../support/server';

// The store reads rows as arrays and maps them by position: every field must come back from the column it was
// written to, through every read, and a log-out by token hash must say what it ended.

const AT = Date.UTC(2026, 5, 1, 12);

// Every value distinct, so a field read from its neighbour's column shows.
const ACCOUNT: NewAccount = {
  username: 'Ann',
  usernameKey: 'ann',
  name: 'Ann the operator',
  passwordHash: '$2b$04$hash',
  role: 'integrator',
  isActive: false,
  firstName: 'Ann',
  lastName: 'Lee',
  email: 'ann@example.test',
  customerKey: 'key-ann',
  ttl: 77,
};

function sessionOf(account: AccountRow, id: string): SessionRow {
  return {
    id,
    accountId: account.id,
    username: account.username,
    door: 'xweb',
    createdAt: AT + 1,
    lastSeenAt: AT + 2,
    idleTtl: 3,
    idleExpiresAt: AT + 4,
    absoluteExpiresAt: AT + 5,
    revokedAt: null,
    revokeReason: null,
    clientIp: '192.0.2.7',
    userAgent: 'agent/8',
  };
}

describe('store: rows', () => {
  let store: SqliteStore;
  let path: string;
  beforeEach(() => {
    path = join(tempDir(), 'rows.db');
    store = openSqliteStore({ path, synchronous: 'NORMAL', busyTimeoutMs: 100 });
  });
  afterEach(() => store.close());

  it('answers every account field as written, through every account read', async () => {
    const created = await store.createAccount(ACCOUNT, AT);
    const expected: AccountRow = { id: created.id, ...ACCOUNT, failedLogins: 0, failuresSince: null, lockedUntil: null, createdAt: AT, updatedAt: AT };
    expect(created).toEqual(expected);
    const attempt = { usernameKey: 'ann', clientIp: '192.0.2.1', accountId: created.id };
    expect(await store.reserveLoginAttempt(attempt, AT + 9, { addressThreshold: 5, accountThreshold: 1, windowMs: 10 })).toEqual({
      granted: true,
      addressFailures: 1,
      accountFailures: 1,
      accountLockedUntil: AT + 19,
    });
    const locked = { ...expected, failedLogins: 1, failuresSince: AT + 9, lockedUntil: AT + 19 };
    expect(await store.findAccountById(created.id)).toEqual(locked);
    expect(await store.findAccountByUsernameKey('ann')).toEqual(locked);
    expect(await store.findAccountByName('Ann the operator')).toEqual(locked);
    expect(await store.listAccounts()).toEqual([locked]);
    expect(await store.listAccounts('operator')).toEqual([locked]);
    expect(await store.findAccountById(created.id + 1)).toBeUndefined();
  });

  it('answers a token with its session and account in one lookup, every field as written', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    const session = sessionOf(account, 'session-1');
    const hash = Buffer.alloc(32, 1);
    await store.createSession(session, { hash, kind: 'guid', createdAt: AT + 6 });
    expect(await store.findToken(hash)).toEqual({
      token: { hash, sessionId: 'session-1', kind: 'guid', createdAt: AT + 6, retiredAt: null },
      session,
      account,
    });
    expect(await store.findSession('session-1')).toEqual(session);
    expect(await store.listSessions({})).toEqual([session]);
    expect(await store.findToken(Buffer.alloc(32, 2))).toBeUndefined();

    // The account deleted: the session stays, with no account.
    await store.deleteAccount(account.id);
    expect(await store.findToken(hash)).toEqual({
      token: { hash, sessionId: 'session-1', kind: 'guid', createdAt: AT + 6, retiredAt: null },
      session: { ...session, accountId: null },
      account: undefined,
    });
  });

  it('revokes by token hash: ended now, ended already, or an unknown token', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    const hash = Buffer.alloc(32, 3);
    await store.createSession(sessionOf(account, 'session-2'), { hash, kind: 'jwt', createdAt: AT });
    expect(await store.revokeByToken(hash, AT + 20, 'logout')).toEqual({ sessionId: 'session-2', username: 'Ann', ended: true });
    expect(await store.revokeByToken(hash, AT + 30, 'logout')).toEqual({ sessionId: 'session-2', username: 'Ann', ended: false });
    expect(await store.findSession('session-2')).toMatchObject({ revokedAt: AT + 20, revokeReason: 'logout' });
    expect(await store.revokeByToken(Buffer.alloc(32, 4), AT + 40, 'logout')).toBeUndefined();
  });

  it('touches a session: the last-seen time always, the idle expiry (and so its index) only when given one', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    await store.createSession(sessionOf(account, 'session-3'), { hash: Buffer.alloc(32, 5), kind: 'guid', createdAt: AT });
    // SQLite rewrites an index entry exactly when an UPDATE's SET names the column, which is also exactly
    // when an `UPDATE OF` trigger fires: the trigger counts the idle-expiry writes.
    const db = new Database(path);
    db.exec(`CREATE TABLE idle_writes (n INTEGER);
      CREATE TRIGGER count_idle_writes AFTER UPDATE OF idle_expires_at ON sessions BEGIN INSERT INTO idle_writes VALUES (1); END;`);
    const idleWrites = () => (db.prepare('SELECT count(*) AS n FROM idle_writes').get() as { n: number }).n;
    try {
      await store.touchSession('session-3', AT + 50, undefined);
      expect(await store.findSession('session-3')).toMatchObject({ lastSeenAt: AT + 50, idleExpiresAt: AT + 4 });
      expect(idleWrites()).toBe(0);
      await store.touchSession('session-3', AT + 60, AT + 70);
      expect(await store.findSession('session-3')).toMatchObject({ lastSeenAt: AT + 60, idleExpiresAt: AT + 70 });
      expect(idleWrites()).toBe(1);
    } finally {
      db.close();
    }
  });
});
