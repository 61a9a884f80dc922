import type { Request, Response } from 'express';
import type { Config } from '../../config';
import { BadInput, Forbidden, InvalidToken, NotFound, TokenExpired, type Account, type Core, type LiveSession, type RequestContext } from '../../core';
import { LOCKED_FOR_GOOD } from '../../core/accounts';
import type { AddressLock } from '../../store/types';
import { readJsonObject } from '../../http/body';
import { RequestError } from '../../http/request-errors';
import {
  CONSOLE_DOOR,
  CONSOLE_IDLE_SECONDS,
  CONSOLE_MAX_AGE_SECONDS,
  CSRF_HEADER,
  csrfTokenOf,
  expiredCookieLine,
  isOperator,
  NOT_AN_OPERATOR,
  requireCsrf,
  sessionCookieLine,
  type Operator,
} from './auth';

type SessionRow = LiveSession['session'];

/** One call as an operation sees it. */
export interface ConsoleCall {
  req: Request;
  res: Response;
  /** The request's context; for an admin operation it names the admin (`actor`), for the audit rows. */
  ctx: RequestContext;
  /** The console session cookie's token, if the request carried one. */
  token: string | undefined;
  /** Set for admin operations: the admin behind the session. */
  operator: Operator | undefined;
  secure: boolean;
}

export interface ConsoleAnswer {
  status?: number;
  body: object;
  setCookies?: string[];
}

export interface ConsoleOperation {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Under /console/api. */
  path: string;
  /**
   * `admin`: a live console session of an active admin account, and for anything but GET the CSRF header.
   * `public`: log-in and log-out, which check what they need themselves.
   */
  access: 'public' | 'admin';
  run(call: ConsoleCall): Promise<ConsoleAnswer>;
}

/** Why the console ends a session, in the audit row and the session's own record. */
const ENDED_HERE = 'ended from the console';
const MAX_SESSIONS_LISTED = 500;
const MAX_AUDIT_ROWS = 500;
const MAX_ACTIVITY_HOURS = 24;
const MINUTE = 60_000;

/** The series of the activity chart: which audit rows each one counts. */
const SERIES = {
  logins: (event: string, outcome: string) => event === 'login' && outcome === 'ok',
  failures: (event: string, outcome: string) => event === 'login' && outcome === 'failed',
  lockouts: (event: string) => event === 'lockout',
  logouts: (event: string) => event === 'logout',
  revocations: (event: string) => event === 'revoke',
} as const;

