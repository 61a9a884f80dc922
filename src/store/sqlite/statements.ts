import type Database from 'better-sqlite3';
import type {
  LockoutLimits,
  LoginAttempt,
  Reservation,
  SessionRow,
  StoreWrite,
  TokenRow,
} from '../types';
import { Refused } from './errors';
import { ACCOUNT_FIELDS, ACCOUNT_COLUMNS, AUDIT_MATCHES, SESSION_COLUMNS } from './rows';

/** Every statement the store runs, prepared once when it opens (rows read as arrays: see rows.ts). */
export function prepareStatements(db: Database.Database) {
  return {
    insertAccount: db.prepare(
      `INSERT INTO accounts (username, username_key, name, password_hash, role, is_active, first_name, last_name,
         email, customer_key, ttl, created_at, updated_at)
       VALUES (@username, @usernameKey, @name, @passwordHash, @role, @isActive, @firstName, @lastName,
         @email, @customerKey, @ttl, @now, @now)
       RETURNING ${ACCOUNT_FIELDS.join(', ')}`,
    ).raw(),
    accountById: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?`).raw(),
    accountByUsernameKey: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.username_key = ?`).raw(),
    accountByName: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.name = ?`).raw(),
    allAccounts: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a ORDER BY a.id`).raw(),
    matchingAccounts: db
      .prepare(
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts a
         WHERE instr(a.name, @query) > 0 OR instr(a.username, @query) > 0 ORDER BY a.id`,
      )
      .raw(),
    countAccounts: db.prepare('SELECT count(*) AS n FROM accounts'),
    deleteAccount: db.prepare('DELETE FROM accounts WHERE id = ?'),
    // The address count: one conditional upsert, so the check and the count are one write. A row whose lock
    // is still on is left alone and returns nothing: the attempt is refused.
    reserveAddress: db.prepare(
      `INSERT INTO login_failures (username_key, client_ip, failures, pending, locked_until, last_at)
       VALUES (@usernameKey, @clientIp, 1, 1, CASE WHEN 1 >= @addressThreshold THEN @lockUntil END, @now)
       ON CONFLICT (username_key, client_ip) DO UPDATE SET
         failures = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failures + 1 END,
         pending = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE pending + 1 END,
         locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failures + 1 END) >= @addressThreshold
                        THEN @lockUntil END,
         last_at = @now
       WHERE locked_until IS NULL OR locked_until <= @now
       RETURNING failures`,
    ),
    // The account-wide count, in a window that starts at its first failure; likewise refused while locked.
    reserveAccount: db.prepare(
      `UPDATE accounts SET
         failed_logins = CASE WHEN failures_since IS NULL OR failures_since <= @windowStart THEN 1 ELSE failed_logins + 1 END,
         failures_since = CASE WHEN failures_since IS NULL OR failures_since <= @windowStart THEN @now ELSE failures_since END,
         locked_until = CASE
           WHEN (CASE WHEN failures_since IS NULL OR failures_since <= @windowStart THEN 1 ELSE failed_logins + 1 END) >= @accountThreshold
           THEN @lockUntil ELSE locked_until END
       WHERE id = @accountId AND (locked_until IS NULL OR locked_until <= @now)
       RETURNING failed_logins, locked_until`,
    ),
    // Locked only by attempts still in flight (and none stale): worth asking again once they conclude.
    addressBusy: db.prepare(
      `SELECT 1 FROM login_failures
       WHERE username_key = @usernameKey AND client_ip = @clientIp AND locked_until > @now
         AND failures - pending < @addressThreshold AND last_at > @now - 60000`,
    ),
    concludeFailure: db.prepare(
      'UPDATE login_failures SET pending = max(pending - 1, 0) WHERE username_key = ? AND client_ip = ?',
    ),
    clearAddress: db.prepare('DELETE FROM login_failures WHERE username_key = ? AND client_ip = ?'),
    giveBackAccount: db.prepare(
      `UPDATE accounts SET failed_logins = max(failed_logins - 1, 0),
         failures_since = CASE WHEN failed_logins <= 1 THEN NULL ELSE failures_since END,
         locked_until = CASE WHEN locked_until = @lockedByAttempt THEN NULL ELSE locked_until END
       WHERE id = @accountId`,
    ),
    unlockAccount: db.prepare(
      'UPDATE accounts SET failed_logins = 0, failures_since = NULL, locked_until = NULL, updated_at = ? WHERE id = ?',
    ),
    clearAddressesOf: db.prepare('DELETE FROM login_failures WHERE username_key = ?'),
    addressLocks: db.prepare(
      `SELECT username_key AS usernameKey, client_ip AS clientIp, failures, locked_until AS lockedUntil
       FROM login_failures WHERE locked_until > ? ORDER BY username_key, client_ip`,
    ),
    forgetFailures: db.prepare(
      'DELETE FROM login_failures WHERE last_at < @before AND (locked_until IS NULL OR locked_until <= @before)',
    ),
    setLock: db.prepare('UPDATE accounts SET locked_until = ?, failed_logins = 0, failures_since = NULL, updated_at = ? WHERE id = ?'),
    replaceHash: db.prepare('UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?'),
    insertSession: db.prepare(
      `INSERT INTO sessions (id, account_id, username, door, created_at, last_seen_at, idle_ttl, idle_expires_at,
         absolute_expires_at, client_ip, user_agent)
       VALUES (@id, @accountId, @username, @door, @createdAt, @lastSeenAt, @idleTtl, @idleExpiresAt,
         @absoluteExpiresAt, @clientIp, @userAgent)`,
    ),
    insertToken: db.prepare(
      'INSERT INTO tokens (hash, session_id, kind, created_at, retired_at) VALUES (?, ?, ?, ?, ?)',
    ),
    // One statement rather than a read for each table: the lookup is on every hot path.
    tokenWithAccount: db
      .prepare(
        `SELECT t.kind, t.created_at, t.retired_at, ${SESSION_COLUMNS}, ${ACCOUNT_COLUMNS}
         FROM tokens t JOIN sessions s ON s.id = t.session_id LEFT JOIN accounts a ON a.id = s.account_id
         WHERE t.hash = ?`,
      )
      .raw(),
    revokeTokenSession: db.prepare(
      `UPDATE sessions SET revoked_at = ?, revoke_reason = ?
       WHERE id = (SELECT session_id FROM tokens WHERE hash = ?) AND revoked_at IS NULL
       RETURNING id, username`,
    ),
    tokenSessionName: db.prepare(
      'SELECT s.id, s.username FROM tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?',
    ),
    touchSession: db.prepare('UPDATE sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ?'),
    // idle_expires_at left out of SET: only the indexes of the columns SET names are rewritten.
    touchLastSeen: db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id = ?'),
    touchLiveSession: db.prepare(
      'UPDATE sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ? AND revoked_at IS NULL',
    ),
    retireToken: db.prepare(
      'UPDATE tokens SET retired_at = min(coalesce(retired_at, @at), @at) WHERE hash = @hash',
    ),
    revokeSession: db.prepare(
      'UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL',
    ),
    revokeAccountSessions: db.prepare(
      `UPDATE sessions SET revoked_at = @at, revoke_reason = @reason
       WHERE account_id = @accountId AND revoked_at IS NULL
         AND (@aliveAt IS NULL OR (idle_expires_at > @aliveAt AND absolute_expires_at > @aliveAt))
       RETURNING id`,
    ),
    sessionById: db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = ?`).raw(),
    listSessions: db
      .prepare(
        `SELECT ${SESSION_COLUMNS} FROM sessions s
         WHERE (@username IS NULL OR s.username = @username)
           AND (@usernamePart IS NULL OR instr(lower(s.username), lower(@usernamePart)) > 0)
           AND (@door IS NULL OR s.door = @door)
           AND (@aliveAt IS NULL OR (s.revoked_at IS NULL AND s.idle_expires_at > @aliveAt
                                     AND s.absolute_expires_at > @aliveAt))
         ORDER BY s.created_at DESC, s.id
         LIMIT @limit`,
      )
      .raw(),
    countLive: db.prepare(
      `SELECT count(*) AS n FROM sessions
       WHERE idle_expires_at > @now AND absolute_expires_at > @now AND revoked_at IS NULL`,
    ),
    // One statement per way of ending, each walking its own index and stopping at the limit, so a batch
    // costs the same however large the table or the backlog. (A UNION of the three, or one WHERE with OR,
    // gathers every ended session before the limit applies, or scans the whole table, on every batch.)
    purgeByRevocation: db.prepare(
      'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE revoked_at < @before LIMIT @batch)',
    ),
    purgeByIdleExpiry: db.prepare(
      'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE idle_expires_at < @before LIMIT @batch)',
    ),
    purgeByAbsoluteExpiry: db.prepare(
      'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE absolute_expires_at < @before LIMIT @batch)',
    ),
    reserveThrottle: db.prepare(
      `INSERT INTO login_attempts (client_ip, window_start, attempts) VALUES (@clientIp, @windowStart, 1)
       ON CONFLICT (client_ip, window_start) DO UPDATE SET attempts = attempts + 1 WHERE attempts < @limit
       RETURNING attempts`,
    ),
    releaseThrottle: db.prepare(
      'UPDATE login_attempts SET attempts = attempts - 1 WHERE client_ip = ? AND window_start = ? AND attempts > 0',
    ),
    forgetAttempts: db.prepare('DELETE FROM login_attempts WHERE window_start < ?'),
    insertAudit: db.prepare(
      `INSERT INTO audit (at, cid, event, username, session_id, door, client_ip, outcome, detail)
       VALUES (@at, @cid, @event, @username, @sessionId, @door, @clientIp, @outcome, @detail)`,
    ),
    tallyAudit: db.prepare(
      `INSERT INTO audit (at, cid, event, username, session_id, door, client_ip, outcome, detail, count, tally_key)
       VALUES (@at, @cid, @event, @username, @sessionId, @door, @clientIp, @outcome, @detail, 1, @tallyKey)
       ON CONFLICT (tally_key) WHERE tally_key IS NOT NULL DO UPDATE SET count = count + 1`,
    ),
    purgeAudit: db.prepare('DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < @before ORDER BY at LIMIT @batch)'),
    listAudit: db.prepare(
      `SELECT id, at, cid, event, username, session_id AS sessionId, door, client_ip AS clientIp, outcome, detail, count
       FROM audit ORDER BY id DESC LIMIT ?`,
    ),
    findAudit: db.prepare(
      `SELECT id, at, cid, event, username, session_id AS sessionId, door, client_ip AS clientIp, outcome, detail, count
       FROM audit WHERE ${AUDIT_MATCHES} AND (@beforeId IS NULL OR id < @beforeId)
       ORDER BY id DESC LIMIT @limit`,
    ),
    countAuditMatching: db.prepare(`SELECT count(*) AS n FROM audit WHERE ${AUDIT_MATCHES}`),
    // A row only when the nonce is new, or its record had run out (not purged yet).
    claimNonce: db.prepare(
      `INSERT INTO nonces (hash, expires_at) VALUES (@hash, @expiresAt)
       ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= @now
       RETURNING 1`,
    ),
    forgetNonces: db.prepare('DELETE FROM nonces WHERE expires_at < ?'),
    countAudit: db.prepare(
      `SELECT at - at % CAST(@bucketMs AS INTEGER) AS bucket, event, outcome, sum(count) AS count
       FROM audit WHERE at >= @since
       GROUP BY bucket, event, outcome
       ORDER BY bucket, event, outcome`,
    ),
    getSecret: db.prepare('SELECT value FROM secrets WHERE name = ?'),
    insertSecret: db.prepare('INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
    healthProbe: db.prepare(
      'INSERT INTO health (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at',
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** Several statements that stand or fall together; made once (inside a batch they run as savepoints). */
export function prepareTransactions(db: Database.Database, sql: Statements) {
  const createSession = db.transaction((session: SessionRow, token: Omit<TokenRow, 'sessionId' | 'retiredAt'>) => {
    sql.insertSession.run(session);
    sql.insertToken.run(token.hash, session.id, token.kind, token.createdAt, null);
  });
  return {
    createSession,
    rotateToken: db.transaction(
      (previousHash: Buffer, next: Omit<TokenRow, 'retiredAt'>, retireAt: number, touch: { lastSeenAt: number; idleExpiresAt: number }) => {
        if (sql.touchLiveSession.run(touch.lastSeenAt, touch.idleExpiresAt, next.sessionId).changes === 0) return false;
        sql.retireToken.run({ at: retireAt, hash: previousHash });
        sql.insertToken.run(next.hash, next.sessionId, next.kind, next.createdAt, null);
        return true;
      },
    ),
    unitOfWork: db.transaction((writes: readonly StoreWrite[]) => {
      for (const w of writes) {
        if (w.write === 'createSession') createSession(w.session, w.token);
        else if (w.write === 'revokeAccountSessions') sql.revokeAccountSessions.all({ at: w.at, reason: w.reason, accountId: w.accountId, aliveAt: w.aliveAt ?? null });
        else if (w.write === 'deleteAccount') sql.deleteAccount.run(w.id);
        else sql.insertAudit.run(w.row);
      }
    }),
    reserveLoginAttempt: db.transaction((attempt: LoginAttempt, now: number, limits: LockoutLimits): Reservation => {
      const lockUntil = now + limits.windowMs;
      const key = { usernameKey: attempt.usernameKey, clientIp: attempt.clientIp, now, addressThreshold: limits.addressThreshold };
      const address = sql.reserveAddress.get({ ...key, lockUntil }) as { failures: number } | undefined;
      if (!address) throw new Refused(sql.addressBusy.get(key) !== undefined);
      if (attempt.accountId === null) {
        return { granted: true, addressFailures: address.failures, accountFailures: 0, accountLockedUntil: null };
      }
      const account = sql.reserveAccount.get({
        accountId: attempt.accountId,
        now,
        windowStart: now - limits.windowMs,
        accountThreshold: limits.accountThreshold,
        lockUntil,
      }) as { failed_logins: number; locked_until: number | null } | undefined;
      // Thrown, so the transaction (a savepoint inside a batch) takes the address count back too.
      if (!account) throw new Refused(false);
      return {
        granted: true,
        addressFailures: address.failures,
        accountFailures: account.failed_logins,
        accountLockedUntil: account.failed_logins >= limits.accountThreshold && account.locked_until === lockUntil ? lockUntil : null,
      };
    }),
    clearLoginFailures: db.transaction((attempt: LoginAttempt, reservation: Reservation) => {
      sql.clearAddress.run(attempt.usernameKey, attempt.clientIp);
      if (attempt.accountId !== null && reservation.granted) {
        sql.giveBackAccount.run({ accountId: attempt.accountId, lockedByAttempt: reservation.accountLockedUntil });
      }
    }),
    unlockAccount: db.transaction((id: number, usernameKey: string, now: number) => {
      sql.unlockAccount.run(now, id);
      sql.clearAddressesOf.run(usernameKey);
    }),
    purgeSessions: db.transaction((before: number, batch: number) => {
      let deleted = 0;
      for (const purge of [sql.purgeByRevocation, sql.purgeByIdleExpiry, sql.purgeByAbsoluteExpiry]) {
        deleted += purge.run({ before, batch: batch - deleted }).changes;
        if (deleted >= batch) break;
      }
      return deleted;
    }),
  };
}
