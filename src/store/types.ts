/**
 * The store interface the core talks to, the same for SQLite (src/store/sqlite.ts) and PostgreSQL
 * (src/store/postgres.ts); `openStore` (src/store/open.ts) opens the configured one. It is asynchronous
 * although SQLite answers synchronously. What only one backend has (SQLite's backup API, checkpoints, file
 * identity, `synchronous`, the busy timeout) stays behind its adapter. Times are epoch milliseconds.
 */
export type Role = 'user' | 'integrator' | 'admin';
export type TokenKind = 'jwt' | 'guid' | 'cookie';

export interface AccountRow {
  /** Never reused: a deleted account's id is never handed out again. */
  id: number;
  /** As the account was created: kept for display. */
  username: string;
  /** The username as RFC 8265 compares it (src/precis.ts); unique, and what log-ins look up. */
  usernameKey: string;
  name: string;
  passwordHash: string;
  role: Role;
  isActive: boolean;
  firstName: string;
  lastName: string;
  email: string;
  customerKey: string;
  ttl: number | null;
  /** Failed log-ins from any address since `failuresSince` (the account-wide count). */
  failedLogins: number;
  failuresSince: number | null;
  /** Locked by an operator, or by the account-wide count, until then. */
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export type NewAccount = Omit<AccountRow, 'id' | 'failedLogins' | 'failuresSince' | 'lockedUntil' | 'createdAt' | 'updatedAt'>;

/** `username` and `usernameKey` change together. */
export type AccountChanges = Partial<
  Pick<AccountRow, 'username' | 'usernameKey' | 'name' | 'passwordHash' | 'role' | 'isActive' | 'firstName' | 'lastName' | 'email' | 'ttl'>
>;

export interface SessionRow {
  id: string;
  accountId: number | null;
  username: string;
  door: string;
  createdAt: number;
  lastSeenAt: number;
  idleTtl: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  revokeReason: string | null;
  clientIp: string | null;
  userAgent: string | null;
}

export interface TokenRow {
  hash: Buffer;
  sessionId: string;
  kind: TokenKind;
  createdAt: number;
  /** Set when the token was replaced: it stops working at this time (a grace period may lie ahead). */
  retiredAt: number | null;
}

/** What a log-out ended: the token's session, and whether this call revoked it or it had ended already. */
export interface RevokedByToken {
  sessionId: string;
  username: string;
  ended: boolean;
}

export interface SessionFilter {
  username?: string;
  /** Only sessions whose username contains this text, ignoring case (an operator's search). */
  usernamePart?: string;
  door?: string;
  /** Only sessions alive at this time. */
  aliveAt?: number;
  limit?: number;
}

export interface AuditRow {
  at: number;
  cid: string | null;
  event: string;
  username: string | null;
  sessionId: string | null;
  door: string | null;
  clientIp: string | null;
  outcome: string;
  detail: string | null;
}

export interface StoredAuditRow extends AuditRow {
  id: number;
  /** How many events the row stands for: 1, or more for a tallied row (`Store.tallyAudit`). */
  count: number;
}

/** Which audit rows to read; each field given narrows the rows, an absent one does not. */
export interface AuditQuery {
  /** Rows whose username contains this text, ignoring case. */
  usernamePart?: string;
  event?: string;
  outcome?: string;
  /** Rows at or after this time. */
  from?: number;
  /** Rows before this time. */
  to?: number;
}

/** A page of audit rows, newest (highest id) first: `beforeId` continues where the previous page ended. */
export interface AuditPage extends AuditQuery {
  beforeId?: number;
  limit: number;
}

/** How many audit rows one event and outcome had in one time bucket. */
export interface AuditCount {
  /** Epoch ms at which the bucket starts (a multiple of the bucket size). */
  bucket: number;
  event: string;
  outcome: string;
  count: number;
}

/** Whose log-in an attempt is, and from where: the keys of the failure counts. */
export interface LoginAttempt {
  usernameKey: string;
  clientIp: string;
  /** The account the name belongs to; null for an unknown name (then only the address count is kept). */
  accountId: number | null;
}

export interface LockoutLimits {
  /** Failures from one address that lock that address out of the name. */
  addressThreshold: number;
  /** Failures from any address within `windowMs` that lock the whole account. */
  accountThreshold: number;
  /** The lockout length, and the window of the account-wide count. */
  windowMs: number;
}

/**
 * An attempt's place in the failure counts, taken before the password is compared. Refused when the name is
 * locked for this address or the account is locked; granted, it already counts as a failure, and
 * `clearLoginFailures` gives it back when the password was right.
 */
export type Reservation =
  | {
      granted: false;
      /**
       * Refused only because attempts still being compared fill the address's count (no lock of real
       * failures): asking again once they conclude may be granted.
       */
      busy: boolean;
    }
  | {
      granted: true;
      /** The address's count, this attempt included; at the threshold, this attempt locked the address out. */
      addressFailures: number;
      /** The account-wide count, this attempt included (0 for an unknown name). */
      accountFailures: number;
      /** The lock this attempt set on the account, if it was the one to reach the account-wide threshold. */
      accountLockedUntil: number | null;
    };

/** A name locked for one client address. */
export interface AddressLock {
  usernameKey: string;
  clientIp: string;
  failures: number;
  lockedUntil: number;
}

/**
 * One write of a unit of work (`Store.atomically`): the store call of the same name and its arguments.
 * Only writes whose results the caller does not need can be part of one.
 */
export type StoreWrite =
  | { write: 'createSession'; session: SessionRow; token: Omit<TokenRow, 'sessionId' | 'retiredAt'> }
  | { write: 'revokeAccountSessions'; accountId: number; at: number; reason: string; aliveAt?: number }
  | { write: 'deleteAccount'; id: number }
  | { write: 'appendAudit'; row: AuditRow };

/** A token as `findToken` answers it: with its session, and the session's account unless deleted. */
export interface FoundToken {
  token: TokenRow;
  session: SessionRow;
  account: AccountRow | undefined;
}

/** A token to read and use, for `useTokens`. */
export interface TokenUse {
  hash: Buffer;
  /** The use of the session to write, from the token found (undefined: none). */
  use(found: FoundToken): SessionUse | undefined;
  /** Whether to go on to the next token (when absent: yes). */
  next?(found: FoundToken | undefined): boolean;
}

/** A token found by `useTokens`, with the use it wrote (undefined: none). */
export type UsedToken = FoundToken & { used: SessionUse | undefined };

/** A use of a session to record: the last-seen time, and the idle expiry unless undefined (left as it is). */
export interface SessionUse {
  lastSeenAt: number;
  idleExpiresAt: number | undefined;
}

export interface Store {
  /** A unit of work: these writes, in this order, in one transaction; all of them are committed or none. */
  atomically(writes: readonly StoreWrite[]): Promise<void>;

