import { Pool, types as pgTypes, type PoolClient, type QueryResult } from 'pg';
import { StoreFault, UniqueViolation } from './errors';
import { postgresMigrations } from './postgres-migrations';
import type {
  AccountChanges,
  AccountRow,
  AddressLock,
  AuditCount,
  AuditPage,
  AuditQuery,
  AuditRow,
  FoundToken,
  LockoutLimits,
  LoginAttempt,
  NewAccount,
  Reservation,
  RevokedByToken,
  SessionFilter,
  SessionRow,
  Store,
  StoredAuditRow,
  StoreWrite,
  TokenRow,
  TokenUse,
  UsedToken,
} from './types';
import { type Columns, ACCOUNT_FIELDS, ACCOUNT_COLUMNS, accountAt, SESSION_COLUMNS, sessionAt, foundTokenAt, CHANGEABLE_COLUMNS } from './rows';

export interface PostgresOptions {
  /** A libpq-style URL; it may hold the password, so it is never shown: `where` is. */
  url: string;
  /** host:port/database, for messages. */
  where: string;
  /** Connections in the pool. */
  pool: number;
  /**
   * How long a call may wait for a connection, and then for its answer, before it fails (DUALGATE_BUSY_TIMEOUT_MS;
   * 0: no limit). A request never hangs on a database that has gone away.
   */
  timeoutMs: number;
}

/** Serialises schema migrations among every node that starts at once: the key of dualgate's advisory lock ("dualgate" in ASCII). */
const MIGRATION_LOCK = 0x6475_616c_6761_7465n;

/** How much longer than the lock wait a call waits for a server that says nothing. */
const SILENCE_MARGIN_MS = 100;
/** The least time a new connection is given. */
const MIN_CONNECT_MS = 1000;

/** `bigint` (epoch milliseconds, ids, counts) read as a JavaScript number: every value dualgate writes fits in 2^53. */
const INT8_OID = 20;
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pgTypes.getTypeParser(oid, format as 'text')) as typeof pgTypes.getTypeParser,
};

/** Connects, then brings the schema up to date under the migration lock; one line naming host and database on failure. */
export async function openPostgresStore(options: PostgresOptions): Promise<PostgresStore> {
  // A lock held elsewhere is waited for up to the timeout, then fails as "database is locked" (SQLite's busy
  // timeout); a server that does not answer at all fails a little after it ("database timed out").
  const lockWaitMs = Math.max(1, options.timeoutMs);
  const pool = new Pool({
    connectionString: options.url,
    max: options.pool,
    // A new connection (TCP, TLS, SCRAM) takes a while even when all is well: a second at least.
    connectionTimeoutMillis: Math.max(lockWaitMs, MIN_CONNECT_MS) + SILENCE_MARGIN_MS,
    query_timeout: lockWaitMs + SILENCE_MARGIN_MS,
    options: `-c lock_timeout=${lockWaitMs}`,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'dualgate',
    types: typeParsers,
  });
  // An idle connection that breaks (the server restarted) is dropped by the pool; the next call opens another.
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StoreFault(`cannot open the PostgreSQL database ${options.where}: ${reasonOf(err, true)}`, { cause: err });
  }
  return new PostgresStore(pool);
}

async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  let broken: unknown;
  const onError = (err: Error) => (broken = err);
  client.on('error', onError);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS dualgate_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const applied = Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM dualgate_schema')).rows[0].v);
      if (applied > postgresMigrations.length) {
        throw new StoreFault(`the database schema (version ${applied}) is newer than this dualgate (version ${postgresMigrations.length})`);
      }
      for (let version = applied; version < postgresMigrations.length; version++) {
        await client.query('BEGIN');
        try {
          await client.query(postgresMigrations[version]!);
          await client.query('INSERT INTO dualgate_schema (version) VALUES ($1)', [version + 1]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch((err: unknown) => (broken = err));
    }
  } catch (err) {
    broken = err;
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken instanceof Error ? broken : undefined);
  }
}

