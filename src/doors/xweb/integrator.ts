import type { Config } from '../../config';
import { BadInput, InvalidCredentials, InvalidToken, TokenExpired, type Core, type LiveSession, type LoginOptions, type RequestContext } from '../../core';
import { RequestError } from '../../http/request-errors';

/** What every xWeb operation is given: the core and the door's own settings. */
export interface XwebDeps {
  core: Core;
  xweb: Config['xweb'];
}

/**
 * The integrator: the program calling xWeb. It proves itself with the token `Authenticate` gave it (SOAP
 * header, JSON Bearer), or over JSON with HTTP Basic, which authenticates it for that one call.
 */
export type Caller =
  | { scheme: 'token'; token: string | undefined }
  | { scheme: 'basic'; username: string; password: string };

interface Admitted {
  token: string;
  /**
   * The presented token's session as verified on admission, rotated from there without a second lookup.
   * Absent when this very call opened the session (Basic): the token is answered as it is.
   */
  live?: LiveSession;
}

/**
 * How integrator sessions open: guid tokens, integrators only, an idle timeout of `tokenTtl`. Under
 * `absolute` expiration the session also ends `tokenTtl` after Authenticate however busy it is; under
 * `sliding` each call moves the timeout and only the core's maximum age bounds it.
 */
export function integratorLogin(xweb: Config['xweb']): LoginOptions {
  return {
    kind: 'guid',
    roles: ['integrator'],
    idleTtl: xweb.tokenTtl,
    maxAge: xweb.expiration === 'absolute' ? xweb.tokenTtl : undefined,
  };
}

/** Checks the caller's token (or Basic credentials); a missing, dead or non-integrator token is `InvalidToken`. */
export async function admitCaller({ core, xweb }: XwebDeps, caller: Caller, ctx: RequestContext): Promise<Admitted> {
  if (caller.scheme === 'basic') {
    try {
      const issued = await core.sessions.login(caller.username, caller.password, integratorLogin(xweb), ctx);
      return { token: issued.token };
    } catch (err) {
      // An empty user name or password in a Basic header is a wrong credential, not a field of the request.
      throw err instanceof BadInput ? new InvalidCredentials() : err;
    }
  }
  if (caller.token === undefined) throw new RequestError('Unauthenticated', 'No integrator token');
  const live = await core.sessions.verify(caller.token);
  if (!isIntegrator(live)) throw new InvalidToken();
  return { token: caller.token, live };
}

/** A customer token (a `user` account's) or another door's token is no integrator token. */
function isIntegrator(live: LiveSession): boolean {
  return live.token.kind === 'guid' && live.account.role === 'integrator';
}

/**
 * `admitCaller` for a token caller, and the check of a customer's `token` (its session's use recorded), in one
 * store call: the customer's token is read only once the integrator is admitted. Answers the admission, and
 * the customer's live session or undefined (a token unknown, or whose session has ended).
 */
export async function admitValidating(
  { core }: XwebDeps,
  caller: Caller & { scheme: 'token' },
  token: string,
): Promise<{ admitted: Admitted; customer: LiveSession | undefined }> {
  if (caller.token === undefined) throw new RequestError('Unauthenticated', 'No integrator token');
  const checked = await core.sessions.verifyAdmitted(caller.token, isIntegrator, token);
  return {
    admitted: { token: caller.token, live: checked.caller },
    customer: checked.token instanceof InvalidToken || checked.token instanceof TokenExpired ? undefined : checked.token,
  };
}

/**
 * The integrator token a successful call answers. `absolute`: the same one. `sliding`: a new one with a fresh
 * timeout, the presented one staying valid for `graceSeconds` so the integrator's concurrent calls succeed.
 * Rotation happens only on success: a failed call leaves the integrator its token.
 */
export async function handBack({ core, xweb }: XwebDeps, admitted: Admitted, ctx: RequestContext): Promise<string> {
  if (!admitted.live || xweb.expiration === 'absolute') return admitted.token;
  try {
    return (await core.sessions.renewVerified(admitted.live, ctx, xweb.graceSeconds)).token;
  } catch (err) {
    // The call itself ended the integrator's session (WebLogout of its own token): nothing left to renew.
    if (err instanceof TokenExpired) return admitted.token;
    throw err;
  }
}
