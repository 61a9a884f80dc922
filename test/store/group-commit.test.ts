import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StoreFault, UniqueViolation } from '../../src/store/errors';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite';
import type { AuditRow, NewAccount } from '../../src/store/types';
import { tempDir } from '../support/server';

// Group commit, seen from outside the store: what one turn of the event loop asks for shares one commit,
// a failing call fails alone, a locked store still answers reads, and nothing resolves before it is on disk.

const AT = Date.UTC(2026, 5, 1, 12);

function auditRow(n: number): AuditRow {
  return { at: AT + n, cid: `cid-${n}`, event: 'logout', username: `user${n}`, sessionId: null, door: 'zato', clientIp: null, outcome: 'ok', detail: null };
}

function account(username: string): NewAccount {
  return {
    username,
    usernameKey: username,
    name: username,
    passwordHash: 'x',
    role: 'user',
    isActive: true,
    firstName: '',
    lastName: '',
    email: '',
    customerKey: `key-${username}`,
    ttl: null,
  };
}

describe('store: group commit', () => {
  let dbPath: string;
  let store: SqliteStore;

  beforeEach(() => {
    dbPath = join(tempDir(), 'group.db');
    store = openSqliteStore({ path: dbPath, synchronous: 'NORMAL', busyTimeoutMs: 100 });
  });

  afterEach(async () => {
    await store.close();
  });

  /** Bytes in the write-ahead log: each commit adds a frame for every page it changed. */
  const walBytes = () => statSync(`${dbPath}-wal`).size;

  it('writes the calls of one turn with one commit, and each call of its own turn with its own', async () => {
    await store.appendAudit(auditRow(0)); // the log exists from here on
    const before = walBytes();
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.appendAudit(auditRow(1 + i))));
    const together = walBytes() - before;

    const middle = walBytes();
    for (let i = 0; i < 50; i++) await store.appendAudit(auditRow(100 + i));
    const apart = walBytes() - middle;

    // 50 rows fit in a few pages: one commit writes those pages once, 50 commits write one each at least.
    expect(together * 10).toBeLessThan(apart);
    expect(await store.listAudit(1000)).toHaveLength(101);
  });

  it('fails only the call that broke a rule; the others of its turn are committed', async () => {
    await store.createAccount(account('taken'), AT);
    const results = await Promise.allSettled([
      store.appendAudit(auditRow(1)),
      store.createAccount(account('taken'), AT),
      store.createAccount(account('fresh'), AT),
      store.appendAudit(auditRow(2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(UniqueViolation);
    expect((await store.findAccountByUsernameKey('fresh'))?.username).toBe('fresh');
    expect((await store.listAudit(10)).map((r) => r.cid)).toEqual(['cid-2', 'cid-1']);
  });

  it('answers the reads of a turn whose writes find the database locked, and writes again once it is free', async () => {
    await store.createAccount(account('reader'), AT);
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    try {
      const [read, write] = await Promise.allSettled([store.findAccountByUsernameKey('reader'), store.appendAudit(auditRow(1))]);
      expect(read).toMatchObject({ status: 'fulfilled', value: { username: 'reader' } });
      expect(write.status).toBe('rejected');
      const reason = (write as PromiseRejectedResult).reason as StoreFault;
      expect(reason).toBeInstanceOf(StoreFault);
      expect(reason.reason).toBe('database is locked');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await Promise.all([store.appendAudit(auditRow(2)), store.appendAudit(auditRow(3))]);
    expect((await store.listAudit(10)).map((r) => r.cid)).toEqual(['cid-3', 'cid-2']);
  });

  it('answers a validation that records no use when the database is locked, and fails one that must record it', async () => {
    const reader = await store.createAccount(account('reader'), AT);
    await store.createSession(
      {
        id: 'session-r',
        accountId: reader.id,
        username: 'reader',
        door: 'crafter',
        createdAt: AT,
        lastSeenAt: AT,
        idleTtl: 600,
        idleExpiresAt: AT + 600_000,
        absoluteExpiresAt: AT + 3_600_000,
        revokedAt: null,
        revokeReason: null,
        clientIp: null,
        userAgent: null,
      },
      { hash: Buffer.alloc(32, 7), kind: 'cookie', createdAt: AT },
    );
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    try {
      // In one turn with a write, so that the batch meets the lock: the validation with no use due is answered
      // from its read, the one whose use is due fails as the write does.
      const [quiet, due, write] = await Promise.allSettled([
        store.useTokens([{ hash: Buffer.alloc(32, 7), use: () => undefined }]),
        store.useTokens([{ hash: Buffer.alloc(32, 7), use: () => ({ lastSeenAt: AT + 1, idleExpiresAt: undefined }) }]),
        store.appendAudit(auditRow(1)),
      ]);
      expect(quiet).toMatchObject({ status: 'fulfilled', value: [{ session: { id: 'session-r' }, used: undefined }] });
      expect((due as PromiseRejectedResult).reason).toBeInstanceOf(StoreFault);
      expect((write as PromiseRejectedResult).reason).toBeInstanceOf(StoreFault);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await store.findSession('session-r')).toMatchObject({ lastSeenAt: AT });
  });

  it('resolves a write only once another connection can read it', async () => {
    const reader = new Database(dbPath, { readonly: true });
    try {
      const count = () => (reader.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
      const pending = Promise.all([store.appendAudit(auditRow(1)), store.appendAudit(auditRow(2))]);
      expect(count()).toBe(0); // asked for, not yet run: nothing is acknowledged either
      await pending;
      expect(count()).toBe(2);
    } finally {
      reader.close();
    }
  });

  it('runs what is still queued when the store closes', async () => {
    const pending = store.appendAudit(auditRow(1));
    await store.close();
    await pending;
    const reader = new Database(dbPath, { readonly: true });
    try {
      expect(reader.prepare('SELECT cid FROM audit').all()).toEqual([{ cid: 'cid-1' }]);
    } finally {
      reader.close();
    }
  });
});
