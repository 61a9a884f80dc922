import type { AccountChanges, AccountRow, FoundToken, Role, SessionRow, TokenKind } from './types';

/**
 * Rows are read as arrays, values in the order their statement selects them, and made into the store's types
 * by position: one object per row instead of SQLite's and then ours. Each `…_FIELDS` list and its reader
 * below go together, and a statement that selects them says where they start.
 */
export type Columns = readonly unknown[];

export const ACCOUNT_FIELDS = [
  'id', 'username', 'name', 'password_hash', 'role', 'is_active', 'first_name', 'last_name', 'email',
  'customer_key', 'ttl', 'failed_logins', 'locked_until', 'created_at', 'updated_at', 'username_key', 'failures_since',
] as const;
/** The account columns `accountAt` reads, of `accounts a`. */
export const ACCOUNT_COLUMNS = ACCOUNT_FIELDS.map((column) => `a.${column}`).join(', ');

/** An account from `ACCOUNT_FIELDS`, starting at column `at`. */
export const accountAt = (c: Columns, at: number): AccountRow => ({
  id: c[at] as number,
  username: c[at + 1] as string,
  name: c[at + 2] as string,
  passwordHash: c[at + 3] as string,
  role: c[at + 4] as Role,
  isActive: Boolean(c[at + 5]), // SQLite answers 1 or 0, PostgreSQL a boolean
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

export const SESSION_FIELDS = [
  'id', 'account_id', 'username', 'door', 'created_at', 'last_seen_at', 'idle_ttl', 'idle_expires_at',
  'absolute_expires_at', 'revoked_at', 'revoke_reason', 'client_ip', 'user_agent',
] as const;
/** The session columns `sessionAt` reads, of `sessions s`. */
export const SESSION_COLUMNS = SESSION_FIELDS.map((column) => `s.${column}`).join(', ');

/** A session from `SESSION_FIELDS`, starting at column `at`. */
export const sessionAt = (c: Columns, at: number): SessionRow => ({
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
export const TOKEN_SESSION_AT = 3;
export const TOKEN_ACCOUNT_AT = TOKEN_SESSION_AT + SESSION_FIELDS.length;

/** A token lookup's row (kind, created, retired; the session; the account, nulls when it is gone). */
export const foundTokenAt = (c: Columns, hash: Buffer): FoundToken => {
  const session = sessionAt(c, TOKEN_SESSION_AT);
  return {
    token: { hash, sessionId: session.id, kind: c[0] as TokenKind, createdAt: c[1] as number, retiredAt: c[2] as number | null },
    session,
    // A LEFT JOIN's missing account reads as nulls; an account's id never is null.
    account: c[TOKEN_ACCOUNT_AT] === null ? undefined : accountAt(c, TOKEN_ACCOUNT_AT),
  };
};

/** Column names of `AccountChanges`, so an update statement can be built from a fixed list only. */
export const CHANGEABLE_COLUMNS: Record<keyof AccountChanges, string> = {
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