/** What went wrong, in the few words an operator or a 500 body may show (never the URL or its password). */
function reasonOf(err: unknown, detailed = false): string {
  if (err instanceof StoreFault) return err.reason;
  const e = err as { code?: unknown; message?: unknown; severity?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOENT'].includes(code)) return `database is unreachable (${code})`;
  if (['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code) || /Connection terminated|connection.*(ended|closed)/i.test(message)) {
    return 'database connection lost';
  }
  if (code === '55P03' || code === '40P01') return 'database is locked';
  if (/timeout/i.test(message) || code === '57014') return 'database timed out';
  if (code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('08')) return 'database is unavailable (shutting down or starting)';
  if (code === '25006') return 'database is read-only';
  if (code === '53100') return 'disk is full';
  if (code.startsWith('53')) return 'database is out of resources';
  // At start, the server's own words help most ("password authentication failed for user …", "database … does
  // not exist"); they never hold the password.
  if (detailed && typeof e.severity === 'string' && message) return message;
  if (code.startsWith('28')) return 'database refused the credentials';
  return 'database error';
}

/** The column a unique constraint named `<table>_<column>_key` (or `<table>_pkey`) guards. */
function uniqueColumn(constraint: unknown): string {
  if (typeof constraint !== 'string') return 'value';
  if (constraint.endsWith('_pkey')) return 'id';
  return /^[a-z]+_(\w+)_key$/.exec(constraint)?.[1] ?? 'value';
}

function translate(err: unknown): Error {
  if (err instanceof StoreFault || err instanceof UniqueViolation) return err;
  if ((err as { code?: unknown }).code === '23505') return new UniqueViolation(uniqueColumn((err as { constraint?: unknown }).constraint));
  return new StoreFault(reasonOf(err), { cause: err });
}

/** A statement prepared once per connection under its name, with its values. */
interface Statement {
  name: string;
  text: string;
  values: unknown[];
}



/** Every statement's text, by the name it is prepared under. */
/** The conditions of an `AuditQuery` ($1 to $5), each a no-op when its parameter is null. */
const AUDIT_MATCHES = `($1::text IS NULL OR position(lower($1) in lower(username)) > 0)
  AND ($2::text IS NULL OR event = $2) AND ($3::text IS NULL OR outcome = $3)
  AND ($4::bigint IS NULL OR at >= $4) AND ($5::bigint IS NULL OR at < $5)`;

const auditParams = (q: AuditQuery): unknown[] => [q.usernamePart ?? null, q.event ?? null, q.outcome ?? null, q.from ?? null, q.to ?? null];

const SQL = {
  insertAccount: `INSERT INTO accounts (username, name, password_hash, role, is_active, first_name, last_name, email,
      customer_key, ttl, created_at, updated_at, username_key)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)
    RETURNING ${ACCOUNT_FIELDS.join(', ')}`,
  accountById: `SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1`,
  accountByUsernameKey: `SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.username_key = $1`,
  accountByName: `SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.name = $1`,
  allAccounts: `SELECT ${ACCOUNT_COLUMNS} FROM accounts a ORDER BY a.id`,
  matchingAccounts: `SELECT ${ACCOUNT_COLUMNS} FROM accounts a
    WHERE strpos(a.name, $1) > 0 OR strpos(a.username, $1) > 0 ORDER BY a.id`,
  countAccounts: 'SELECT count(*) FROM accounts',
  deleteAccount: 'DELETE FROM accounts WHERE id = $1',
  // The failure count of a name from one address: one conditional upsert, so the check and the count are one
  // write. A row whose lock is still on is left alone and returns nothing: the attempt is refused.
  reserveAddress: `INSERT INTO login_failures (username_key, client_ip, failures, pending, locked_until, last_at)
    VALUES ($1, $2, 1, 1, CASE WHEN 1 >= $4 THEN $5::bigint END, $3)
    ON CONFLICT (username_key, client_ip) DO UPDATE SET
      failures = CASE WHEN login_failures.locked_until IS NOT NULL THEN 1 ELSE login_failures.failures + 1 END,
      pending = CASE WHEN login_failures.locked_until IS NOT NULL THEN 1 ELSE login_failures.pending + 1 END,
      locked_until = CASE WHEN (CASE WHEN login_failures.locked_until IS NOT NULL THEN 1 ELSE login_failures.failures + 1 END) >= $4
                     THEN $5::bigint END,
      last_at = $3
    WHERE login_failures.locked_until IS NULL OR login_failures.locked_until <= $3
    RETURNING failures`,
  // The account-wide count, in a window that starts at its first failure; likewise refused while locked.
  reserveAccount: `UPDATE accounts SET
      failed_logins = CASE WHEN failures_since IS NULL OR failures_since <= $3 THEN 1 ELSE failed_logins + 1 END,
      failures_since = CASE WHEN failures_since IS NULL OR failures_since <= $3 THEN $2 ELSE failures_since END,
      locked_until = CASE
        WHEN (CASE WHEN failures_since IS NULL OR failures_since <= $3 THEN 1 ELSE failed_logins + 1 END) >= $4
        THEN $5::bigint ELSE locked_until END
    WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)
    RETURNING failed_logins, locked_until`,
  // Locked only by attempts still in flight (and none stale): worth asking again once they conclude.
  addressBusy: `SELECT 1 FROM login_failures
    WHERE username_key = $1 AND client_ip = $2 AND locked_until > $3
      AND failures - pending < $4 AND last_at > $3 - 60000`,
  concludeFailure: 'UPDATE login_failures SET pending = greatest(pending - 1, 0) WHERE username_key = $1 AND client_ip = $2',
  // A good password: the address's count forgotten and the attempt given back to the account's, in one statement.
  // The count's row is locked before the account's (the sub-select over `cleared` runs first), the order a
  // reservation takes them in: two orders could deadlock.
  clearLoginFailures: `WITH cleared AS (DELETE FROM login_failures WHERE username_key = $1 AND client_ip = $2 RETURNING 1)
    UPDATE accounts SET failed_logins = greatest(failed_logins - 1, 0),
      failures_since = CASE WHEN failed_logins <= 1 THEN NULL ELSE failures_since END,
      locked_until = CASE WHEN locked_until = $4::bigint THEN NULL ELSE locked_until END
    WHERE id = $3 AND (SELECT count(*) FROM cleared) >= 0`,
  unlockAccount: `WITH cleared AS (DELETE FROM login_failures WHERE username_key = $2 RETURNING 1)
    UPDATE accounts SET failed_logins = 0, failures_since = NULL, locked_until = NULL, updated_at = $3
    WHERE id = $1 AND (SELECT count(*) FROM cleared) >= 0`,
  addressLocks: `SELECT username_key AS "usernameKey", client_ip AS "clientIp", failures, locked_until AS "lockedUntil"
    FROM login_failures WHERE locked_until > $1 ORDER BY username_key, client_ip`,
  forgetFailures: 'DELETE FROM login_failures WHERE last_at < $1 AND (locked_until IS NULL OR locked_until <= $1)',
  setLock: 'UPDATE accounts SET locked_until = $1, failed_logins = 0, failures_since = NULL, updated_at = $2 WHERE id = $3',
  replaceHash: 'UPDATE accounts SET password_hash = $3, updated_at = $4 WHERE id = $1 AND password_hash = $2',
  // The session and its first token in one statement: one round trip, and atomic.
  createSession: `WITH s AS (
      INSERT INTO sessions (id, account_id, username, door, created_at, last_seen_at, idle_ttl, idle_expires_at,
        absolute_expires_at, client_ip, user_agent)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id)
    INSERT INTO tokens (hash, session_id, kind, created_at) SELECT $12, s.id, $13, $14 FROM s`,
  tokenWithAccount: `SELECT t.kind, t.created_at, t.retired_at, ${SESSION_COLUMNS}, ${ACCOUNT_COLUMNS}
    FROM tokens t JOIN sessions s ON s.id = t.session_id LEFT JOIN accounts a ON a.id = s.account_id
    WHERE t.hash = $1`,
  // A log-out in one statement: revoke the token's session unless it has ended, and say whose it was either way.
  revokeByToken: `WITH target AS (SELECT session_id FROM tokens WHERE hash = $3),
    ended AS (
      UPDATE sessions SET revoked_at = $1, revoke_reason = $2
      WHERE id = (SELECT session_id FROM target) AND revoked_at IS NULL RETURNING id)
    SELECT s.id, s.username, EXISTS (SELECT 1 FROM ended) FROM sessions s WHERE s.id = (SELECT session_id FROM target)`,
  touchSession: 'UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2 WHERE id = $3',
  // idle_expires_at left out of SET: an update that changes no indexed column can stay a heap-only update.
  touchLastSeen: 'UPDATE sessions SET last_seen_at = $1 WHERE id = $2',
  // A rotation in one statement: touch the live session, retire the old token and add the new one, or nothing.
  rotateToken: `WITH live AS (
      UPDATE sessions SET last_seen_at = $4, idle_expires_at = $5 WHERE id = $3 AND revoked_at IS NULL RETURNING id),
    retired AS (
      UPDATE tokens SET retired_at = least(coalesce(retired_at, $6), $6)
      WHERE hash = $1 AND EXISTS (SELECT 1 FROM live)),
    added AS (INSERT INTO tokens (hash, session_id, kind, created_at) SELECT $2, live.id, $7, $8 FROM live)
    SELECT count(*) FROM live`,
  revokeSession: 'UPDATE sessions SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL',
  revokeAccountSessions: `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
    WHERE account_id = $3 AND revoked_at IS NULL
      AND ($4::bigint IS NULL OR (idle_expires_at > $4 AND absolute_expires_at > $4))
    RETURNING id`,
  sessionById: `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = $1`,
  listSessions: `SELECT ${SESSION_COLUMNS} FROM sessions s
    WHERE ($1::text IS NULL OR s.username = $1)
      AND ($5::text IS NULL OR position(lower($5) in lower(s.username)) > 0)
      AND ($2::text IS NULL OR s.door = $2)
      AND ($3::bigint IS NULL OR (s.revoked_at IS NULL AND s.idle_expires_at > $3 AND s.absolute_expires_at > $3))
    ORDER BY s.created_at DESC, s.id
    LIMIT $4`,
  countLive: `SELECT count(*) FROM sessions
    WHERE idle_expires_at > $1 AND absolute_expires_at > $1 AND revoked_at IS NULL`,
  // Each way of ending walks its own index and stops at the batch; rows another node is deleting right now are
  // skipped rather than waited for, so every node may purge at once.
  purgeSessions: `WITH by_revocation AS (
      SELECT id FROM sessions WHERE revoked_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED),
    by_idle AS (SELECT id FROM sessions WHERE idle_expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED),
    by_absolute AS (SELECT id FROM sessions WHERE absolute_expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
    DELETE FROM sessions WHERE id IN (
      SELECT id FROM (SELECT id FROM by_revocation UNION SELECT id FROM by_idle UNION SELECT id FROM by_absolute) ended LIMIT $2)`,
  reserveThrottle: `INSERT INTO login_attempts (client_ip, window_start, attempts) VALUES ($1, $2, 1)
    ON CONFLICT (client_ip, window_start) DO UPDATE SET attempts = login_attempts.attempts + 1 WHERE login_attempts.attempts < $3
    RETURNING attempts`,
  releaseThrottle: 'UPDATE login_attempts SET attempts = attempts - 1 WHERE client_ip = $1 AND window_start = $2 AND attempts > 0',
  forgetAttempts: 'DELETE FROM login_attempts WHERE window_start < $1',
  // A row only when the nonce is new, or its record had run out (not purged yet).
  claimNonce: `INSERT INTO nonces (hash, expires_at) VALUES ($1, $2)
    ON CONFLICT (hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE nonces.expires_at <= $3
    RETURNING 1`,
  forgetNonces: 'DELETE FROM nonces WHERE expires_at < $1',
  insertAudit: `INSERT INTO audit (at, cid, event, username, session_id, door, client_ip, outcome, detail)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  // The audit rows of one event-loop turn in one statement, in order.
  insertAudits: `INSERT INTO audit (at, cid, event, username, session_id, door, client_ip, outcome, detail)
    SELECT at, cid, event, username, session_id, door, client_ip, outcome, detail
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
      WITH ORDINALITY AS r(at, cid, event, username, session_id, door, client_ip, outcome, detail, n)
    ORDER BY n`,
  // The uses of one event-loop turn in one statement; a null idle expiry leaves it as it is (the same value
  // written back keeps the update heap-only, as an unchanged indexed column does).
  touchSessions: `UPDATE sessions s SET last_seen_at = t.last_seen_at, idle_expires_at = coalesce(t.idle_expires_at, s.idle_expires_at)
    FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(id, last_seen_at, idle_expires_at)
    WHERE s.id = t.id`,
  tallyAudit: `INSERT INTO audit (at, cid, event, username, session_id, door, client_ip, outcome, detail, count, tally_key)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)
    ON CONFLICT (tally_key) WHERE tally_key IS NOT NULL DO UPDATE SET count = audit.count + 1`,
  // Oldest first, a batch at a time; rows another node is deleting are skipped.
  purgeAudit: `DELETE FROM audit WHERE id IN (
    SELECT id FROM audit WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
  listAudit: `SELECT id, at, cid, event, username, session_id AS "sessionId", door, client_ip AS "clientIp", outcome, detail, count
    FROM audit ORDER BY id DESC LIMIT $1`,
  findAudit: `SELECT id, at, cid, event, username, session_id AS "sessionId", door, client_ip AS "clientIp", outcome, detail, count
    FROM audit WHERE ${AUDIT_MATCHES} AND ($6::bigint IS NULL OR id < $6)
    ORDER BY id DESC LIMIT $7`,
  countAuditMatching: `SELECT count(*) FROM audit WHERE ${AUDIT_MATCHES}`,
  countAudit: `SELECT at - at % $2 AS bucket, event, outcome, sum(count) AS count
    FROM audit WHERE at >= $1
    GROUP BY 1, event, outcome
    ORDER BY 1, event COLLATE "C", outcome COLLATE "C"`,
  secret: `WITH added AS (INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value)
    SELECT value FROM added UNION ALL SELECT value FROM secrets WHERE name = $1`,
  healthProbe: 'INSERT INTO health (id, checked_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at',
} as const;

const statement = (name: keyof typeof SQL, values: unknown[]): Statement => ({ name, text: SQL[name], values });

const sessionValues = (s: SessionRow): unknown[] => [
  s.id, s.accountId, s.username, s.door, s.createdAt, s.lastSeenAt, s.idleTtl, s.idleExpiresAt, s.absoluteExpiresAt,
  s.clientIp, s.userAgent,
];

const AUDIT_COLUMNS = ['at', 'cid', 'event', 'username', 'session_id', 'door', 'client_ip', 'outcome', 'detail'] as const;
const auditValues = (r: AuditRow): unknown[] => [r.at, r.cid, r.event, r.username, r.sessionId, r.door, r.clientIp, r.outcome, r.detail];

/** The statement of one write of a unit of work. */
function writeStatement(w: StoreWrite): Statement {
  switch (w.write) {
    case 'createSession':
      return statement('createSession', [...sessionValues(w.session), w.token.hash, w.token.kind, w.token.createdAt]);
    case 'revokeAccountSessions':
      return statement('revokeAccountSessions', [w.at, w.reason, w.accountId, w.aliveAt ?? null]);
    case 'deleteAccount':
      return statement('deleteAccount', [w.id]);
    case 'appendAudit':
      return statement('insertAudit', auditValues(w.row));
  }
}

/**
 * Writes asked for in one turn of the event loop, sent as one statement when there are several (each
 * statement costs the node a socket write and PostgreSQL a wake-up, more than the row itself). Every promise
 * settles after that statement has committed, or fails with it.
 */
class TurnBatch<T> {
  private queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly write: (items: T[]) => Promise<unknown>) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(this.flush);
      this.queue.push({ item, resolve, reject });
    });
  }

  /** Waits for what is queued and in flight (before the pool closes). */
  async drain(): Promise<void> {
    if (this.queue.length > 0) this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  private readonly flush = (): void => {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const done = this.write(batch.map((b) => b.item)).then(
      () => batch.forEach((b) => b.resolve()),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  };
}

type Touch = { id: string; lastSeenAt: number; idleExpiresAt: number | undefined };

/**
 * One use per session (the last asked for), in the order of their ids: concurrent batches that share sessions
 * (an xWeb integrator's is in every `WebValidate`) then lock their rows in the same order, and cannot deadlock.
 */
function inIdOrder(uses: Touch[]): Touch[] {
  const last = new Map(uses.map((use) => [use.id, use]));
  return [...last.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const columnsOf = (uses: Touch[]) => [uses.map((u) => u.id), uses.map((u) => u.lastSeenAt), uses.map((u) => u.idleExpiresAt ?? null)];

/**
 * The PostgreSQL store: a pool of connections, every statement prepared once per connection under its name,
 * one statement (so one round trip) per call wherever SQL allows. Commits are grouped by PostgreSQL itself:
 * concurrent commits share a WAL flush, so there is no batching of our own as SQLite's group commit does.
 */
export class PostgresStore implements Store {
  private readonly audits = new TurnBatch<AuditRow>((rows) =>
    rows.length === 1
      ? this.run(statement('insertAudit', auditValues(rows[0]!)))
      : this.run(statement('insertAudits', AUDIT_COLUMNS.map((_, i) => rows.map((r) => auditValues(r)[i])))),
  );
  private readonly touches = new TurnBatch<Touch>((uses) =>
    uses.length === 1
      ? this.run(
          uses[0]!.idleExpiresAt === undefined
            ? statement('touchLastSeen', [uses[0]!.lastSeenAt, uses[0]!.id])
            : statement('touchSession', [uses[0]!.lastSeenAt, uses[0]!.idleExpiresAt, uses[0]!.id]),
        )
      : this.run(statement('touchSessions', columnsOf(inIdOrder(uses)))),
  );

  constructor(private readonly pool: Pool) {}

  private async run(s: Statement): Promise<QueryResult<unknown[]>> {
    try {
      return await this.pool.query<unknown[]>({ name: s.name, text: s.text, values: s.values, rowMode: 'array' });
    } catch (err) {
      throw translate(err);
    }
  }

  private async rows(name: keyof typeof SQL, values: unknown[]): Promise<Columns[]> {
    return (await this.run(statement(name, values))).rows;
  }

  /** Rows as objects, for the few reads whose column aliases are already the fields' names. */
  private async objects<T>(name: keyof typeof SQL, values: unknown[]): Promise<T[]> {
    try {
      return (await this.pool.query<T & object>({ name, text: SQL[name], values })).rows;
    } catch (err) {
      throw translate(err);
    }
  }

  /**
   * `work` inside BEGIN … COMMIT (or ROLLBACK, when it says so or throws) on one connection of the pool. A
   * connection that breaks meanwhile says so as an 'error' event, which unheard would end the process: it is
   * heard here, the statement in flight fails anyway, and the connection is dropped.
   */
  private async transaction<T>(
    work: (query: (name: keyof typeof SQL, values: unknown[]) => Promise<Columns[]>) => Promise<{ commit: boolean; result: T }>,
  ): Promise<T> {
    // A deadlock rolled the whole transaction back, so it may simply run again (twice at most).
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.transactionOnce(work);
      } catch (err) {
        const deadlocked = err instanceof StoreFault && (err.cause as { code?: unknown } | undefined)?.code === '40P01';
        if (!deadlocked || attempt === 2) throw err;
      }
    }
  }

  private async transactionOnce<T>(
    work: (query: (name: keyof typeof SQL, values: unknown[]) => Promise<Columns[]>) => Promise<{ commit: boolean; result: T }>,
  ): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translate(err);
    }
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const outcome = await work(async (name, values) => (await client.query<unknown[]>({ name, text: SQL[name], values, rowMode: 'array' })).rows);
      await client.query(outcome.commit ? 'COMMIT' : 'ROLLBACK');
      return outcome.result;
    } catch (err) {
      await client.query('ROLLBACK').catch((lost: unknown) => (broken = lost as Error));
      throw translate(err);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async atomically(writes: readonly StoreWrite[]): Promise<void> {
    if (writes.length === 1) {
      await this.run(writeStatement(writes[0]!));
      return;
    }
    await this.transaction(async (query) => {
      for (const w of writes) {
        const s = writeStatement(w);
        await query(s.name as keyof typeof SQL, s.values);
      }
      return { commit: true, result: undefined };
    });
  }

  async createAccount(account: NewAccount, now: number): Promise<AccountRow> {
    const [row] = await this.rows('insertAccount', [
      account.username, account.name, account.passwordHash, account.role, account.isActive, account.firstName,
      account.lastName, account.email, account.customerKey, account.ttl, now, account.usernameKey,
    ]);
    return accountAt(row!, 0);
  }

  async findAccountById(id: number): Promise<AccountRow | undefined> {
    const [row] = await this.rows('accountById', [id]);
    return row && accountAt(row, 0);
  }

  async findAccountByUsernameKey(usernameKey: string): Promise<AccountRow | undefined> {
    const [row] = await this.rows('accountByUsernameKey', [usernameKey]);
    return row && accountAt(row, 0);
  }

  async findAccountByName(name: string): Promise<AccountRow | undefined> {
    const [row] = await this.rows('accountByName', [name]);
    return row && accountAt(row, 0);
  }

  async listAccounts(query?: string): Promise<AccountRow[]> {
    const rows = query ? await this.rows('matchingAccounts', [query]) : await this.rows('allAccounts', []);
    return rows.map((row) => accountAt(row, 0));
  }

  async countAccounts(): Promise<number> {
    return (await this.rows('countAccounts', []))[0]![0] as number;
  }

  async updateAccount(id: number, changes: AccountChanges, now: number): Promise<void> {
    const keys = (Object.keys(changes) as (keyof AccountChanges)[]).filter((k) => changes[k] !== undefined).sort();
    if (keys.length === 0) return;
    const assignments = keys.map((k, i) => `${CHANGEABLE_COLUMNS[k]} = $${i + 3}`).join(', ');
    // Named by the set of columns it changes: each shape is prepared once per connection.
    await this.run({
      name: `updateAccount:${keys.join(',')}`,
      text: `UPDATE accounts SET ${assignments}, updated_at = $2 WHERE id = $1`,
      values: [id, now, ...keys.map((k) => changes[k])],
    });
  }

  async deleteAccount(id: number): Promise<void> {
    await this.run(statement('deleteAccount', [id]));
  }

  /**
   * Both counts, or neither: one transaction on one connection (the address count first, as SQLite's does, so
   * the refusal says "busy" for the same reasons). A log-in pays bcrypt's milliseconds; the round trips of
   * the transaction are small beside them.
   */
  async reserveLoginAttempt(attempt: LoginAttempt, now: number, limits: LockoutLimits): Promise<Reservation> {
    const lockUntil = now + limits.windowMs;
    return this.transaction<Reservation>(async (query) => {
      const [address] = await query('reserveAddress', [attempt.usernameKey, attempt.clientIp, now, limits.addressThreshold, lockUntil]);
      if (!address) {
        const busy = await query('addressBusy', [attempt.usernameKey, attempt.clientIp, now, limits.addressThreshold]);
        return { commit: false, result: { granted: false, busy: busy.length > 0 } };
      }
      const addressFailures = address[0] as number;
      if (attempt.accountId === null) {
        return { commit: true, result: { granted: true, addressFailures, accountFailures: 0, accountLockedUntil: null } };
      }
      const [account] = await query('reserveAccount', [attempt.accountId, now, now - limits.windowMs, limits.accountThreshold, lockUntil]);
      // Refused by the account's lock: the address count is taken back with the rollback.
      if (!account) return { commit: false, result: { granted: false, busy: false } };
      const accountFailures = account[0] as number;
      const accountLockedUntil = accountFailures >= limits.accountThreshold && account[1] === lockUntil ? lockUntil : null;
      return { commit: true, result: { granted: true, addressFailures, accountFailures, accountLockedUntil } };
    });
  }

  async concludeLoginFailure(attempt: LoginAttempt): Promise<void> {
    await this.run(statement('concludeFailure', [attempt.usernameKey, attempt.clientIp]));
  }

  async clearLoginFailures(attempt: LoginAttempt, reservation: Reservation): Promise<void> {
    const accountId = reservation.granted ? attempt.accountId : null;
    const lockedByAttempt = reservation.granted ? reservation.accountLockedUntil : null;
    await this.run(statement('clearLoginFailures', [attempt.usernameKey, attempt.clientIp, accountId, lockedByAttempt]));
  }

  async unlockAccount(id: number, usernameKey: string, now: number): Promise<void> {
    await this.run(statement('unlockAccount', [id, usernameKey, now]));
  }

  async listAddressLocks(now: number): Promise<AddressLock[]> {
    return this.objects<AddressLock>('addressLocks', [now]);
  }

  async forgetLoginFailures(before: number): Promise<number> {
    return (await this.run(statement('forgetFailures', [before]))).rowCount ?? 0;
  }

  async replacePasswordHash(id: number, previous: string, next: string, now: number): Promise<boolean> {
    return ((await this.run(statement('replaceHash', [id, previous, next, now]))).rowCount ?? 0) > 0;
  }

  async setLock(id: number, lockedUntil: number | null, now: number): Promise<void> {
    await this.run(statement('setLock', [lockedUntil, now, id]));
  }

  async createSession(session: SessionRow, token: Omit<TokenRow, 'sessionId' | 'retiredAt'>): Promise<void> {
    await this.run(writeStatement({ write: 'createSession', session, token }));
  }

  async findToken(hash: Buffer): Promise<FoundToken | undefined> {
    const [row] = await this.rows('tokenWithAccount', [hash]);
    return row && foundTokenAt(row, hash);
  }

  /**
   * Each token read in turn, then its use written with the other uses of this turn (one UPDATE for them all):
   * a use needs no transaction with its read.
   */
  async useTokens(uses: readonly TokenUse[]): Promise<(UsedToken | undefined)[]> {
    const answers: (UsedToken | undefined)[] = [];
    for (const step of uses) {
      const found = await this.findToken(step.hash);
      const used = found && step.use(found);
      if (used) await this.touches.add({ id: found.session.id, ...used });
      answers.push(found && { ...found, used });
      if (step.next && !step.next(found)) break;
    }
    return answers;
  }

  async rotateToken(
    previousHash: Buffer,
    next: Omit<TokenRow, 'retiredAt'>,
    retireAt: number,
    touch: { lastSeenAt: number; idleExpiresAt: number },
  ): Promise<boolean> {
    const [row] = await this.rows('rotateToken', [
      previousHash, next.hash, next.sessionId, touch.lastSeenAt, touch.idleExpiresAt, retireAt, next.kind, next.createdAt,
    ]);
    return (row![0] as number) > 0;
  }

  async revokeByToken(hash: Buffer, at: number, reason: string): Promise<RevokedByToken | undefined> {
    const [row] = await this.rows('revokeByToken', [at, reason, hash]);
    return row && { sessionId: row[0] as string, username: row[1] as string, ended: row[2] as boolean };
  }

  async revokeSession(id: string, at: number, reason: string): Promise<boolean> {
    return ((await this.run(statement('revokeSession', [at, reason, id]))).rowCount ?? 0) > 0;
  }

  async revokeAccountSessions(accountId: number, at: number, reason: string, aliveAt?: number): Promise<string[]> {
    return (await this.rows('revokeAccountSessions', [at, reason, accountId, aliveAt ?? null])).map((r) => r[0] as string);
  }

  async findSession(id: string): Promise<SessionRow | undefined> {
    const [row] = await this.rows('sessionById', [id]);
    return row && sessionAt(row, 0);
  }

  async listSessions(filter: SessionFilter): Promise<SessionRow[]> {
    const rows = await this.rows('listSessions', [
      filter.username ?? null,
      filter.door ?? null,
      filter.aliveAt ?? null,
      filter.limit ?? null,
      filter.usernamePart ?? null,
    ]);
    return rows.map((row) => sessionAt(row, 0));
  }

  async countLiveSessions(now: number): Promise<number> {
    return (await this.rows('countLive', [now]))[0]![0] as number;
  }

  async purgeSessions(before: number, batch: number): Promise<number> {
    return (await this.run(statement('purgeSessions', [before, batch]))).rowCount ?? 0;
  }

  async reserveThrottle(clientIp: string, windowStart: number, limit: number): Promise<boolean> {
    return (await this.rows('reserveThrottle', [clientIp, windowStart, limit])).length > 0;
  }

  async releaseThrottle(clientIp: string, windowStart: number): Promise<void> {
    await this.run(statement('releaseThrottle', [clientIp, windowStart]));
  }

  async forgetLoginAttempts(before: number): Promise<void> {
    await this.run(statement('forgetAttempts', [before]));
  }

  async claimNonce(hash: Buffer, expiresAt: number, now: number): Promise<boolean> {
    return (await this.rows('claimNonce', [hash, expiresAt, now])).length > 0;
  }

  async forgetNonces(before: number): Promise<void> {
    await this.run(statement('forgetNonces', [before]));
  }

  appendAudit(row: AuditRow): Promise<void> {
    return this.audits.add(row);
  }

  async tallyAudit(row: AuditRow, tallyKey: string): Promise<void> {
    await this.run(statement('tallyAudit', [...auditValues(row), tallyKey]));
  }

  async purgeAudit(before: number, batch: number): Promise<number> {
    return (await this.run(statement('purgeAudit', [before, batch]))).rowCount ?? 0;
  }

  findAudit(page: AuditPage): Promise<StoredAuditRow[]> {
    return this.objects<StoredAuditRow>('findAudit', [...auditParams(page), page.beforeId ?? null, page.limit]);
  }

  async countAuditMatching(query: AuditQuery): Promise<number> {
    return (await this.rows('countAuditMatching', auditParams(query)))[0]![0] as number;
  }

  listAudit(limit: number): Promise<StoredAuditRow[]> {
    return this.objects<StoredAuditRow>('listAudit', [limit]);
  }

  countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    return this.objects<AuditCount>('countAudit', [since, bucketMs]);
  }

  async secret(name: string, value: string): Promise<string> {
    // Another node may be storing its own at this very moment: then the row appears only to a later statement.
    for (let attempt = 0; ; attempt++) {
      const [row] = await this.rows('secret', [name, value]);
      if (row) return row[0] as string;
      if (attempt === 3) throw new StoreFault('database error');
    }
  }

  /** Health: a write commits (a `SELECT` would not notice a read-only standby or a full disk). */
  async ping(): Promise<void> {
    await this.run(statement('healthProbe', [Date.now()]));
  }

  async close(): Promise<void> {
    await Promise.all([this.audits.drain(), this.touches.drain()]);
    await this.pool.end();
  }
}
