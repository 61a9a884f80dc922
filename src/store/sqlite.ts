import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreFault, UniqueViolation } from './errors';
import { FileIdentity } from './file-identity';
import { Checkpointer } from './checkpointer';
import { GroupCommit } from './group-commit';
import { migrations } from './migrations';
import { createPrivateFile, makePrivateDirectory } from './private-files';
import type {
  AccountChanges,
  AccountRow,
  AddressLock,
  AuditCount,
  AuditPage,
  AuditQuery,
  AuditRow,
  LockoutLimits,
  LoginAttempt,
  NewAccount,
  Reservation,
  RevokedByToken,
  Role,
  SessionFilter,
  SessionRow,
  Store,
  StoredAuditRow,
  StoreWrite,
  TokenKind,
  TokenRow,
} from './types';

export interface SqliteOptions {
  path: string;
  /** NORMAL survives a process crash; FULL also survives power loss (README, Operations). */
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  /**
   * Checkpoint the write-ahead log from a thread of its own this often, instead of in whichever commit
   * fills it (a server's; a short CLI command leaves it to SQLite).
   */
  checkpointEveryMs?: number;
  /** Open only a database that exists: create neither the file nor its directory (CLI commands). */
  mustExist?: boolean;
}

/**
 * Opens (and creates, owner-only, with its directory) the database, then brings its schema up to date.
 */
export function openSqliteStore(options: SqliteOptions): SqliteStore {
  if (options.path !== ':memory:' && !options.mustExist) {
    makeDirectories(dirname(options.path));
    createPrivateFile(options.path);
  }
  let db: Database.Database;
  try {
    db = new Database(options.path, { fileMustExist: Boolean(options.mustExist) });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    migrate(db);
  } catch (err) {
    throw translate(err, `cannot open ${options.path}`);
  }
  if (options.path === ':memory:') return new SqliteStore(db);
  let checkpointer: Checkpointer | undefined;
  if (options.checkpointEveryMs !== undefined) {
    db.pragma('wal_autocheckpoint = 0');
    checkpointer = new Checkpointer(options.path, options.checkpointEveryMs, options.busyTimeoutMs, () => {
      if (db.open) db.pragma('wal_autocheckpoint = 1000'); // SQLite's default: commits checkpoint again
    });
  }
  return new SqliteStore(db, new FileIdentity(options.path), checkpointer);
}

/**
 * Creates `dir` and its missing parents one level at a time, owner-only. (`mkdirSync(..., { recursive: true })`
 * can spin forever on some virtual file systems, /proc among them.)
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      if (!statSync(current).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new StoreFault(`cannot create the directory ${dir}: ${code ?? 'error'} at ${current}`);
      missing.unshift(current);
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  for (const level of missing) {
    try {
      makePrivateDirectory(level);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StoreFault(`cannot create the directory ${dir}: ${code ?? 'error'} at ${level}`);
    }
  }
}

function migrate(db: Database.Database): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > migrations.length) {
    throw new StoreFault(`the database schema (version ${applied}) is newer than this dualgate (version ${migrations.length})`);
  }
  if (applied === migrations.length) return;
  // Off while migrating, as a table rebuild needs (dropping the old table must not touch the rows that refer
  // to it); the references are checked before each migration commits.
  db.pragma('foreign_keys = OFF');
  try {
    for (let version = applied; version < migrations.length; version++) {
      const migration = migrations[version]!;
      db.transaction(() => {
        if (typeof migration === 'string') db.exec(migration);
        else migration(db);
        if ((db.pragma('foreign_key_check') as unknown[]).length > 0) throw new StoreFault(`migration ${version + 1} broke a reference`);
        db.pragma(`user_version = ${version + 1}`);
      }).immediate();
    }
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

/** SQLite's result codes, in the few words an operator or a 500 body may show. */
const FAULT_REASONS: Record<string, string> = {
  SQLITE_BUSY: 'database is locked',
  SQLITE_LOCKED: 'database is locked',
  SQLITE_READONLY: 'database is read-only',
  SQLITE_FULL: 'disk is full',
  SQLITE_CANTOPEN: 'database file cannot be opened',
  SQLITE_IOERR: 'database I/O error',
  SQLITE_CORRUPT: 'database is corrupt',
  SQLITE_NOTADB: 'file is not a database',
  SQLITE_PERM: 'database access denied',
};