  createAccount(account: NewAccount, now: number): Promise<AccountRow>;
  findAccountById(id: number): Promise<AccountRow | undefined>;
  /** By the username as RFC 8265 compares it (`usernameKey`). */
  findAccountByUsernameKey(usernameKey: string): Promise<AccountRow | undefined>;
  findAccountByName(name: string): Promise<AccountRow | undefined>;
  /** Accounts whose name or username contains `query` (all when absent), by id. */
  listAccounts(query?: string): Promise<AccountRow[]>;
  countAccounts(): Promise<number>;
  updateAccount(id: number, changes: AccountChanges, now: number): Promise<void>;
  deleteAccount(id: number): Promise<void>;
  /**
   * Reserves an attempt's place in both failure counts, atomically, before any password is compared: the
   * count of `attempt.usernameKey` from `attempt.clientIp` (refused while it is locked; at
   * `addressThreshold` it locks for `windowMs`; a lock that ran out starts it afresh) and the account's
   * (refused while the account is locked; counted within a `windowMs` window that starts at its first
   * failure; at `accountThreshold` the account locks for `windowMs`). Both counts move, or neither: however
   * many attempts arrive at once, from however many processes, at most the thresholds are granted. A granted
   * attempt stays in flight until `concludeLoginFailure` or `clearLoginFailures`; the address count's lock
   * is "busy" rather than real while in-flight attempts make it up (for at most a minute, should a process
   * die mid-compare).
   */
  reserveLoginAttempt(attempt: LoginAttempt, now: number, limits: LockoutLimits): Promise<Reservation>;
  /** A wrong password: the reservation concludes as the failure it was counted as (no longer in flight). */
  concludeLoginFailure(attempt: LoginAttempt): Promise<void>;
  /**
   * A right password: forgets the address's count of the name, takes this attempt back off the account's
   * count, and lifts the account lock `reservation` set, if it set one.
   */
  clearLoginFailures(attempt: LoginAttempt, reservation: Reservation): Promise<void>;
  /** An operator's unlock: the account's lock and count, and every address count of its name, cleared. */
  unlockAccount(id: number, usernameKey: string, now: number): Promise<void>;
  /** Names locked for an address at `now`, by name then address. */
  listAddressLocks(now: number): Promise<AddressLock[]>;
  /** Forgets address counts last moved before `before` whose lock (if any) ran out by then; how many. */
  forgetLoginFailures(before: number): Promise<number>;
  setLock(id: number, lockedUntil: number | null, now: number): Promise<void>;
  /** Replaces the password hash only if it is still `previous` (a rehash must not undo a password change). */
  replacePasswordHash(id: number, previous: string, next: string, now: number): Promise<boolean>;