function sessionView(session: SessionRow, currentId: string | undefined) {
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
function accountView(account: Account, now: number, addressLocks: readonly AddressLock[] = []) {
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

function operatorView(operator: { account: Account; sessionId: string; token: string }) {
  const { account } = operator;
  return {
    user: { id: account.id, username: account.username, name: account.name, role: account.role },
    sessionId: operator.sessionId,
    csrfToken: csrfTokenOf(operator.token),
    csrfHeader: CSRF_HEADER,
  };
}

/** A query parameter given once, as text of at most `max` characters; undefined when absent or empty. */
function queryText(req: Request, name: string, max = 128): string | undefined {
  const value = req.query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw new BadInput(name, 'invalid', `Invalid ${name}: expected text of at most ${max} characters`);
  }
  return value;
}

/** A whole-number query parameter from `min` to `max`, `fallback` when absent. */
function queryWhole(req: Request, name: string, min: number, max: number, fallback: number): number {
  const text = queryText(req, name, 6);
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new BadInput(name, 'invalid', `Invalid ${name}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** The account id of the path: a whole number from 1. */
function accountIdOf(req: Request): number {
  const raw = String(req.params.id);
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new BadInput('id', 'invalid', 'Invalid id: expected a whole number from 1');
  return n;
}

/**
 * A body of this API: JSON, said to be JSON. The Content-Type matters here because it keeps other sites out
 * of the log-in, the one call no session protects: a form can post `text/plain` that parses as JSON, but
 * only a script can send `application/json`, and a browser lets a script do that cross-site only after a
 * CORS preflight this server never grants.
 */
async function jsonBody(call: ConsoleCall, limit: number): Promise<Record<string, unknown>> {
  if (!call.req.is('application/json')) {
    throw new RequestError('MalformedJson', 'The request body must be JSON, sent as Content-Type: application/json');
  }
  return readJsonObject(call.req, limit);
}

function requireOperatorOf(call: ConsoleCall): Operator {
  if (!call.operator) throw new Error('admin operation without an operator');
  return call.operator;
}

/** Every call of the console's JSON API: one row each, each a few steps over the core. */
export function consoleOperations(core: Core, config: Config): readonly ConsoleOperation[] {
  const { accounts, sessions, audit } = core;

  /** Ends the session behind `token` if it is a console session; anything else has nothing to end here. */
  async function endConsoleSession(token: string | undefined, ctx: RequestContext, header: string | undefined, csrf: boolean): Promise<void> {
    if (token === undefined) return;
    const live = await sessions.verify(token).catch((err: unknown) => {
      if (err instanceof InvalidToken || err instanceof TokenExpired) return undefined;
      throw err;
    });
    if (!live || live.session.door !== CONSOLE_DOOR) return;
    if (csrf) requireCsrf(token, header);
    await sessions.logout(token, { ...ctx, actor: live.account.username });
  }

  return [
    {
      name: 'login',
      method: 'POST',
      path: '/login',
      access: 'public',
      async run(call) {
        const body = await jsonBody(call, config.jsonLimit);
        const issued = await sessions.login(
          body.username,
          body.password,
          { kind: 'cookie', idleTtl: CONSOLE_IDLE_SECONDS, maxAge: CONSOLE_MAX_AGE_SECONDS },
          call.ctx,
        );
        // Right credentials, but not an admin: the session just opened ends at once, and the answer says why.
        if (!isOperator(issued.account)) {
          await sessions.revoke(issued.session.id, 'console: not an admin', call.ctx);
          throw new Forbidden(NOT_AN_OPERATOR);
        }
        // The new session replaces the one this browser had, which would otherwise live on unseen.
        await endConsoleSession(call.token, call.ctx, undefined, false);
        return {
          body: operatorView({ account: issued.account, sessionId: issued.session.id, token: issued.token }),
          setCookies: [sessionCookieLine(issued.token, call.secure)],
        };
      },
    },
    {
      name: 'logout',
      method: 'POST',
      path: '/logout',
      access: 'public',
      async run(call) {
        await endConsoleSession(call.token, call.ctx, call.req.get(CSRF_HEADER), true);
        return { body: {}, setCookies: [expiredCookieLine(call.secure)] };
      },
    },
    {
      name: 'me',
      method: 'GET',
      path: '/me',
      access: 'admin',
      async run(call) {
        const { live, token } = requireOperatorOf(call);
        return { body: operatorView({ account: live.account, sessionId: live.session.id, token }) };
      },
    },
    {
      name: 'sessions',
      method: 'GET',
      path: '/sessions',
      access: 'admin',
      async run(call) {
        const username = queryText(call.req, 'user');
        const door = queryText(call.req, 'door', 32);
        const rows = await sessions.list({ username, door, alive: true, limit: MAX_SESSIONS_LISTED + 1 });
        const current = requireOperatorOf(call).live.session.id;
        return {
          body: {
            now: core.clock.now(),
            sessions: rows.slice(0, MAX_SESSIONS_LISTED).map((row) => sessionView(row, current)),
            truncated: rows.length > MAX_SESSIONS_LISTED,
          },
        };
      },
    },
    {
      name: 'end-session',
      method: 'DELETE',
      path: '/sessions/:id',
      access: 'admin',
      async run(call) {
        const id = String(call.req.params.id);
        const outcome = await sessions.revoke(id, ENDED_HERE, call.ctx);
        if (outcome === 'unknown') throw new NotFound('No such session');
        return { body: { outcome } };
      },
    },
    {
      name: 'end-sessions-of-account',
      method: 'DELETE',
      path: '/accounts/:id/sessions',
      access: 'admin',
      async run(call) {
        const ended = await sessions.revokeAllOf(accountIdOf(call.req), ENDED_HERE, call.ctx);
        return { body: { ended: ended.length } };
      },
    },
    {
      name: 'accounts',
      method: 'GET',
      path: '/accounts',
      access: 'admin',
      async run(call) {
        const query = queryText(call.req, 'query');
        const now = core.clock.now();
        const locks = await accounts.addressLocks();
        return { body: { now, accounts: (await accounts.list(query)).map((a) => accountView(a, now, locks.get(a.id))) } };
      },
    },
    {
      name: 'create-account',
      method: 'POST',
      path: '/accounts',
      access: 'admin',
      async run(call) {
        const body = await jsonBody(call, config.jsonLimit);
        const account = await accounts.create(
          {
            username: body.username,
            // No password at all would make an account nobody can log in to: the console always asks for one.
            password: body.password ?? '',
            role: body.role,
            name: body.name === '' ? undefined : body.name,
            firstName: body.firstName,
            lastName: body.lastName,
            email: body.email,
            ttl: body.ttl,
          },
          call.ctx,
        );
        return { status: 201, body: { account: accountView(account, core.clock.now()) } };
      },
    },
    {
      name: 'deactivate-account',
      method: 'POST',
      path: '/accounts/:id/deactivate',
      access: 'admin',
      async run(call) {
        const id = accountIdOf(call.req);
        if (id === requireOperatorOf(call).live.account.id) throw new Forbidden('You cannot deactivate your own account');
        // An inactive account cannot log in; its open sessions end too, at every door.
        const { account, ended } = await accounts.setActive(id, false, call.ctx);
        return { body: { account: accountView(account, core.clock.now()), ended: ended.length } };
      },
    },
    {
      name: 'lock-account',
      method: 'POST',
      path: '/accounts/:id/lock',
      access: 'admin',
      async run(call) {
        const id = accountIdOf(call.req);
        if (id === requireOperatorOf(call).live.account.id) throw new Forbidden('You cannot lock your own account');
        // Locked until unlocked; its open sessions end, at every door.
        const ended = await accounts.lock(id, LOCKED_FOR_GOOD, call.ctx);
        return { body: { account: accountView(await accounts.get(id), core.clock.now()), ended: ended.length } };
      },
    },
    {
      name: 'activate-account',
      method: 'POST',
      path: '/accounts/:id/activate',
      access: 'admin',
      async run(call) {
        const { account } = await accounts.setActive(accountIdOf(call.req), true, call.ctx);
        return { body: { account: accountView(account, core.clock.now()) } };
      },
    },
    {
      name: 'unlock-account',
      method: 'POST',
      path: '/accounts/:id/unlock',
      access: 'admin',
      async run(call) {
        const id = accountIdOf(call.req);
        await accounts.unlock(id, call.ctx);
        return { body: { account: accountView(await accounts.get(id), core.clock.now()) } };
      },
    },
    {
      name: 'reset-password',
      method: 'POST',
      path: '/accounts/:id/password',
      access: 'admin',
      async run(call) {
        const id = accountIdOf(call.req);
        const body = await jsonBody(call, config.jsonLimit);
        // Every session the account had ends, the admin's own console session included if it is theirs.
        await accounts.setPassword(id, body.password, call.ctx);
        return { body: {} };
      },
    },
    {
      name: 'activity',
      method: 'GET',
      path: '/activity',
      access: 'admin',
      async run(call) {
        const hours = queryWhole(call.req, 'hours', 1, MAX_ACTIVITY_HOURS, 3);
        const now = core.clock.now();
        const buckets = hours * 60;
        const from = now - (now % MINUTE) - (buckets - 1) * MINUTE;
        const series = Object.fromEntries(Object.keys(SERIES).map((name) => [name, new Array<number>(buckets).fill(0)])) as Record<
          keyof typeof SERIES,
          number[]
        >;
        for (const row of await audit.counts(from, MINUTE)) {
          const index = Math.round((row.bucket - from) / MINUTE);
          if (index < 0 || index >= buckets) continue;
          for (const [name, counts] of Object.entries(SERIES) as [keyof typeof SERIES, (e: string, o: string) => boolean][]) {
            if (counts(row.event, row.outcome)) series[name][index] += row.count;
          }
        }
        return { body: { now, from, bucketMs: MINUTE, buckets, series } };
      },
    },
    {
      name: 'audit',
      method: 'GET',
      path: '/audit',
      access: 'admin',
      async run(call) {
        const limit = queryWhole(call.req, 'limit', 1, MAX_AUDIT_ROWS, 100);
        return { body: { rows: await audit.recent(limit) } };
      },
    },
  ];
}
