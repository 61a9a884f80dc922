import { NotFound, type Core } from '../../../core';
import { queryOf } from '../../../http/exchange';
import { operatorOf, type ConsoleOperation } from './operation';
import { accountIdOf, queryText } from './query';
import { sessionView } from './views';

/** Why the console ends a session, in the audit row and the session's own record. */
export const ENDED_HERE = 'ended from the console';
const MAX_SESSIONS_LISTED = 500;

/** The live sessions of every door: list them, end one, end every one of an account. */
export function sessionOperations(core: Core): ConsoleOperation[] {
  const { sessions } = core;
  return [
    {
      name: 'sessions',
      method: 'GET',
      path: '/sessions',
      access: 'admin',
      async run(call) {
        const usernamePart = queryText(queryOf(call.x), 'user');
        const door = queryText(queryOf(call.x), 'door', 32);
        const rows = await sessions.list({ usernamePart, door, alive: true, limit: MAX_SESSIONS_LISTED + 1 });
        const current = operatorOf(call).live.session.id;
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
        const id = call.x.params.id ?? '';
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
        const ended = await sessions.revokeAllOf(accountIdOf(call.x.params.id), ENDED_HERE, call.ctx);
        return { body: { ended: ended.length } };
      },
    },
  ];
}
