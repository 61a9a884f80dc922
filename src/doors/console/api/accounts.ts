import type { DoorSettings } from '../../../config';
import { Forbidden, type Core } from '../../../core';
import { LOCKED_FOR_GOOD } from '../../../core/accounts';
import { queryOf } from '../../../http/exchange';
import { jsonBody, operatorOf, type ConsoleOperation } from './operation';
import { accountIdOf, queryText } from './query';
import { accountView } from './views';

/** The accounts: list, create, deactivate and activate, lock and unlock, reset a password. */
export function accountOperations(core: Core, config: DoorSettings['console']): ConsoleOperation[] {
  const { accounts } = core;
  return [
    {
      name: 'accounts',
      method: 'GET',
      path: '/accounts',
      access: 'admin',
      async run(call) {
        const query = queryText(queryOf(call.x), 'query');
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
        const id = accountIdOf(call.x.params.id);
        if (id === operatorOf(call).live.account.id) throw new Forbidden('You cannot deactivate your own account');
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
        const id = accountIdOf(call.x.params.id);
        if (id === operatorOf(call).live.account.id) throw new Forbidden('You cannot lock your own account');
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
        const { account } = await accounts.setActive(accountIdOf(call.x.params.id), true, call.ctx);
        return { body: { account: accountView(account, core.clock.now()) } };
      },
    },
    {
      name: 'unlock-account',
      method: 'POST',
      path: '/accounts/:id/unlock',
      access: 'admin',
      async run(call) {
        const id = accountIdOf(call.x.params.id);
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
        const id = accountIdOf(call.x.params.id);
        const body = await jsonBody(call, config.jsonLimit);
        // Every session the account had ends, the admin's own console session included if it is theirs.
        await accounts.setPassword(id, body.password, call.ctx);
        return { body: {} };
      },
    },
  ];
}
