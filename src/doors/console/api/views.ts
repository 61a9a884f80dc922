import type { Account, AddressLock, LiveSession } from '../../../core';
import { CSRF_HEADER, csrfTokenOf } from '../auth';

// What the console's API shows of the core's records: what an operator needs, never a secret.

/** A live session of any door; `current` marks the operator's own console session. */
export function sessionView(session: LiveSession['session'], currentId: string | undefined) {
  return {
    id: session.id,
    accountId: session.accountId,
    username: session.username,
    door: session.door,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: Math.min(session.idleExpiresAt, session.absoluteExpiresAt),
    idleExpiresAt: session.idleExpiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    clientIp: session.clientIp,
    userAgent: session.userAgent,
    current: session.id === currentId,
  };
}

/** An account as the console shows it: no password hash, and no customer key either (it is xWeb's secret). */
export function accountView(account: Account, now: number, addressLocks: readonly AddressLock[] = []) {
  return {
    id: account.id,
    username: account.username,
    name: account.name,
    role: account.role,
    isActive: account.isActive,
    firstName: account.firstName,
    lastName: account.lastName,
    email: account.email,
    ttl: account.ttl,
    failedLogins: account.failedLogins,
    lockedUntil: account.lockedUntil,
    locked: account.lockedUntil !== null && account.lockedUntil > now,
    /** Client addresses locked out of this account by their own failures (the owner may log in elsewhere). */
    lockedAddresses: addressLocks.map(({ clientIp, lockedUntil }) => ({ clientIp, lockedUntil })),
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
  };
}

/** The logged-in admin, with the CSRF token the page sends back on every call that changes something. */
export function operatorView(operator: { account: Account; sessionId: string; token: string }) {
  const { account } = operator;
  return {
    user: { id: account.id, username: account.username, name: account.name, role: account.role },
    sessionId: operator.sessionId,
    csrfToken: csrfTokenOf(operator.token),
    csrfHeader: CSRF_HEADER,
  };
}
