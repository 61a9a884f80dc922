/**
 * The console's JSON API under /console/api, as the page calls it. Every address is relative to the page's
 * base (`<base href>`, which the server writes with the prefix it is served under), so the console works
 * behind a path prefix and mounted in another app alike.
 */

export interface Operator {
  user: { id: number; username: string; name: string; role: string };
  sessionId: string;
  csrfToken: string;
  csrfHeader: string;
}

export interface Session {
  id: string;
  accountId: number | null;
  username: string;
  door: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  clientIp: string | null;
  userAgent: string | null;
  current: boolean;
}

export interface Account {
  id: number;
  username: string;
  name: string;
  role: 'user' | 'integrator' | 'admin';
  isActive: boolean;
  firstName: string;
  lastName: string;
  email: string;
  ttl: number | null;
  failedLogins: number;
  lockedUntil: number | null;
  locked: boolean;
  /** Addresses locked out of the account by their own failed log-ins. */
  lockedAddresses: { clientIp: string; lockedUntil: number }[];
  createdAt: number;
  updatedAt: number;
}

export const SERIES = ['logins', 'failures', 'lockouts', 'logouts', 'revocations'] as const;
export type SeriesName = (typeof SERIES)[number];

export interface Activity {
  now: number;
  from: number;
  bucketMs: number;
  buckets: number;
  series: Record<SeriesName, number[]>;
}

export interface AuditRow {
  id: number;
  at: number;
  cid: string | null;
  event: string;
  username: string | null;
  sessionId: string | null;
  door: string | null;
  clientIp: string | null;
  outcome: string;
  detail: string | null;
  /** How many events the row stands for: more than 1 for a tallied row (refusals repeated from one address). */
  count: number;
}

/** The audit log's filter: part of a user name, an event, an outcome, a time range (epoch ms, `to` excluded). */
export interface AuditFilter {
  user?: string;
  event?: string;
  outcome?: string;
  from?: number;
  to?: number;
}

export interface AuditPage {
  now: number;
  total: number;
  rows: AuditRow[];
  /** `before` of the next (older) page; null on the last page. */
  next: number | null;
}

/** An error answer: `code` is the server's error code, `field` the field at fault for a 400. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: string;
  code?: string;
  field?: string;
}

let csrf: { header: string; token: string } | undefined;
let onLoggedOut: (() => void) | undefined;

/** Remembers the session's CSRF token (from log-in or `me`), sent with every call that changes something. */
export function useOperator(operator: Operator | undefined): void {
  csrf = operator && { header: operator.csrfHeader, token: operator.csrfToken };
}

/** Called when any call answers 401: the session has ended (idle, logged out elsewhere, revoked). */
export function whenLoggedOut(handler: () => void): void {
  onLoggedOut = handler;
}

async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers[csrf.header] = csrf.token;
  let res: Response;
  try {
    res = await fetch(`api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'Network', 'The server did not answer');
  }
  const data = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) {
    const error = data as ErrorBody;
    if (res.status === 401 && path !== '/login' && path !== '/me') onLoggedOut?.();
    throw new ApiError(res.status, error.code ?? 'Error', error.error ?? `HTTP ${res.status}`, error.field);
  }
  return data as T;
}

const q = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

export const api = {
  me: () => call<Operator>('GET', '/me'),
  login: (username: string, password: string) => call<Operator>('POST', '/login', { username, password }),
  logout: () => call<object>('POST', '/logout'),
  sessions: (filter: { user?: string; door?: string }) =>
    call<{ now: number; sessions: Session[]; truncated: boolean }>('GET', `/sessions${q(filter)}`),
  endSession: (id: string) => call<{ outcome: 'revoked' | 'already-ended' }>('DELETE', `/sessions/${encodeURIComponent(id)}`),
  endSessionsOf: (accountId: number) => call<{ ended: number }>('DELETE', `/accounts/${accountId}/sessions`),
  accounts: (query?: string) => call<{ now: number; accounts: Account[] }>('GET', `/accounts${q({ query })}`),
  createAccount: (input: Record<string, unknown>) => call<{ account: Account }>('POST', '/accounts', input),
  deactivate: (id: number) => call<{ account: Account; ended: number }>('POST', `/accounts/${id}/deactivate`),
  activate: (id: number) => call<{ account: Account }>('POST', `/accounts/${id}/activate`),
  unlock: (id: number) => call<{ account: Account }>('POST', `/accounts/${id}/unlock`),
  lock: (id: number) => call<{ account: Account; ended: number }>('POST', `/accounts/${id}/lock`),
  resetPassword: (id: number, password: string) => call<object>('POST', `/accounts/${id}/password`, { password }),
  activity: (hours: number) => call<Activity>('GET', `/activity${q({ hours })}`),
  audit: (page: AuditFilter & { before?: number; limit: number }) => call<AuditPage>('GET', `/audit${q({ ...page })}`),
  /** The export is a plain link the browser downloads (a GET: the cookie is all it needs). */
  auditExportUrl: (filter: AuditFilter) => `api/audit.csv${q({ ...filter })}`,
};
