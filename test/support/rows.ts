import type { AccountRow, NewAccount, SessionRow } from '../../src/store/types';

/** The store suites' fixed time. */
export const AT = Date.UTC(2026, 5, 1, 12);

/** An account with every value distinct, so that a field read from its neighbour's column shows. */
export const ACCOUNT: NewAccount = {
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

/** A live session of `account`, every value distinct too. */
export function sessionOf(account: AccountRow, id: string, extra: Partial<SessionRow> = {}): SessionRow {
  return {
    id,
    accountId: account.id,
    username: account.username,
    door: 'xweb',
    createdAt: AT + 1,
    lastSeenAt: AT + 2,
    idleTtl: 3,
    idleExpiresAt: AT + 4000,
    absoluteExpiresAt: AT + 5000,
    revokedAt: null,
    revokeReason: null,
    clientIp: '192.0.2.7',
    userAgent: 'agent/8',
    ...extra,
  };
}