  createSession(session: SessionRow, token: Omit<TokenRow, 'sessionId' | 'retiredAt'>): Promise<void>;
  /** The token, its session and the session's account (gone if deleted), by the token's hash; one read. */
  findToken(hash: Buffer): Promise<FoundToken | undefined>;
  /**
   * Each token in turn: `findToken`, then the use of its session that `use` asks for from what was found
   * (undefined: nothing written; an undefined `idleExpiresAt` leaves the idle expiry and its index as they are);
   * the tokens after one whose `next` says no are neither read nor used. One call where a validation had two,
   * and an admission with the validation it allows four (SQLite: one unit of its group commit; PostgreSQL: each
   * read in turn, each use written with the other uses of the same turn). Answers what was found for each token
   * read, with the use written.
   * `use` and `next` run synchronously, and may run more than once (a batch retried).
   */
  useTokens(uses: readonly TokenUse[]): Promise<(UsedToken | undefined)[]>;
  /**
   * Adds `next` to the session and retires `previousHash` at `retireAt`, in one transaction; false, changing
   * nothing, when the session has been revoked.
   */
  rotateToken(previousHash: Buffer, next: Omit<TokenRow, 'retiredAt'>, retireAt: number, touch: { lastSeenAt: number; idleExpiresAt: number }): Promise<boolean>;
  /**
   * Revokes the session of the token with this hash unless it is revoked already, in one write (a log-out);
   * undefined for an unknown token.
   */
  revokeByToken(hash: Buffer, at: number, reason: string): Promise<RevokedByToken | undefined>;
  /** Revokes a session unless it is revoked already; true when this call revoked it. */
  revokeSession(id: string, at: number, reason: string): Promise<boolean>;
  /**
   * Revokes every session of an account not revoked yet (with `aliveAt`: only those still alive then, so
   * sessions that merely expired keep their history); the ids revoked.
   */
  revokeAccountSessions(accountId: number, at: number, reason: string, aliveAt?: number): Promise<string[]>;
  findSession(id: string): Promise<SessionRow | undefined>;
  listSessions(filter: SessionFilter): Promise<SessionRow[]>;
  countLiveSessions(now: number): Promise<number>;
  /** Deletes up to `batch` sessions that ended (revoked or expired) before `before`; how many it deleted. */
  purgeSessions(before: number, batch: number): Promise<number>;

  /**
   * Reserves one failed log-in of `clientIp` in the window starting at `windowStart`, atomically: true when
   * the window held fewer than `limit` (the attempt may go on), false, counting nothing, when it is full.
   */
  reserveThrottle(clientIp: string, windowStart: number, limit: number): Promise<boolean>;
  /** Gives a reservation back (the log-in succeeded: only failures count). */
  releaseThrottle(clientIp: string, windowStart: number): Promise<void>;
  /** Forgets throttle windows that started before `before`. */
  forgetLoginAttempts(before: number): Promise<void>;

  /**
   * Records a nonce (by hash) as used until `expiresAt`, in one write; false when it is recorded already and
   * has not expired by `now` (a replay).
   */
  claimNonce(hash: Buffer, expiresAt: number, now: number): Promise<boolean>;
  /** Forgets nonces that expired before `before`. */
  forgetNonces(before: number): Promise<void>;

  appendAudit(row: AuditRow): Promise<void>;
  /**
   * One row for every event of `tallyKey`: the first call appends `row` with a count of 1, each later one
   * adds 1 to its count and writes nothing else (refusals that must cost nothing lasting).
   */
  tallyAudit(row: AuditRow, tallyKey: string): Promise<void>;
  /** Deletes up to `batch` audit rows older than `before`, oldest first; how many. */
  purgeAudit(before: number, batch: number): Promise<number>;
  listAudit(limit: number): Promise<StoredAuditRow[]>;
  /** The rows `page` asks for, newest first. */
  findAudit(page: AuditPage): Promise<StoredAuditRow[]>;
  /** How many rows `query` matches (a tallied row is one row). */
  countAuditMatching(query: AuditQuery): Promise<number>;
  /** Audit events from `since` on (a tallied row counts its count), by `bucketMs`-long bucket, event and outcome; oldest bucket first. */
  countAudit(since: number, bucketMs: number): Promise<AuditCount[]>;

  /** The stored secret, or `value` stored now when there was none. */
  secret(name: string, value: string): Promise<string>;

  ping(): Promise<void>;
  /**
   * An online, consistent copy of the database at `path` (SQLite's backup API). Absent for PostgreSQL, whose
   * own tools (pg_dump, base backups) do this.
   */
  backup?(path: string): Promise<void>;
  close(): Promise<void>;
}
