import type { DoorSettings } from '../../../config';
import { Forbidden, InvalidToken, TokenExpired, type Core, type RequestContext } from '../../../core';
import {
  CONSOLE_DOOR,
  CONSOLE_IDLE_SECONDS,
  CONSOLE_MAX_AGE_SECONDS,
  csrfHeaderOf,
  expiredCookieLine,
  isOperator,
  NOT_AN_OPERATOR,
  requireCsrf,
  sessionCookieLine,
} from '../auth';
import { jsonBody, operatorOf, type ConsoleOperation } from './operation';
import { operatorView } from './views';

/** The console's own log-in, log-out and "who am I": the operator's session, held in the console's cookie. */
export function consoleSessionOperations(core: Core, config: DoorSettings['console']): ConsoleOperation[] {
  const { sessions } = core;

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
          setCookies: [sessionCookieLine(issued.token, call.scope)],
        };
      },
    },
    {
      name: 'logout',
      method: 'POST',
      path: '/logout',
      access: 'public',
      async run(call) {
        await endConsoleSession(call.token, call.ctx, csrfHeaderOf(call.x.req), true);
        return { body: {}, setCookies: [expiredCookieLine(call.scope)] };
      },
    },
    {
      name: 'me',
      method: 'GET',
      path: '/me',
      access: 'admin',
      async run(call) {
        const { live, token } = operatorOf(call);
        return { body: operatorView({ account: live.account, sessionId: live.session.id, token }) };
      },
    },
  ];
}
