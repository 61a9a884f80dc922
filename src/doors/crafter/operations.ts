import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DoorSettings } from '../../config';
import type { CookieScope } from '../../http/client';
import { InvalidToken, TokenExpired, type Account, type Core, type RequestContext } from '../../core';
import { readJsonObject } from '../../http/body';
import type { CookieWriter, RequestCookies } from './cookies';

/** One call as an operation sees it. */
export interface StudioCall {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: RequestContext;
  cookies: RequestCookies;
  /** `Secure` when the request came over HTTPS (directly, or through a trusted proxy), and the mount path. */
  scope: CookieScope;
}

/** A successful answer: always 200, a JSON body, and any cookies to set. */
export interface StudioAnswer {
  body: object;
  setCookies?: string[];
}

export interface StudioOperation {
  name: string;
  /** The file name after `.../api/1/services/api/1/security/`. */
  file: string;
  method: 'GET' | 'POST';
  /** Needs the XSRF cookie and header pair (Studio exempts logout). */
  csrf: boolean;
  /** Hands out an `XSRF-TOKEN` cookie when the request came without one (logout expires it instead). */
  issuesXsrf: boolean;
  run(call: StudioCall): Promise<StudioAnswer>;
}

/** The user as Studio describes one. */
function studioUser(account: Account) {
  return { username: account.username, first_name: account.firstName, last_name: account.lastName, email: account.email };
}

const INACTIVE = { message: null, active: false, user: null };

/** Dead or unknown sessions are an answer here, not an error. */
function isDeadSession(err: unknown): boolean {
  return err instanceof InvalidToken || err instanceof TokenExpired;
}

/** The door's operations: one row each, each a short list of steps over the core. */
export function studioOperations(core: Core, config: DoorSettings['crafter'], cookies: CookieWriter): readonly StudioOperation[] {
  const { sessions } = core;

  /** Ends the session behind `token`, if any: a token this server never issued has nothing to end. */
  async function endSession(token: string | undefined, ctx: RequestContext): Promise<void> {
    if (token === undefined) return;
    await sessions.logout(token, ctx).catch((err: unknown) => {
      if (!(err instanceof InvalidToken)) throw err;
    });
  }

  return [
    {
      name: 'login',
      file: 'login.json',
      method: 'POST',
      csrf: true,
      issuesXsrf: true,
      async run({ req, ctx, cookies: sent, scope }) {
        const body = await readJsonObject(req, config.jsonLimit);
        const issued = await sessions.login(body.username, body.password, { kind: 'cookie' }, ctx);
        // The new session replaces the one this browser had, which would otherwise live on unseen.
        await endSession(sent.session, ctx);
        return { body: studioUser(issued.account), setCookies: [cookies.session(issued.token, scope)] };
      },
    },
    {
      name: 'logout',
      file: 'logout.json',
      method: 'POST',
      csrf: false,
      issuesXsrf: false,
      async run({ ctx, cookies: sent, scope }) {
        await endSession(sent.session, ctx);
        return { body: { message: 'OK' }, setCookies: cookies.expireAll(scope) };
      },
    },
    {
      name: 'validate-session',
      file: 'validate-session.json',
      method: 'GET',
      csrf: false,
      issuesXsrf: true,
      async run({ cookies: sent }) {
        if (sent.session === undefined) return { body: INACTIVE };
        const live = await sessions.verify(sent.session).catch((err: unknown) => {
          if (isDeadSession(err)) return undefined;
          throw err;
        });
        return { body: live ? { message: 'OK', active: true, user: studioUser(live.account) } : INACTIVE };
      },
    },
  ];
}
