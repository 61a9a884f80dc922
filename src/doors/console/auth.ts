import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse, serialize, type SerializeOptions } from 'cookie';
import type { CookieScope } from '../../http/client';
import { sameSecret } from '../../http/credentials';
import { Forbidden, InvalidToken, TokenExpired, type Account, type Core, type LiveSession, type RequestContext } from '../../core';
import { RequestError } from '../../http/request-errors';

export const CONSOLE_PATH = '/console';
export const CONSOLE_DOOR = 'console';
export const SESSION_COOKIE = 'dualgate_console';
export const CSRF_HEADER = 'X-CSRF-Token';

/** A console session idles out after 30 minutes and ends after 8 hours, whatever the server's defaults. */
export const CONSOLE_IDLE_SECONDS = 1800;
export const CONSOLE_MAX_AGE_SECONDS = 8 * 3600;

/** The console's session cookie from the request; an empty value counts as absent. */
export function sessionCookie(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  return header ? parse(header)[SESSION_COOKIE] || undefined : undefined;
}

/** The request's `X-CSRF-Token` header, if it has one. */
export function csrfHeaderOf(req: IncomingMessage): string | undefined {
  const value = req.headers[CSRF_HEADER.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The session cookie: out of reach of page scripts, never sent with a request another site starts, and only
 * under /console; `Secure` when the request came over HTTPS (directly or through a trusted proxy).
 */
export function sessionCookieLine(token: string, scope: CookieScope): string {
  return serialize(SESSION_COOKIE, token, cookieOptions(scope));
}

export function expiredCookieLine(scope: CookieScope): string {
  return serialize(SESSION_COOKIE, '', { ...cookieOptions(scope), maxAge: 0 });
}

function cookieOptions({ secure, mountPath }: CookieScope): SerializeOptions {
  return { path: mountPath + CONSOLE_PATH, httpOnly: true, sameSite: 'strict', secure };
}

/**
 * The CSRF token of a console session: an HMAC keyed by the session's own token, so it needs no storage,
 * dies with the session, and cannot be worked out by anyone who cannot read the HttpOnly cookie. The page
 * gets it in the body of the log-in and `me` answers (which another site cannot read) and sends it back in
 * `X-CSRF-Token` on every call that changes something.
 */
export function csrfTokenOf(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('dualgate console csrf').digest('base64url');
}

/** Compared through digests, so the time taken says nothing about where the values differ, or their lengths. */
export function requireCsrf(sessionToken: string, header: string | undefined): void {
  if (!header || !sameSecret(csrfTokenOf(sessionToken), header)) {
    throw new RequestError('CsrfMismatch', `The ${CSRF_HEADER} header is missing or wrong`);
  }
}

/** Who may use the console: an active admin account. */
export function isOperator(account: Account): boolean {
  return account.role === 'admin' && account.isActive;
}

export const NOT_AN_OPERATOR = 'Only an active admin account may use the console';

export interface Operator {
  live: LiveSession;
  token: string;
  /** The request's context with the admin's name, for the audit rows of what they change. */
  ctx: RequestContext;
}

/**
 * The admin behind the request's console session. No cookie, or a dead or foreign session, is
 * `Unauthenticated` (401). A session whose account is no longer an active admin is ended here and answers
 * `Forbidden` (403): the role is checked on every call, not only at log-in.
 */
export async function requireOperator(core: Core, token: string | undefined, ctx: RequestContext): Promise<Operator> {
  if (token === undefined) throw new RequestError('Unauthenticated', 'Not logged in');
  let live: LiveSession;
  try {
    live = await core.sessions.verify(token);
  } catch (err) {
    if (err instanceof InvalidToken || err instanceof TokenExpired) throw new RequestError('Unauthenticated', 'Not logged in');
    throw err;
  }
  // A cookie token from another door (Crafter's JSESSIONID) is a session, but not a console session.
  if (live.session.door !== CONSOLE_DOOR) throw new RequestError('Unauthenticated', 'Not logged in');
  if (!isOperator(live.account)) {
    await core.sessions.revoke(live.session.id, 'console: not an admin', ctx);
    throw new Forbidden(NOT_AN_OPERATOR);
  }
  return { live, token, ctx: { ...ctx, actor: live.account.username } };
}
