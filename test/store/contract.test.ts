import { UniqueViolation } from '../../src/store/errors';
import type { AccountRow, NewAccount, Store } from '../../src/store/types';
import { parseStoreLocation } from '../../src/store/location';
import { openStore } from '../../src/store/open';
import { ACCOUNT, AT, sessionOf } from '../support/rows';
import { openTestStore, TEST_STORE } from '../support/store';

// The store contract: what the core may rely on from any store. This suite runs once per jest project, on
// SQLite and on PostgreSQL (jest.config.js), against a fresh database each test.

const other = (username: string): NewAccount => ({ ...ACCOUNT, username, usernameKey: username, name: username, customerKey: `key-${username}`, isActive: true, ttl: null });
const LIMITS = { addressThreshold: 3, accountThreshold: 5, windowMs: 100 };

const hash = (n: number) => Buffer.alloc(32, n);

describe(`store contract (${TEST_STORE})`, () => {
  let store: Store;
  let db: string;
  let remove: () => Promise<void>;
  beforeEach(async () => {
    ({ store, db, remove } = await openTestStore());
  });
  afterEach(() => remove());

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
    expect(await store.listAccounts('nobody')).toEqual([]);
    expect(await store.findAccountById(created.id + 1)).toBeUndefined();
    expect(await store.findAccountByUsernameKey('Ann')).toBeUndefined();
    expect(await store.countAccounts()).toBe(1);
  });

  it('refuses a duplicate username, name or customer key with a UniqueViolation naming the column', async () => {
    await store.createAccount(ACCOUNT, AT);
    await expect(store.createAccount({ ...other('bob'), username: 'Ann' }, AT)).rejects.toEqual(new UniqueViolation('username'));
    await expect(store.createAccount({ ...other('bob'), usernameKey: 'ann' }, AT)).rejects.toBeInstanceOf(UniqueViolation);
    await expect(store.createAccount({ ...other('bob'), name: 'Ann the operator' }, AT)).rejects.toEqual(new UniqueViolation('name'));
    await expect(store.createAccount({ ...other('bob'), customerKey: 'key-ann' }, AT)).rejects.toBeInstanceOf(UniqueViolation);
    const bob = await store.createAccount(other('bob'), AT);
    await expect(store.updateAccount(bob.id, { username: 'Ann' }, AT)).rejects.toEqual(new UniqueViolation('username'));
    expect(await store.countAccounts()).toBe(2);
  });

  it('updates only the columns given, and the update time', async () => {
    const created = await store.createAccount(ACCOUNT, AT);
    await store.updateAccount(created.id, { firstName: 'Anne', isActive: true, ttl: null }, AT + 1);
    await store.updateAccount(created.id, {}, AT + 2);
    expect(await store.findAccountById(created.id)).toEqual({ ...created, firstName: 'Anne', isActive: true, ttl: null, updatedAt: AT + 1 });
  });

  it('reserves failures per name and address: locks at the threshold, gives a good one back, unlocks, forgets', async () => {
    const { id } = await store.createAccount(other('bob'), AT);
    const from = (clientIp: string) => ({ usernameKey: 'bob', clientIp, accountId: id });
    for (let n = 1; n <= 3; n++) {
      expect(await store.reserveLoginAttempt(from('192.0.2.1'), AT, LIMITS)).toEqual({ granted: true, addressFailures: n, accountFailures: n, accountLockedUntil: null });
      await store.concludeLoginFailure(from('192.0.2.1'));
    }
    // Locked for that address only, with real failures: refused, not busy.
    expect(await store.reserveLoginAttempt(from('192.0.2.1'), AT + 1, LIMITS)).toEqual({ granted: false, busy: false });
    expect(await store.listAddressLocks(AT + 1)).toEqual([{ usernameKey: 'bob', clientIp: '192.0.2.1', failures: 3, lockedUntil: AT + 100 }]);
    // Another address still may; a good password there gives its attempt back and forgets its count.
    const granted = await store.reserveLoginAttempt(from('192.0.2.2'), AT + 2, LIMITS);
    expect(granted).toEqual({ granted: true, addressFailures: 1, accountFailures: 4, accountLockedUntil: null });
    await store.clearLoginFailures(from('192.0.2.2'), granted);
    expect(await store.findAccountById(id)).toMatchObject({ failedLogins: 3 });
    // An unknown name counts per address only.
    expect(await store.reserveLoginAttempt({ usernameKey: 'nobody', clientIp: '192.0.2.9', accountId: null }, AT, LIMITS)).toEqual({
      granted: true, addressFailures: 1, accountFailures: 0, accountLockedUntil: null,
    });
    // The operator's unlock clears the account's count and every address's.
    await store.unlockAccount(id, 'bob', AT + 3);
    expect(await store.findAccountById(id)).toMatchObject({ failedLogins: 0, failuresSince: null, lockedUntil: null, updatedAt: AT + 3 });
    expect(await store.listAddressLocks(AT + 3)).toEqual([]);
    // Counts left over from long ago are forgotten; a lock that ran out starts afresh.
    expect(await store.forgetLoginFailures(AT + 1000)).toBe(1);
    await store.setLock(id, AT + 999, AT + 4);
    expect(await store.findAccountById(id)).toMatchObject({ failedLogins: 0, lockedUntil: AT + 999, updatedAt: AT + 4 });
    expect(await store.reserveLoginAttempt(from('192.0.2.3'), AT + 5, LIMITS)).toEqual({ granted: false, busy: false });
    // The refusal by the account's lock took the address's count back with it.
    expect(await store.listAddressLocks(AT + 5)).toEqual([]);
    expect(await store.replacePasswordHash(id, 'not-the-hash', 'x', AT + 6)).toBe(false);
    expect(await store.replacePasswordHash(id, ACCOUNT.passwordHash, 'new-hash', AT + 6)).toBe(true);
    expect(await store.findAccountById(id)).toMatchObject({ passwordHash: 'new-hash' });
  });

  it('grants at most the thresholds however many attempts arrive at once', async () => {
    const { id } = await store.createAccount(other('cat'), AT);
    const oneAddress = await Promise.all(
      Array.from({ length: 12 }, () => store.reserveLoginAttempt({ usernameKey: 'cat', clientIp: '192.0.2.1', accountId: id }, AT, { ...LIMITS, accountThreshold: 100 })),
    );
    expect(oneAddress.filter((r) => r.granted)).toHaveLength(3);
    // In flight, not yet concluded: the refusals are "busy".
    expect(oneAddress.filter((r) => !r.granted && r.busy)).toHaveLength(9);
    const manyAddresses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.reserveLoginAttempt({ usernameKey: 'cat', clientIp: `198.51.100.${i}`, accountId: id }, AT, { ...LIMITS, accountThreshold: 8 })),
    );
    expect(manyAddresses.filter((r) => r.granted)).toHaveLength(5);
    expect(manyAddresses.filter((r) => r.granted && r.accountLockedUntil === AT + 100)).toHaveLength(1);
  });

  it('answers a token with its session and account in one lookup, every field as written', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    const session = sessionOf(account, 'session-1');
    await store.createSession(session, { hash: hash(1), kind: 'guid', createdAt: AT + 6 });
    expect(await store.findToken(hash(1))).toEqual({
      token: { hash: hash(1), sessionId: 'session-1', kind: 'guid', createdAt: AT + 6, retiredAt: null },
      session,
      account,
    });
    expect(await store.findSession('session-1')).toEqual(session);
    expect(await store.listSessions({})).toEqual([session]);
    expect(await store.findToken(hash(2))).toBeUndefined();
    await expect(store.createSession(sessionOf(account, 'session-1b'), { hash: hash(1), kind: 'guid', createdAt: AT })).rejects.toBeInstanceOf(UniqueViolation);
    // The failed session went with its token: all or nothing.
    expect(await store.findSession('session-1b')).toBeUndefined();

    await store.deleteAccount(account.id);
    expect(await store.findToken(hash(1))).toEqual({
      token: { hash: hash(1), sessionId: 'session-1', kind: 'guid', createdAt: AT + 6, retiredAt: null },
      session: { ...session, accountId: null },
      account: undefined,
    });
  });

  it('revokes by token hash: ended now, ended already, or an unknown token; concurrent log-outs end it once', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    await store.createSession(sessionOf(account, 'session-2'), { hash: hash(3), kind: 'jwt', createdAt: AT });
    expect(await store.revokeByToken(hash(3), AT + 20, 'logout')).toEqual({ sessionId: 'session-2', username: 'Ann', ended: true });
    expect(await store.revokeByToken(hash(3), AT + 30, 'logout')).toEqual({ sessionId: 'session-2', username: 'Ann', ended: false });
    expect(await store.findSession('session-2')).toMatchObject({ revokedAt: AT + 20, revokeReason: 'logout' });
    expect(await store.revokeByToken(hash(4), AT + 40, 'logout')).toBeUndefined();

    await store.createSession(sessionOf(account, 'session-2b'), { hash: hash(5), kind: 'jwt', createdAt: AT });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.revokeByToken(hash(5), AT + 50, 'logout')));
    expect(outcomes.filter((o) => o?.ended)).toHaveLength(1);
  });

  it('writes a use of a session: the last-seen time always, the idle expiry only when given one', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    await store.createSession(sessionOf(account, 'session-3'), { hash: hash(6), kind: 'guid', createdAt: AT });
    await store.useTokens([{ hash: hash(6), use: () => ({ lastSeenAt: AT + 50, idleExpiresAt: undefined }) }]);
    expect(await store.findSession('session-3')).toMatchObject({ lastSeenAt: AT + 50, idleExpiresAt: AT + 4000 });
    await store.useTokens([{ hash: hash(6), use: () => ({ lastSeenAt: AT + 60, idleExpiresAt: AT + 70 }) }]);
    expect(await store.findSession('session-3')).toMatchObject({ lastSeenAt: AT + 60, idleExpiresAt: AT + 70 });
  });

  it('uses tokens in one call: each lookup, then the use its answer asks for, or none, until one says stop', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    const session = sessionOf(account, 'session-u');
    await store.createSession(session, { hash: hash(40), kind: 'cookie', createdAt: AT + 6 });
    const token = { hash: hash(40), sessionId: 'session-u', kind: 'cookie', createdAt: AT + 6, retiredAt: null };
    const seen: unknown[] = [];

    // The use is decided from the row as it was before it: here the last-seen time and the idle expiry.
    const [moved] = await store.useTokens([
      {
        hash: hash(40),
        use: (found) => {
          seen.push(found);
          return { lastSeenAt: AT + 100, idleExpiresAt: AT + 3100 };
        },
      },
    ]);
    expect(seen).toEqual([{ token, session, account }]);
    expect(moved).toEqual({ token, session, account, used: { lastSeenAt: AT + 100, idleExpiresAt: AT + 3100 } });
    expect(await store.findSession('session-u')).toEqual({ ...session, lastSeenAt: AT + 100, idleExpiresAt: AT + 3100 });

    // The last-seen time alone: the idle expiry stays.
    const [lastSeen] = await store.useTokens([{ hash: hash(40), use: () => ({ lastSeenAt: AT + 200, idleExpiresAt: undefined }) }]);
    expect(lastSeen?.used).toEqual({ lastSeenAt: AT + 200, idleExpiresAt: undefined });
    const afterUse = { ...session, lastSeenAt: AT + 200, idleExpiresAt: AT + 3100 };
    expect(await store.findSession('session-u')).toEqual(afterUse);

    // No use asked for: nothing written. An unknown token: undefined, and no use is asked for.
    const unasked = () => {
      throw new Error('a use asked for an unknown token');
    };
    expect(await store.useTokens([{ hash: hash(40), use: () => undefined }, { hash: hash(41), use: unasked }])).toEqual([
      { token, session: afterUse, account, used: undefined },
      undefined,
    ]);
    expect(await store.findSession('session-u')).toEqual(afterUse);

    // Two tokens, the second read after the first's use; a `next` that says no leaves the rest unread.
    const other = sessionOf(account, 'session-v');
    await store.createSession(other, { hash: hash(42), kind: 'guid', createdAt: AT + 7 });
    const nexts: unknown[] = [];
    const pair = await store.useTokens([
      { hash: hash(41), use: unasked, next: (found) => (nexts.push(found), true) },
      { hash: hash(42), use: () => ({ lastSeenAt: AT + 300, idleExpiresAt: undefined }) },
      { hash: hash(40), use: (found) => ({ lastSeenAt: found.session.lastSeenAt + 1, idleExpiresAt: undefined }), next: () => false },
      { hash: hash(42), use: unasked },
    ]);
    expect(nexts).toEqual([undefined]);
    expect(pair.map((p) => p?.used)).toEqual([undefined, { lastSeenAt: AT + 300, idleExpiresAt: undefined }, { lastSeenAt: AT + 201, idleExpiresAt: undefined }]);
    expect(await store.findSession('session-v')).toMatchObject({ lastSeenAt: AT + 300, idleExpiresAt: AT + 4000 });
    expect(await store.findSession('session-u')).toMatchObject({ lastSeenAt: AT + 201 });

    // Concurrent uses of one session: each answered, and one of them is what stays (a store may write them in
    // any order).
    const many = await Promise.all(
      [1, 2, 3].map((n) => store.useTokens([{ hash: hash(40), use: () => ({ lastSeenAt: AT + 400 + n, idleExpiresAt: AT + 3400 + n }) }])),
    );
    expect(many.map(([m]) => m?.used?.lastSeenAt)).toEqual([AT + 401, AT + 402, AT + 403]);
    const last = (await store.findSession('session-u'))!;
    expect([AT + 401, AT + 402, AT + 403]).toContain(last.lastSeenAt);
    expect(last.idleExpiresAt).toBe(last.lastSeenAt + 3000);
  });

  it('rotates a token: the new one added, the old retired (never later than before), nothing once revoked', async () => {
    const account = await store.createAccount(ACCOUNT, AT);
    await store.createSession(sessionOf(account, 's4'), { hash: hash(7), kind: 'guid', createdAt: AT });
    expect(await store.rotateToken(hash(7), { hash: hash(8), sessionId: 's4', kind: 'guid', createdAt: AT + 1 }, AT + 30, { lastSeenAt: AT + 1, idleExpiresAt: AT + 900 })).toBe(true);
    expect((await store.findToken(hash(7)))!.token.retiredAt).toBe(AT + 30);
    expect((await store.findToken(hash(8)))!.token).toEqual({ hash: hash(8), sessionId: 's4', kind: 'guid', createdAt: AT + 1, retiredAt: null });
    expect(await store.findSession('s4')).toMatchObject({ lastSeenAt: AT + 1, idleExpiresAt: AT + 900 });
    // Retiring again, later: the earlier retirement stands.
    expect(await store.rotateToken(hash(7), { hash: hash(9), sessionId: 's4', kind: 'guid', createdAt: AT + 2 }, AT + 60, { lastSeenAt: AT + 2, idleExpiresAt: AT + 901 })).toBe(true);
    expect((await store.findToken(hash(7)))!.token.retiredAt).toBe(AT + 30);

    expect(await store.revokeSession('s4', AT + 3, 'test')).toBe(true);
    expect(await store.revokeSession('s4', AT + 4, 'test')).toBe(false);
    expect(await store.revokeSession('nope', AT + 4, 'test')).toBe(false);
    expect(await store.rotateToken(hash(8), { hash: hash(10), sessionId: 's4', kind: 'guid', createdAt: AT + 5 }, AT + 5, { lastSeenAt: AT + 5, idleExpiresAt: AT + 902 })).toBe(false);
    expect(await store.findToken(hash(10))).toBeUndefined();
    expect((await store.findToken(hash(8)))!.token.retiredAt).toBeNull();
  });

  it("revokes an account's sessions (only those alive then, when asked), and lists and counts live ones", async () => {
    const ann = await store.createAccount(other('ann2'), AT);
    const bob = await store.createAccount(other('bob'), AT);
    await store.createSession(sessionOf(ann, 'a1', { createdAt: AT + 1 }), { hash: hash(11), kind: 'jwt', createdAt: AT });
    await store.createSession(sessionOf(ann, 'a2', { createdAt: AT + 2, idleExpiresAt: AT + 10 }), { hash: hash(12), kind: 'jwt', createdAt: AT });
    await store.createSession(sessionOf(bob, 'b1', { createdAt: AT + 3, door: 'zato' }), { hash: hash(13), kind: 'cookie', createdAt: AT });
    expect(await store.countLiveSessions(AT + 5)).toBe(3);
    expect(await store.countLiveSessions(AT + 20)).toBe(2);
    expect((await store.listSessions({ aliveAt: AT + 20 })).map((s) => s.id)).toEqual(['b1', 'a1']);
    expect((await store.listSessions({ username: 'ann2' })).map((s) => s.id)).toEqual(['a2', 'a1']);
    expect((await store.listSessions({ door: 'zato' })).map((s) => s.id)).toEqual(['b1']);
    expect((await store.listSessions({ limit: 1 })).map((s) => s.id)).toEqual(['b1']);

    expect(await store.revokeAccountSessions(ann.id, AT + 20, 'locked', AT + 20)).toEqual(['a1']);
    expect(await store.findSession('a2')).toMatchObject({ revokedAt: null });
    expect(await store.revokeAccountSessions(ann.id, AT + 21, 'deleted')).toEqual(['a2']);
    expect(await store.revokeAccountSessions(ann.id, AT + 22, 'deleted')).toEqual([]);
    expect(await store.findSession('a1')).toMatchObject({ revokedAt: AT + 20, revokeReason: 'locked' });
  });

  it('purges ended sessions (and their tokens) in batches, keeping live ones and recent endings', async () => {
    const ann = await store.createAccount(other('ann3'), AT);
    for (let i = 0; i < 7; i++) {
      await store.createSession(sessionOf(ann, `old-${i}`, { idleExpiresAt: AT + 10 }), { hash: hash(20 + i), kind: 'jwt', createdAt: AT });
    }
    await store.createSession(sessionOf(ann, 'revoked'), { hash: hash(30), kind: 'jwt', createdAt: AT });
    await store.revokeSession('revoked', AT + 5, 'test');
    await store.createSession(sessionOf(ann, 'recent', { idleExpiresAt: AT + 200 }), { hash: hash(31), kind: 'jwt', createdAt: AT });
    await store.createSession(sessionOf(ann, 'live'), { hash: hash(32), kind: 'jwt', createdAt: AT });
    let total = 0;
    for (;;) {
      const deleted = await store.purgeSessions(AT + 100, 3);
      expect(deleted).toBeLessThanOrEqual(3);
      total += deleted;
      if (deleted < 3) break;
    }
    expect(total).toBe(8);
    expect((await store.listSessions({})).map((s) => s.id).sort()).toEqual(['live', 'recent']);
    expect(await store.findToken(hash(20))).toBeUndefined();
    expect(await store.findToken(hash(32))).toBeDefined();
  });

  it('purges from several processes at once without deleting a session twice or leaving one behind', async () => {
    const ann = await store.createAccount(other('ann6'), AT);
    for (let i = 0; i < 60; i++) {
      await store.createSession(sessionOf(ann, `p${i}`, { idleExpiresAt: AT + 10 }), { hash: hash(100 + i), kind: 'jwt', createdAt: AT });
    }
    // Another node's store on the same database.
    const second = await openStore(parseStoreLocation(db, 2).location!, { busyTimeoutMs: 2000, synchronous: 'NORMAL' });
    try {
      const purgeAll = async (s: Store) => {
        let total = 0;
        for (let deleted = -1; deleted !== 0; ) total += deleted = await s.purgeSessions(AT + 100, 7);
        return total;
      };
      const [a, b] = await Promise.all([purgeAll(store), purgeAll(second)]);
      expect(a + b).toBe(60);
      expect(await store.listSessions({})).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('reserves throttle places per address and window up to the limit, concurrently, gives them back, forgets old windows', async () => {
    const granted = await Promise.all(Array.from({ length: 10 }, () => store.reserveThrottle('192.0.2.1', AT, 4)));
    expect(granted.filter(Boolean)).toHaveLength(4);
    expect(await store.reserveThrottle('192.0.2.2', AT, 4)).toBe(true);
    await store.releaseThrottle('192.0.2.1', AT);
    expect(await store.reserveThrottle('192.0.2.1', AT, 4)).toBe(true);
    expect(await store.reserveThrottle('192.0.2.1', AT, 4)).toBe(false);
    expect(await store.reserveThrottle('192.0.2.1', AT + 60_000, 4)).toBe(true);
    await store.forgetLoginAttempts(AT + 1);
    expect(await store.reserveThrottle('192.0.2.1', AT, 1)).toBe(true);
  });

  it('claims a nonce once, concurrently, until its record runs out, and forgets expired ones', async () => {
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claimNonce(hash(7), AT + 1000, AT)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claimNonce(hash(8), AT + 1000, AT)).toBe(true);
    expect(await store.claimNonce(hash(7), AT + 2000, AT + 999)).toBe(false);
    // Run out but not purged yet: good again, for the new period.
    expect(await store.claimNonce(hash(7), AT + 3000, AT + 1000)).toBe(true);
    expect(await store.claimNonce(hash(7), AT + 4000, AT + 2999)).toBe(false);
    await store.forgetNonces(AT + 3001);
    expect(await store.claimNonce(hash(7), AT + 5000, AT + 3001)).toBe(true);
    expect(await store.claimNonce(hash(8), AT + 5000, AT + 3001)).toBe(true);
  });

  it('tallies repeated events into one row, counts them as events, and purges old rows', async () => {
    const row = { cid: null, username: null, sessionId: null, door: 'zato', clientIp: '192.0.2.5', outcome: 'failed', detail: 'throttled' };
    await Promise.all(Array.from({ length: 7 }, () => store.tallyAudit({ ...row, at: AT, event: 'login' }, 'throttled 192.0.2.5 1')));
    await store.appendAudit({ ...row, at: AT + 1, event: 'login', detail: 'bad password' });
    const listed = await store.listAudit(10);
    expect(listed.map((r) => [r.detail, r.count])).toEqual([['bad password', 1], ['throttled', 7]]);
    expect(await store.countAudit(AT, 60_000)).toEqual([{ bucket: AT, event: 'login', outcome: 'failed', count: 8 }]);
    expect(await store.purgeAudit(AT + 1, 10)).toBe(1);
    expect((await store.listAudit(10)).map((r) => r.detail)).toEqual(['bad password']);
  });

  it('appends audit rows, lists the newest first and counts them by bucket, event and outcome', async () => {
    const row = { cid: 'K1', username: 'ann', sessionId: 's', door: 'zato', clientIp: '192.0.2.3', detail: 'why' };
    await store.appendAudit({ ...row, at: AT, event: 'login', outcome: 'ok' });
    await store.appendAudit({ ...row, at: AT + 1, event: 'login', outcome: 'failed' });
    await store.appendAudit({ ...row, at: AT + 61_000, event: 'login', outcome: 'ok', cid: null, detail: null });
    const listed = await store.listAudit(2);
    expect(listed).toEqual([
      { id: listed[0]!.id, ...row, at: AT + 61_000, event: 'login', outcome: 'ok', cid: null, detail: null, count: 1 },
      { id: listed[1]!.id, ...row, at: AT + 1, event: 'login', outcome: 'failed', count: 1 },
    ]);
    expect(listed[0]!.id).toBeGreaterThan(listed[1]!.id);
    expect(await store.countAudit(AT, 60_000)).toEqual([
      { bucket: AT, event: 'login', outcome: 'failed', count: 1 },
      { bucket: AT, event: 'login', outcome: 'ok', count: 1 },
      { bucket: AT + 60_000, event: 'login', outcome: 'ok', count: 1 },
    ]);
  });

  it('finds audit rows by part of a name in any case, event, outcome, time range and page, every field as written', async () => {
    const row = (at: number, username: string | null, event: string, outcome: string) => ({
      at,
      cid: `K${at}`,
      event,
      username,
      sessionId: `s${at}`,
      door: 'crafter',
      clientIp: '192.0.2.9',
      outcome,
      detail: `d${at}`,
    });
    const rows = [row(AT, 'Carol', 'login', 'ok'), row(AT + 1, 'carol', 'login', 'failed'), row(AT + 2, null, 'login', 'failed'), row(AT + 3, 'oscar', 'logout', 'ok')];
    for (const r of rows) await store.appendAudit(r);
    const ids = (await store.listAudit(10)).map((r) => r.id).reverse();
    const stored = rows.map((r, i) => ({ id: ids[i], ...r, count: 1 }));

    expect(await store.findAudit({ limit: 10 })).toEqual([...stored].reverse());
    expect(await store.findAudit({ usernamePart: 'CAR', limit: 10 })).toEqual([stored[3], stored[1], stored[0]]);
    expect(await store.findAudit({ usernamePart: 'car', outcome: 'failed', limit: 10 })).toEqual([stored[1]]);
    expect(await store.findAudit({ event: 'login', from: AT + 1, to: AT + 3, limit: 10 })).toEqual([stored[2], stored[1]]);
    expect(await store.findAudit({ limit: 2 })).toEqual([stored[3], stored[2]]);
    expect(await store.findAudit({ beforeId: stored[2]!.id, limit: 2 })).toEqual([stored[1], stored[0]]);
    expect(await store.findAudit({ usernamePart: '%', limit: 10 })).toEqual([]);
    expect(await store.countAuditMatching({})).toBe(4);
    expect(await store.countAuditMatching({ usernamePart: 'car' })).toBe(3);
    expect(await store.countAuditMatching({ outcome: 'failed', to: AT + 2 })).toBe(1);

    const session = sessionOf(await store.createAccount(ACCOUNT, AT), 'session-1');
    await store.createSession(session, { hash: hash(3), kind: 'cookie', createdAt: AT });
    expect((await store.listSessions({ usernamePart: 'aN' })).map((s) => s.id)).toEqual(['session-1']);
    expect(await store.listSessions({ usernamePart: 'x' })).toEqual([]);
  });

  it('keeps audit rows appended at once, each one and in order, and uses of many sessions at once', async () => {
    const row = { cid: null, username: 'ann', sessionId: null, door: 'zato', clientIp: null, outcome: 'ok', detail: null };
    await Promise.all(Array.from({ length: 25 }, (_, i) => store.appendAudit({ ...row, at: AT + i, event: `e${i}` })));
    expect((await store.listAudit(100)).map((r) => r.event)).toEqual(Array.from({ length: 25 }, (_, i) => `e${24 - i}`));

    const ann = await store.createAccount(other('ann5'), AT);
    for (let i = 0; i < 6; i++) await store.createSession(sessionOf(ann, `t${i}`), { hash: hash(60 + i), kind: 'jwt', createdAt: AT });
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        store.useTokens([{ hash: hash(60 + i), use: () => ({ lastSeenAt: AT + 100 + i, idleExpiresAt: i % 2 === 0 ? AT + 9000 + i : undefined }) }]),
      ),
    );
    for (let i = 0; i < 6; i++) {
      expect(await store.findSession(`t${i}`)).toMatchObject({ lastSeenAt: AT + 100 + i, idleExpiresAt: i % 2 === 0 ? AT + 9000 + i : AT + 4000 });
    }
  });

  it('keeps the first secret stored under a name, even when several ask at once', async () => {
    const answers = await Promise.all(['a', 'b', 'c', 'd'].map((v) => store.secret('jwt', v)));
    expect(new Set(answers).size).toBe(1);
    expect(await store.secret('jwt', 'later')).toBe(answers[0]);
    expect(await store.secret('other', 'x')).toBe('x');
  });

  it('commits a unit of work whole, or none of it', async () => {
    const ann = await store.createAccount(other('ann4'), AT);
    await store.createSession(sessionOf(ann, 'u1'), { hash: hash(40), kind: 'jwt', createdAt: AT });
    const audit = { at: AT, cid: null, event: 'account-delete', username: 'ann4', sessionId: null, door: 'cli', clientIp: null, outcome: 'ok', detail: null };
    // The last write breaks a rule (a duplicate token): the revocation and the new audit row before it go too.
    await expect(
      store.atomically([
        { write: 'revokeAccountSessions', accountId: ann.id, at: AT + 1, reason: 'account deleted' },
        { write: 'appendAudit', row: audit },
        { write: 'createSession', session: sessionOf(ann, 'u2'), token: { hash: hash(40), kind: 'jwt', createdAt: AT } },
      ]),
    ).rejects.toBeInstanceOf(UniqueViolation);
    expect(await store.findSession('u1')).toMatchObject({ revokedAt: null });
    expect(await store.findSession('u2')).toBeUndefined();
    expect(await store.listAudit(10)).toEqual([]);

    await store.atomically([
      { write: 'revokeAccountSessions', accountId: ann.id, at: AT + 1, reason: 'account deleted' },
      { write: 'deleteAccount', id: ann.id },
      { write: 'appendAudit', row: audit },
    ]);
    expect(await store.findSession('u1')).toMatchObject({ revokedAt: AT + 1, accountId: null });
    expect(await store.findAccountById(ann.id)).toBeUndefined();
    expect(await store.listAudit(10)).toHaveLength(1);
  });

  it('answers its health probe', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