function translate(err: unknown, context?: string): Error {
  if (err instanceof StoreFault || err instanceof UniqueViolation) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
    const column = /UNIQUE constraint failed: \w+\.(\w+)/.exec((err as Error).message)?.[1] ?? 'value';
    return new UniqueViolation(column);
  }
  if (typeof code === 'string') {
    const base = Object.keys(FAULT_REASONS).find((known) => code === known || code.startsWith(`${known}_`));
    const reason = base ? FAULT_REASONS[base]! : 'database error';
    return new StoreFault(context ? `${context}: ${reason}` : reason, { cause: err });
  }
  if (err instanceof TypeError && /not open/.test(err.message)) {
    return new StoreFault('database is closed', { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Thrown inside a reservation's transaction to roll its first count back when the second is refused. */
class Refused extends Error {
  constructor(readonly busy: boolean) {
    super('refused');
  }
}

/**
 * Rows are read as arrays, values in the order their statement selects them, and made into the store's types
 * by position: one object per row instead of SQLite's and then ours. Each `…_FIELDS` list and its reader
 * below go together, and a statement that selects them says where they start.
 */
type Columns = readonly unknown[];

const ACCOUNT_FIELDS = [
  'id', 'username', 'name', 'password_hash', 'role', 'is_active', 'first_name', 'last_name', 'email',
  'customer_key', 'ttl', 'failed_logins', 'locked_until', 'created_at', 'updated_at', 'username_key', 'failures_since',
] as const;
/** The account columns `accountAt` reads, of `accounts a`. */
const ACCOUNT_COLUMNS = ACCOUNT_FIELDS.map((column) => `a.${column}`).join(', ');

/** An account from `ACCOUNT_FIELDS`, starting at column `at`. */
const accountAt = (c: Columns, at: number): AccountRow => ({
  id: c[at] as number,
  username: c[at + 1] as string,
  name: c[at + 2] as string,
  passwordHash: c[at + 3] as string,
  role: c[at + 4] as Role,
  isActive: c[at + 5] === 1,
  firstName: c[at + 6] as string,
  lastName: c[at + 7] as string,
  email: c[at + 8] as string,
  customerKey: c[at + 9] as string,
  ttl: c[at + 10] as number | null,
  failedLogins: c[at + 11] as number,
  lockedUntil: c[at + 12] as number | null,
  createdAt: c[at + 13] as number,
  updatedAt: c[at + 14] as number,
  usernameKey: c[at + 15] as string,
  failuresSince: c[at + 16] as number | null,
});

const SESSION_FIELDS = [
  'id', 'account_id', 'username', 'door', 'created_at', 'last_seen_at', 'idle_ttl', 'idle_expires_at',
  'absolute_expires_at', 'revoked_at', 'revoke_reason', 'client_ip', 'user_agent',
] as const;
/** The session columns `sessionAt` reads, of `sessions s`. */
const SESSION_COLUMNS = SESSION_FIELDS.map((column) => `s.${column}`).join(', ');

/** A session from `SESSION_FIELDS`, starting at column `at`. */
const sessionAt = (c: Columns, at: number): SessionRow => ({
  id: c[at] as string,
  accountId: c[at + 1] as number | null,
  username: c[at + 2] as string,
  door: c[at + 3] as string,
  createdAt: c[at + 4] as number,
  lastSeenAt: c[at + 5] as number,
  idleTtl: c[at + 6] as number,
  idleExpiresAt: c[at + 7] as number,
  absoluteExpiresAt: c[at + 8] as number,
  revokedAt: c[at + 9] as number | null,
  revokeReason: c[at + 10] as string | null,
  clientIp: c[at + 11] as string | null,
  userAgent: c[at + 12] as string | null,
});

/** A token lookup reads the token's own columns, then its session's, then its account's. */
const TOKEN_SESSION_AT = 3;
const TOKEN_ACCOUNT_AT = TOKEN_SESSION_AT + SESSION_FIELDS.length;

const accountOrNone = (c: Columns | undefined): AccountRow | undefined => optional(c, (row) => accountAt(row, 0));

/** The conditions of an `AuditQuery`, each a no-op when its parameter is null. */
const AUDIT_MATCHES = `(@usernamePart IS NULL OR instr(lower(username), lower(@usernamePart)) > 0)
  AND (@event IS NULL OR event = @event) AND (@outcome IS NULL OR outcome = @outcome)
  AND (@from IS NULL OR at >= @from) AND (@to IS NULL OR at < @to)`;

const auditParams = (q: AuditQuery) => ({
  usernamePart: q.usernamePart ?? null,
  event: q.event ?? null,
  outcome: q.outcome ?? null,
  from: q.from ?? null,
  to: q.to ?? null,
});

/** Column names of `AccountChanges`, so an update statement can be built from a fixed list only. */
const CHANGEABLE_COLUMNS: Record<keyof AccountChanges, string> = {
  username: 'username',
  usernameKey: 'username_key',
  name: 'name',
  passwordHash: 'password_hash',
  role: 'role',
  isActive: 'is_active',
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  ttl: 'ttl',
};

export class SqliteStore implements Store {
  private readonly sql;
  /** Update statements by the set of columns they change, each prepared the first time it is needed. */
  private readonly accountUpdates = new Map<string, Database.Statement>();
  /** Every call's work goes through here: the calls of one event-loop turn share one transaction. */
  private readonly commits: GroupCommit;
  private readonly atomic;

  constructor(
    private readonly db: Database.Database,
    /** Whether the files at the database's path are still the ones open here (absent for `:memory:`). */
    private readonly files?: FileIdentity,
    private readonly checkpointer?: Checkpointer,
  ) {
    // A database file removed or replaced under us: writing on would write into a file nobody will read.
    this.commits = new GroupCommit(db, translate, () => {
      if (this.files?.fault) throw new StoreFault(this.files.fault);
    });
    this.sql = {
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
      // A row only when the nonce is new, or its record had run out (not purged yet).
      claimNonce: db.prepare(
        `INSERT INTO nonces (hash, expires_at) VALUES (@hash, @expiresAt)
         ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= @now
         RETURNING 1`,
      ),
      forgetNonces: db.prepare('DELETE FROM nonces WHERE expires_at < ?'),
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
    // Several statements that stand or fall together; made once (inside a batch they run as savepoints).
    const sql = this.sql;
    this.atomic = {
      createSession: db.transaction((session: SessionRow, token: Omit<TokenRow, 'sessionId' | 'retiredAt'>) => {
        sql.insertSession.run(session);
        sql.insertToken.run(token.hash, session.id, token.kind, token.createdAt, null);
      }),
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
          if (w.write === 'createSession') this.atomic.createSession(w.session, w.token);
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

  atomically(writes: readonly StoreWrite[]): Promise<void> {
    return this.commits.write(() => this.atomic.unitOfWork(writes));
  }

  createAccount(account: NewAccount, now: number): Promise<AccountRow> {
    return this.commits.write(() =>
      accountAt(this.sql.insertAccount.get({ ...account, isActive: account.isActive ? 1 : 0, now }) as Columns, 0),
    );
  }

  findAccountById(id: number): Promise<AccountRow | undefined> {
    return this.commits.read(() => accountOrNone(this.sql.accountById.get(id) as Columns | undefined));
  }

  findAccountByUsernameKey(usernameKey: string): Promise<AccountRow | undefined> {
    return this.commits.read(() => accountOrNone(this.sql.accountByUsernameKey.get(usernameKey) as Columns | undefined));
  }

  findAccountByName(name: string): Promise<AccountRow | undefined> {
    return this.commits.read(() => accountOrNone(this.sql.accountByName.get(name) as Columns | undefined));
  }

  listAccounts(query?: string): Promise<AccountRow[]> {
    return this.commits.read(() => {
      const rows = (query ? this.sql.matchingAccounts.all({ query }) : this.sql.allAccounts.all()) as Columns[];
      return rows.map((row) => accountAt(row, 0));
    });
  }

  countAccounts(): Promise<number> {
    return this.commits.read(() => (this.sql.countAccounts.get() as { n: number }).n);
  }

  updateAccount(id: number, changes: AccountChanges, now: number): Promise<void> {
    return this.commits.write(() => {
      const keys = (Object.keys(changes) as (keyof AccountChanges)[]).filter((k) => changes[k] !== undefined).sort();
      if (keys.length === 0) return;
      const signature = keys.join(',');
      let statement = this.accountUpdates.get(signature);
      if (!statement) {
        const assignments = keys.map((k) => `${CHANGEABLE_COLUMNS[k]} = @${k}`).join(', ');
        statement = this.db.prepare(`UPDATE accounts SET ${assignments}, updated_at = @now WHERE id = @id`);
        this.accountUpdates.set(signature, statement);
      }
      const values: Record<string, unknown> = { id, now };
      for (const k of keys) values[k] = k === 'isActive' ? (changes[k] ? 1 : 0) : changes[k];
      statement.run(values);
    });
  }

  deleteAccount(id: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.deleteAccount.run(id);
    });
  }

  reserveLoginAttempt(attempt: LoginAttempt, now: number, limits: LockoutLimits): Promise<Reservation> {
    return this.commits.write(() => {
      try {
        return this.atomic.reserveLoginAttempt(attempt, now, limits);
      } catch (err) {
        if (err instanceof Refused) return { granted: false, busy: err.busy } as const;
        throw err;
      }
    });
  }

  concludeLoginFailure(attempt: LoginAttempt): Promise<void> {
    return this.commits.write(() => {
      this.sql.concludeFailure.run(attempt.usernameKey, attempt.clientIp);
    });
  }

  clearLoginFailures(attempt: LoginAttempt, reservation: Reservation): Promise<void> {
    return this.commits.write(() => this.atomic.clearLoginFailures(attempt, reservation));
  }

  unlockAccount(id: number, usernameKey: string, now: number): Promise<void> {
    return this.commits.write(() => this.atomic.unlockAccount(id, usernameKey, now));
  }

  listAddressLocks(now: number): Promise<AddressLock[]> {
    return this.commits.read(() => this.sql.addressLocks.all(now) as AddressLock[]);
  }

  forgetLoginFailures(before: number): Promise<number> {
    return this.commits.write(() => this.sql.forgetFailures.run({ before }).changes);
  }

  replacePasswordHash(id: number, previous: string, next: string, now: number): Promise<boolean> {
    return this.commits.write(() => this.sql.replaceHash.run(next, now, id, previous).changes > 0);
  }

  setLock(id: number, lockedUntil: number | null, now: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.setLock.run(lockedUntil, now, id);
    });
  }

  createSession(session: SessionRow, token: Omit<TokenRow, 'sessionId' | 'retiredAt'>): Promise<void> {
    return this.commits.write(() => this.atomic.createSession(session, token));
  }

  findToken(hash: Buffer): Promise<{ token: TokenRow; session: SessionRow; account: AccountRow | undefined } | undefined> {
    return this.commits.read(() => {
      const row = this.sql.tokenWithAccount.get(hash) as Columns | undefined;
      if (!row) return undefined;
      const session = sessionAt(row, TOKEN_SESSION_AT);
      const token: TokenRow = {
        hash,
        sessionId: session.id,
        kind: row[0] as TokenKind,
        createdAt: row[1] as number,
        retiredAt: row[2] as number | null,
      };
      // A LEFT JOIN's missing account reads as nulls; an account's id never is null.
      const account = row[TOKEN_ACCOUNT_AT] === null ? undefined : accountAt(row, TOKEN_ACCOUNT_AT);
      return { token, session, account };
    });
  }

  touchSession(id: string, lastSeenAt: number, idleExpiresAt: number | undefined): Promise<void> {
    return this.commits.write(() => {
      if (idleExpiresAt === undefined) this.sql.touchLastSeen.run(lastSeenAt, id);
      else this.sql.touchSession.run(lastSeenAt, idleExpiresAt, id);
    });
  }

  rotateToken(
    previousHash: Buffer,
    next: Omit<TokenRow, 'retiredAt'>,
    retireAt: number,
    touch: { lastSeenAt: number; idleExpiresAt: number },
  ): Promise<boolean> {
    return this.commits.write(() => this.atomic.rotateToken(previousHash, next, retireAt, touch));
  }

  revokeByToken(hash: Buffer, at: number, reason: string): Promise<RevokedByToken | undefined> {
    return this.commits.write(() => {
      const revoked = this.sql.revokeTokenSession.get(at, reason, hash) as { id: string; username: string } | undefined;
      if (revoked) return { sessionId: revoked.id, username: revoked.username, ended: true };
      // Not revoked now: the session had ended already, or the token is unknown.
      const known = this.sql.tokenSessionName.get(hash) as { id: string; username: string } | undefined;
      return known && { sessionId: known.id, username: known.username, ended: false };
    });
  }

  revokeSession(id: string, at: number, reason: string): Promise<boolean> {
    return this.commits.write(() => this.sql.revokeSession.run(at, reason, id).changes > 0);
  }

  revokeAccountSessions(accountId: number, at: number, reason: string, aliveAt?: number): Promise<string[]> {
    return this.commits.write(() =>
      (this.sql.revokeAccountSessions.all({ at, reason, accountId, aliveAt: aliveAt ?? null }) as { id: string }[]).map((r) => r.id),
    );
  }

  findSession(id: string): Promise<SessionRow | undefined> {
    return this.commits.read(() => optional(this.sql.sessionById.get(id) as Columns | undefined, (row) => sessionAt(row, 0)));
  }

  listSessions(filter: SessionFilter): Promise<SessionRow[]> {
    return this.commits.read(() =>
      (
        this.sql.listSessions.all({
          username: filter.username ?? null,
          usernamePart: filter.usernamePart ?? null,
          door: filter.door ?? null,
          aliveAt: filter.aliveAt ?? null,
          limit: filter.limit ?? -1,
        }) as Columns[]
      ).map((row) => sessionAt(row, 0)),
    );
  }

  countLiveSessions(now: number): Promise<number> {
    return this.commits.read(() => (this.sql.countLive.get({ now }) as { n: number }).n);
  }

  purgeSessions(before: number, batch: number): Promise<number> {
    return this.commits.write(() => this.atomic.purgeSessions(before, batch));
  }

  reserveThrottle(clientIp: string, windowStart: number, limit: number): Promise<boolean> {
    return this.commits.write(() => this.sql.reserveThrottle.get({ clientIp, windowStart, limit }) !== undefined);
  }

  releaseThrottle(clientIp: string, windowStart: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.releaseThrottle.run(clientIp, windowStart);
    });
  }

  forgetLoginAttempts(before: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.forgetAttempts.run(before);
    });
  }

  claimNonce(hash: Buffer, expiresAt: number, now: number): Promise<boolean> {
    return this.commits.write(() => this.sql.claimNonce.get({ hash, expiresAt, now }) !== undefined);
  }

  forgetNonces(before: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.forgetNonces.run(before);
    });
  }

  appendAudit(row: AuditRow): Promise<void> {
    return this.commits.write(() => {
      this.sql.insertAudit.run(row);
    });
  }

  tallyAudit(row: AuditRow, tallyKey: string): Promise<void> {
    return this.commits.write(() => {
      this.sql.tallyAudit.run({ ...row, tallyKey });
    });
  }

  purgeAudit(before: number, batch: number): Promise<number> {
    return this.commits.write(() => this.sql.purgeAudit.run({ before, batch }).changes);
  }

  listAudit(limit: number): Promise<StoredAuditRow[]> {
    return this.commits.read(() => this.sql.listAudit.all(limit) as StoredAuditRow[]);
  }

  findAudit(page: AuditPage): Promise<StoredAuditRow[]> {
    const params = { ...auditParams(page), beforeId: page.beforeId ?? null, limit: page.limit };
    return this.commits.read(() => this.sql.findAudit.all(params) as StoredAuditRow[]);
  }

  countAuditMatching(query: AuditQuery): Promise<number> {
    return this.commits.read(() => (this.sql.countAuditMatching.get(auditParams(query)) as { n: number }).n);
  }

  countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    return this.commits.read(() => this.sql.countAudit.all({ since, bucketMs }) as AuditCount[]);
  }

  secret(name: string, value: string): Promise<string> {
    return this.commits.write(() => {
      this.sql.insertSecret.run(name, value);
      return (this.sql.getSecret.get(name) as { value: string }).value;
    });
  }

  /**
   * Health: the database file is still the one open here, its file system has room, and a write commits. A
   * `SELECT` would not notice a read-only or full disk, and a write rolled back never reaches the disk; one
   * small row rewritten does. The room is asked of the file system because SQLite reuses the log's space
   * after a checkpoint: on a full disk a small write can still commit while the next larger one fails.
   */
  async ping(): Promise<void> {
    if (this.files) {
      this.files.check();
      if ((await freeBytes(this.files.directory)) < MIN_FREE_BYTES) throw new StoreFault(FAULT_REASONS.SQLITE_FULL!);
    }
    return this.commits.write(() => {
      this.sql.healthProbe.run(Date.now());
    });
  }

  async backup(path: string): Promise<void> {
    try {
      await this.db.backup(path);
    } catch (err) {
      const translated = translate(err, `backup to ${path} failed`);
      // better-sqlite3 checks the target directory itself and throws a plain TypeError for it.
      throw translated instanceof StoreFault ? translated : new StoreFault(`backup to ${path} failed: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.files?.close();
    try {
      if (this.db.open) this.commits.drain();
    } finally {
      await this.checkpointer?.stop();
    }
    try {
      if (this.db.open) this.db.close();
    } catch (err) {
      throw translate(err);
    }
  }
}

/** Less free space than this, for an unprivileged writer, and health reports the disk full. */
const MIN_FREE_BYTES = 1024 * 1024;

/** Free bytes on the file system holding `directory`; Infinity when it cannot tell (the write probe still can). */
async function freeBytes(directory: string): Promise<number> {
  try {
    const { bavail, bsize } = await statfs(directory);
    return bavail * bsize;
  } catch {
    return Infinity;
  }
}

function optional<R, T>(record: R | undefined, map: (r: R) => T): T | undefined {
  return record === undefined ? undefined : map(record);
}
