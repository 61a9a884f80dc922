/**
 * The store interface the core talks to. It is asynchronous although SQLite answers synchronously, so a
 * networked store can implement it later without touching the core. Times are epoch milliseconds.
 */
export type Role = 'user' | 'integrator' | 'admin';
export type TokenKind = 'jwt' | 'guid' | 'cookie';

export interface AccountRow {
  id: number;
  username: string;
  name: string;
  passwordHash: string;
  role: Role;
  isActive: boolean;
  firstName: string;
  lastName: string;
  email: string;
  customerKey: string;
  ttl: number | null;
  failedLogins: number;
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export type NewAccount = Omit<AccountRow, 'id' | 'failedLogins' | 'lockedUntil' | 'createdAt' | 'updatedAt'>;

export type AccountChanges = Partial<
  Pick<AccountRow, 'username' | 'name' | 'passwordHash' | 'role' | 'isActive' | 'firstName' | 'lastName' | 'email' | 'ttl'>
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
}

/** How many audit rows one event and outcome had in one time bucket. */
export interface AuditCount {
  /** Epoch ms at which the bucket starts (a multiple of the bucket size). */
  bucket: number;
  event: string;
  outcome: string;
  count: number;
}

export interface FailureCount {
  failedLogins: number;
  lockedUntil: number | null;
}

export interface Store {
  createAccount(account: NewAccount, now: number): Promise<AccountRow>;
  findAccountById(id: number): Promise<AccountRow | undefined>;
  findAccountByUsername(username: string): Promise<AccountRow | undefined>;
  findAccountByName(name: string): Promise<AccountRow | undefined>;
  /** Accounts whose name or username contains `query` (all when absent), by id. */
  listAccounts(query?: string): Promise<AccountRow[]>;
  countAccounts(): Promise<number>;
  updateAccount(id: number, changes: AccountChanges, now: number): Promise<void>;
  deleteAccount(id: number): Promise<void>;
  /**
   * Counts one failed log-in. When the count reaches `threshold` the account is locked until `lockUntil`.
   * A lock that has already run out starts the count afresh.
   */
  recordLoginFailure(id: number, now: number, threshold: number, lockUntil: number): Promise<FailureCount>;
  /** Clears the failure count and any lock. */
  clearLoginFailures(id: number, now: number): Promise<void>;
  setLock(id: number, lockedUntil: number | null, now: number): Promise<void>;

  createSession(session: SessionRow, token: Omit<TokenRow, 'sessionId' | 'retiredAt'>): Promise<void>;
  /** The token, its session and the session's account (gone if deleted), by the token's hash; one read. */
  findToken(hash: Buffer): Promise<{ token: TokenRow; session: SessionRow; account: AccountRow | undefined } | undefined>;
  /** Records a use of the session; an undefined `idleExpiresAt` leaves the idle expiry (and its index) as it is. */
  touchSession(id: string, lastSeenAt: number, idleExpiresAt: number | undefined): Promise<void>;
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

  /** Counts one log-in attempt from `clientIp` in the window starting at `windowStart`; the count so far. */
  countLoginAttempt(clientIp: string, windowStart: number): Promise<number>;
  /** Forgets attempt windows that started before `before`. */
  forgetLoginAttempts(before: number): Promise<void>;

  /**
   * Records a nonce (by hash) as used until `expiresAt`, in one write; false when it is recorded already and
   * has not expired by `now` (a replay).
   */
  claimNonce(hash: Buffer, expiresAt: number, now: number): Promise<boolean>;
  /** Forgets nonces that expired before `before`. */
  forgetNonces(before: number): Promise<void>;

  appendAudit(row: AuditRow): Promise<void>;
  listAudit(limit: number): Promise<StoredAuditRow[]>;
  /** Audit rows from `since` on, counted by `bucketMs`-long bucket, event and outcome; oldest bucket first. */
  countAudit(since: number, bucketMs: number): Promise<AuditCount[]>;

  /** The stored secret, or `value` stored now when there was none. */
  secret(name: string, value: string): Promise<string>;

  ping(): Promise<void>;
  /** An online, consistent copy of the database at `path` (SQLite's backup API). */
  backup(path: string): Promise<void>;
  close(): Promise<void>;
}
