import { TokenExpired, type Account } from '../../src/core';
import { startTestServer, type TestServer } from '../support/server';
import { basic, CHALLENGE, jsonLogIn, postJson, zatoClient, zatoFaultString } from './support';

const ROOT = { username: 'root', password: 'pw-root' };
const CID = expect.stringMatching(/^K\d{39}$/);

/** Every admin service, with a body it would accept. */
const ADMIN_CALLS: [string, Record<string, unknown>][] = [
  ['zato.security.jwt.create', { name: 'New', username: 'new', password: 'pw-new' }],
  ['zato.security.jwt.edit', { id: 2, name: 'Renamed' }],
  ['zato.security.jwt.change-password', { id: 2, password1: 'pw-x', password2: 'pw-x' }],
  ['zato.security.jwt.delete', { id: 2 }],
  ['zato.security.jwt.get-list', {}],
];

const asList = <T>(value: T | T[] | null | undefined): T[] => (value == null ? [] : Array.isArray(value) ? value : [value]);

describe('Zato JWT admin services', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
    await server.addUser('root', ROOT.password, 'admin');
    await server.addUser('carol', 'pw-carol', 'user');
  });
  afterEach(() => server.stop());

  const json = (service: string, body: unknown, headers: Record<string, string> = basic(ROOT.username, ROOT.password)) =>
    postJson(server.url, `/zato/json/${service}`, body, headers);
  const accountNamed = async (username: string) => (await server.core.accounts.findByUsername(username))!;
  const canLogIn = (username: string, password: string) => jsonLogIn(server.url, username, password).then(() => true, () => false);
  const auditOf = async (event: string) => (await server.core.audit.recent(100)).filter((row) => row.event === event);
  /** Moves the clock so that any write would show in `updatedAt`, then answers every account as it is. */
  const accountsNow = async (): Promise<Account[]> => {
    server.clock.advance(1000);
    return server.core.accounts.list();
  };
  /** The accounts without what a wrong Basic password rightly changes: the failure count, the lock, updatedAt. */
  const definitions = async () => (await accountsNow()).map(({ failedLogins: _f, failuresSince: _s, lockedUntil: _l, updatedAt: _u, ...rest }) => rest);

  it('takes an account through its whole life over JSON', async () => {
    const created = await json('zato.security.jwt.create', { name: 'Sales JWT', username: 'sam', password: 'pw-sam-1', is_active: true, ttl: 600 });
    expect(created.status).toBe(200);
    const id = (await accountNamed('sam')).id;
    expect(created.text).toBe(
      JSON.stringify({
        zato_env: { details: '', result: 'ZATO_OK', cid: created.headers.get('x-zato-cid') },
        zato_security_jwt_create_response: { id, name: 'Sales JWT' },
      }),
    );
    expect(await accountNamed('sam')).toMatchObject({ name: 'Sales JWT', role: 'user', isActive: true, ttl: 600 });

    const listed = await json('zato.security.jwt.get-list', { query: 'Sales' });
    expect(listed.body.zato_security_jwt_get_list_response).toEqual([{ id, name: 'Sales JWT', is_active: true, username: 'sam', ttl: 600 }]);

    // The same account, at the JSON and SOAP doors and at the core the other doors use.
    const token = await jsonLogIn(server.url, 'sam', 'pw-sam-1');
    expect((await server.core.sessions.verify(token)).session.idleTtl).toBe(600);
    expect((await (await zatoClient(server.url)).call('zato.security.jwt.log-in', { username: 'sam', password: 'pw-sam-1' })).item.token).toBeDefined();
    for (const kind of ['guid', 'cookie'] as const) {
      await expect(server.core.sessions.login('sam', 'pw-sam-1', { kind }, { cid: null, door: kind })).resolves.toBeDefined();
    }

    const deactivated = await json('zato.security.jwt.edit', { id, is_active: false });
    expect(deactivated.body.zato_security_jwt_edit_response).toEqual({ id, name: 'Sales JWT' });
    expect(await canLogIn('sam', 'pw-sam-1')).toBe(false);
    // Deactivating ends every live session of the account, at every door.
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    expect(await server.core.sessions.list({ username: 'sam', alive: true })).toEqual([]);

    const edited = await json('zato.security.jwt.edit', { id: String(id), name: 'Support JWT', is_active: 'true', ttl: '60' });
    expect(edited.body.zato_security_jwt_edit_response).toEqual({ id, name: 'Support JWT' });
    expect((await json('zato.security.jwt.get-list', { query: 'Support' })).body.zato_security_jwt_get_list_response).toEqual([
      { id, name: 'Support JWT', is_active: true, username: 'sam', ttl: 60 },
    ]);

    const changed = await json('zato.security.jwt.change-password', { id, password1: 'pw-sam-2', password2: 'pw-sam-2' });
    expect(changed.body.zato_security_jwt_change_password_response).toEqual({ id });
    expect(await canLogIn('sam', 'pw-sam-1')).toBe(false);
    expect(await canLogIn('sam', 'pw-sam-2')).toBe(true);

    const deleted = await json('zato.security.jwt.delete', { id });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ zato_env: { details: '', result: 'ZATO_OK', cid: CID }, zato_security_jwt_delete_response: {} });
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    expect(await server.core.sessions.list({ username: 'sam', alive: true })).toEqual([]);
    expect(await canLogIn('sam', 'pw-sam-2')).toBe(false);
    expect((await json('zato.security.jwt.get-list', {})).body.zato_security_jwt_get_list_response.map((d: { username: string }) => d.username)).toEqual([
      'admin',
      'root',
      'carol',
    ]);

    for (const event of ['account-create', 'account-edit', 'account-password', 'account-delete']) {
      const rows = (await auditOf(event)).filter((row) => row.username === 'sam');
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row).toMatchObject({ door: 'zato', detail: expect.stringMatching(/by root$/), cid: CID });
    }
  });

  it('takes an account through its whole life over SOAP, with node-soap\'s client from the WSDL', async () => {
    const zato = await zatoClient(server.url, ROOT);
    const created = await zato.call('zato.security.jwt.create', { name: 'Sales JWT', username: 'sam', password: 'pw-sam-1', ttl: 600 });
    const id = (await accountNamed('sam')).id;
    expect(created).toEqual({ zato_env: { cid: CID, result: 'ZATO_OK' }, item: { id, name: 'Sales JWT' } });

    const listed = await zato.call('zato.security.jwt.get-list', { query: 'sam' });
    expect(asList(listed.item_list.item)).toEqual([{ id, name: 'Sales JWT', is_active: true, username: 'sam', ttl: 600 }]);
    const everyone = await zato.call('zato.security.jwt.get-list', {});
    expect(asList(everyone.item_list.item).map((d: { username: string }) => d.username)).toEqual(['admin', 'root', 'carol', 'sam']);
    expect(asList(everyone.item_list.item)[0]).not.toHaveProperty('ttl');

    const token = await jsonLogIn(server.url, 'sam', 'pw-sam-1');
    expect(await zato.call('zato.security.jwt.edit', { id, is_active: false })).toMatchObject({ item: { id, name: 'Sales JWT' } });
    expect(await canLogIn('sam', 'pw-sam-1')).toBe(false);
    // Deactivating ends every live session of the account, at every door.
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    expect(await server.core.sessions.list({ username: 'sam', alive: true })).toEqual([]);
    await zato.call('zato.security.jwt.edit', { id, name: 'Support JWT', is_active: true, ttl: 60 });
    expect(await accountNamed('sam')).toMatchObject({ name: 'Support JWT', isActive: true, ttl: 60 });

    const changed = await zato.call('zato.security.jwt.change-password', { name: 'Support JWT', password1: 'pw-sam-2', password2: 'pw-sam-2' });
    expect(changed).toEqual({ zato_env: { cid: CID, result: 'ZATO_OK' }, item: { id } });
    expect(await canLogIn('sam', 'pw-sam-2')).toBe(true);

    expect(await zato.call('zato.security.jwt.delete', { id })).toEqual({ zato_env: { cid: CID, result: 'ZATO_OK' } });
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    expect(await server.core.accounts.findByUsername('sam')).toBeUndefined();
    expect((await auditOf('account-delete'))[0]).toMatchObject({ username: 'sam', detail: 'by root' });
  });

  it('makes an account without a password that cannot log in until one is set', async () => {
    const created = await json('zato.security.jwt.create', { name: 'Later', username: 'later' });
    expect(created.status).toBe(200);
    expect(await accountNamed('later')).toMatchObject({ isActive: true, ttl: null });
    const { id } = created.body.zato_security_jwt_create_response;
    await json('zato.security.jwt.change-password', { id, password1: 'pw-later', password2: 'pw-later' });
    expect(await canLogIn('later', 'pw-later')).toBe(true);
  });

  describe('who may call them', () => {
    it.each(ADMIN_CALLS)('%s over JSON: 401 with a challenge without or with wrong credentials, 403 for a non-admin', async (service, body) => {
      const before = await definitions();
      const cases: [Record<string, string>, number, string][] = [
        [{}, 401, 'HTTP Basic credentials of an admin account are required'],
        [{ Authorization: 'Bearer abc' }, 401, 'HTTP Basic credentials of an admin account are required'],
        [{ Authorization: 'Basic !!!' }, 401, 'HTTP Basic credentials of an admin account are required'],
        [basic('root', 'wrong'), 401, 'Invalid username or password'],
        [basic('nobody', 'pw-root'), 401, 'Invalid username or password'],
        [basic('root', ''), 401, 'Invalid username or password'],
        [basic('carol', 'pw-carol'), 403, 'Only an admin account may call this service'],
      ];
      for (const [headers, status, details] of cases) {
        const res = await json(service, body, headers);
        expect([res.status, res.body]).toEqual([status, { zato_env: { result: 'ZATO_ERROR', cid: CID, details } }]);
        expect(res.headers.get('www-authenticate')).toBe(status === 401 ? CHALLENGE : null);
      }
      expect(await definitions()).toEqual(before);
    });

    it.each(ADMIN_CALLS)('%s over SOAP: a fault with the same messages, the challenge header on 401 causes', async (service, body) => {
      const before = await definitions();
      const cases: [{ username: string; password: string } | undefined, string, boolean][] = [
        [undefined, 'HTTP Basic credentials of an admin account are required', true],
        [{ username: 'root', password: 'wrong' }, 'Invalid username or password', true],
        [{ username: 'carol', password: 'pw-carol' }, 'Only an admin account may call this service', false],
      ];
      for (const [credentials, message, challenged] of cases) {
        const fault = await (await zatoClient(server.url, credentials)).fault(service, body);
        expect(fault).toMatchObject({ status: 500, faultcode: 'soap:Client' });
        expect(fault.faultstring).toMatch(zatoFaultString(message));
        expect(fault.headers['www-authenticate']).toBe(challenged ? CHALLENGE : undefined);
      }
      expect(await definitions()).toEqual(before);
    });

    it('locks an admin out from the address of five wrong Basic passwords: the answer of a wrong password even to the right one', async () => {
      for (let i = 0; i < 5; i++) expect((await json('zato.security.jwt.get-list', {}, basic('root', 'wrong'))).status).toBe(401);
      const locked = await json('zato.security.jwt.get-list', {});
      expect([locked.status, locked.body.zato_env.details]).toEqual([401, 'Invalid username or password']);
      server.clock.advance(15 * 60_000);
      expect((await json('zato.security.jwt.get-list', {})).status).toBe(200);
    });

    it('needs no credentials for log-in and log-out, whatever Authorization says', async () => {
      const res = await postJson(server.url, '/zato/json/zato.security.jwt.log-in', { username: 'carol', password: 'pw-carol' }, basic('nobody', 'x'));
      expect(res.status).toBe(200);
    });
  });

  describe('what they refuse, changing nothing', () => {
    let samId: number;
    beforeEach(async () => {
      samId = (await server.core.accounts.create({ username: 'sam', name: 'Sales JWT', password: 'pw-sam' }, { cid: null, door: 'cli' })).id;
    });

    const refusals: [string, string, Record<string, unknown>, number, string][] = [
      ['a duplicate name', 'zato.security.jwt.create', { name: 'Sales JWT', username: 'other', password: 'pw' }, 409, 'JWT definition `Sales JWT` already exists'],
      ['a duplicate username', 'zato.security.jwt.create', { name: 'Other', username: 'sam', password: 'pw' }, 409, 'JWT definition with username `sam` already exists'],
      ['a rename onto a taken name', 'zato.security.jwt.edit', { id: 3, name: 'Sales JWT' }, 409, 'JWT definition `Sales JWT` already exists'],
      ['an unknown id to edit', 'zato.security.jwt.edit', { id: 999, name: 'x' }, 404, 'No such account: 999'],
      ['an unknown id to delete', 'zato.security.jwt.delete', { id: 999 }, 404, 'No such account: 999'],
      ['an unknown id for a password', 'zato.security.jwt.change-password', { id: 999, password1: 'a', password2: 'a' }, 404, 'No such account: 999'],
      ['an unknown name for a password', 'zato.security.jwt.change-password', { name: 'Nope', password1: 'a', password2: 'a' }, 404, 'No such account: Nope'],
      ['mismatched passwords', 'zato.security.jwt.change-password', { id: 4, password1: 'pw-a', password2: 'pw-b' }, 400, 'password1 and password2 do not match'],
      ['a password over 72 bytes', 'zato.security.jwt.change-password', { id: 4, password1: 'é'.repeat(37), password2: 'é'.repeat(37) }, 400, 'Invalid password1: longer than 72 bytes'],
      ['neither id nor name for a password', 'zato.security.jwt.change-password', { password1: 'a', password2: 'a' }, 400, 'Missing element: id'],
      ['a missing password2', 'zato.security.jwt.change-password', { id: 4, password1: 'a' }, 400, 'Missing element: password2'],
      ['a ttl of letters', 'zato.security.jwt.create', { name: 'T', username: 't', ttl: 'abc' }, 400, 'Invalid ttl: expected whole seconds from 1 to 315360000'],
      ['a negative ttl', 'zato.security.jwt.edit', { id: 4, ttl: -5 }, 400, 'Invalid ttl: expected whole seconds from 1 to 315360000'],
      ['a fractional ttl', 'zato.security.jwt.edit', { id: 4, ttl: 1.5 }, 400, 'Invalid ttl: expected whole seconds from 1 to 315360000'],
      ['an is_active of letters', 'zato.security.jwt.create', { name: 'T', username: 't', is_active: 'abc' }, 400, 'Invalid is_active: expected true or false'],
      ['an is_active of -5', 'zato.security.jwt.edit', { id: 4, is_active: -5 }, 400, 'Invalid is_active: expected true or false'],
      ['an id of letters', 'zato.security.jwt.delete', { id: 'abc' }, 400, 'Invalid id: expected a whole number from 1'],
      ['a negative id', 'zato.security.jwt.edit', { id: -5 }, 400, 'Invalid id: expected a whole number from 1'],
      ['a missing id', 'zato.security.jwt.delete', {}, 400, 'Missing element: id'],
      ['a missing name', 'zato.security.jwt.create', { username: 't' }, 400, 'Missing element: name'],
      ['a username that is not a string', 'zato.security.jwt.create', { name: 'T', username: 7 }, 400, 'Invalid username: expected a string'],
      ['a name with a control character', 'zato.security.jwt.edit', { id: 4, name: 'a\nb' }, 400, 'Invalid name: control characters'],
    ];

    it.each(refusals)('%s over JSON', async (_what, service, body, status, details) => {
      expect(samId).toBe(4); // the ids above: 1 admin, 2 root, 3 carol, 4 sam
      const before = await accountsNow();
      const res = await json(service, body);
      expect([res.status, res.body]).toEqual([status, { zato_env: { result: 'ZATO_ERROR', cid: CID, details } }]);
      expect(res.text).not.toContain('é'.repeat(37));
      expect(await accountsNow()).toEqual(before);
      expect(await canLogIn('sam', 'pw-sam')).toBe(true);
    });

    // XML has no types: a number sent as a username arrives as its text, a good username.
    it.each(refusals.filter(([what]) => what !== 'a username that is not a string'))(
      '%s over SOAP',
      async (_what, service, body, _status, message) => {
        const zato = await zatoClient(server.url, ROOT);
        const before = await accountsNow();
        const fault = await zato.fault(service, body);
        expect(fault).toMatchObject({ status: 500, faultcode: 'soap:Client' });
        expect(fault.faultstring).toMatch(zatoFaultString(message));
        expect(await accountsNow()).toEqual(before);
      },
    );

    it('over SOAP, takes xsd:boolean and xsd:int as text and refuses other text naming the field', async () => {
      const zato = await zatoClient(server.url, ROOT);
      await zato.call('zato.security.jwt.edit', { id: samId, is_active: '0', ttl: '30' });
      expect(await server.core.accounts.get(samId)).toMatchObject({ isActive: false, ttl: 30 });
      const before = await accountsNow();
      for (const [args, message] of [
        [{ id: samId, is_active: 'yes' }, 'Invalid is_active: expected true or false'],
        [{ id: samId, ttl: '1e3' }, 'Invalid ttl: expected whole seconds from 1 to 315360000'],
        [{ id: 'x4' }, 'Invalid id: expected a whole number from 1'],
      ] as const) {
        expect((await zato.fault('zato.security.jwt.edit', args)).faultstring).toMatch(zatoFaultString(message));
      }
      expect(await accountsNow()).toEqual(before);
    });
  });
});
