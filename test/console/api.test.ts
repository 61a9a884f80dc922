import { StoreUnavailable, TokenExpired, type AuditQuery } from '../../src/core';
import { StudioBrowser } from '../crafter/studio-browser';
import { startTestServer, type TestServer } from '../support/server';
import { jsonLogIn, postJson } from '../zato/support';
import { CAROL, ConsoleClient, ROOT, sidOf, zatoRenewalSid } from './support';

const CID = expect.stringMatching(/^K\d{39}$/);

/** Every admin call of the API, with a body it would accept. */
const ADMIN_CALLS: [string, string, unknown][] = [
  ['GET', '/me', undefined],
  ['GET', '/sessions', undefined],
  ['DELETE', '/sessions/0123456789abcdef0123456789abcdef', undefined],
  ['DELETE', '/accounts/2/sessions', undefined],
  ['GET', '/accounts', undefined],
  ['POST', '/accounts', { username: 'new', password: 'pw-new-1' }],
  ['POST', '/accounts/2/deactivate', undefined],
  ['POST', '/accounts/2/activate', undefined],
  ['POST', '/accounts/2/unlock', undefined],
  ['POST', '/accounts/2/password', { password: 'pw-x' }],
  ['GET', '/activity', undefined],
  ['GET', '/audit', undefined],
  ['GET', '/audit.csv', undefined],
];

describe('operator console API', () => {
  let server: TestServer;
  let admin: ConsoleClient;
  beforeEach(async () => {
    server = await startTestServer();
    await server.addUser(ROOT.username, ROOT.password, 'admin');
    await server.addUser(CAROL.username, CAROL.password, 'user');
    admin = new ConsoleClient(server.url);
  });
  afterEach(() => server.stop());

  const accountNamed = async (username: string) => (await server.core.accounts.findByUsername(username))!;
  /** The audit rows of `event` that the console wrote (the set-up writes some too, at `startup` and `cli`). */
  const auditOf = async (event: string) => (await server.core.audit.recent(200)).filter((row) => row.event === event && row.door === 'console');
  const zatoLogIn = (username: string, password: string) => jsonLogIn(server.url, username, password);
  const canLogIn = (username: string, password: string) => zatoLogIn(username, password).then(() => true, () => false);
  const consoleSessions = () => server.core.sessions.list({ door: 'console', alive: true });

  describe('who may use it', () => {
    it.each(ADMIN_CALLS)('refuses %s %s without a log-in: 401', async (method, path, body) => {
      const answer = await admin.call(method, path, { body });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: 'Not logged in', code: 'Unauthenticated', cid: CID });
      expect(answer.headers.get('cache-control')).toBe('no-store');
    });

    it('refuses a cookie it never issued, and tells the browser to drop it', async () => {
      admin.cookie = 'x'.repeat(43);
      const answer = await admin.call('GET', '/sessions');
      expect(answer.status).toBe(401);
      expect(answer.setCookies).toEqual(['dualgate_console=; Max-Age=0; Path=/console; HttpOnly; SameSite=Strict']);
      expect(admin.cookie).toBeUndefined();
    });

    it('does not take another door\'s session cookie (Crafter\'s JSESSIONID) as a console session', async () => {
      const studio = new StudioBrowser(server.url);
      expect((await studio.login(ROOT.username, ROOT.password)).status).toBe(200);
      admin.cookie = await studio.cookie('JSESSIONID');
      expect((await admin.call('GET', '/me')).status).toBe(401);
      // ...and leaves that session alone.
      expect(JSON.parse((await studio.validate()).text).active).toBe(true);
    });

    it('logs an admin in with an HttpOnly, SameSite=Strict cookie on /console and a per-session CSRF token', async () => {
      const answer = await admin.login();
      expect(answer.status).toBe(200);
      expect(answer.setCookies).toEqual([expect.stringMatching(/^dualgate_console=[A-Za-z0-9_-]{43}; Path=\/console; HttpOnly; SameSite=Strict$/)]);
      const id = (await accountNamed('root')).id;
      expect(answer.body).toEqual({
        user: { id, username: 'root', name: 'root', role: 'admin' },
        sessionId: expect.stringMatching(/^[0-9a-f]{32}$/),
        csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        csrfHeader: 'X-CSRF-Token',
      });
      const me = await admin.call('GET', '/me');
      expect(me.body).toEqual(answer.body);
      const [session] = await consoleSessions();
      expect(session).toMatchObject({ id: answer.body.sessionId, username: 'root', door: 'console', idleTtl: 1800 });
      expect(session!.absoluteExpiresAt - session!.createdAt).toBe(8 * 3600 * 1000);
    });

    it('answers a wrong password 401 and opens nothing', async () => {
      const answer = await admin.login('root', 'wrong');
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: 'Invalid username or password', code: 'InvalidCredentials', cid: CID });
      expect(answer.setCookies).toEqual([]);
      expect(await consoleSessions()).toEqual([]);
    });

    it('answers a non-admin account 403, ends the session its log-in opened, and sets no cookie', async () => {
      const answer = await admin.login(CAROL.username, CAROL.password);
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({ error: 'Only an active admin account may use the console', code: 'Forbidden', cid: CID });
      expect(answer.setCookies).toEqual([]);
      expect(await consoleSessions()).toEqual([]);
      expect(await auditOf('revoke')).toEqual([expect.objectContaining({ username: 'carol', door: 'console', detail: 'console: not an admin' })]);
    });

    it('checks the role on every call: an admin demoted while logged in gets 403, and the session ends', async () => {
      await server.addUser('ops', 'pw-ops-1', 'admin');
      const ops = new ConsoleClient(server.url);
      expect((await ops.login('ops', 'pw-ops-1')).status).toBe(200);
      expect((await ops.call('GET', '/sessions')).status).toBe(200);

      await server.core.accounts.edit((await accountNamed('ops')).id, { role: 'user' }, { cid: null, door: 'cli', actor: 'cli' });
      const refused = await ops.call('GET', '/sessions');
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('Forbidden');
      expect(refused.setCookies).toEqual([expect.stringMatching(/^dualgate_console=; Max-Age=0;/)]);
      expect(await consoleSessions()).toEqual([]);
    });

    it('takes a log-in only as application/json, so a cross-site form cannot post one', async () => {
      const body = JSON.stringify({ username: ROOT.username, password: ROOT.password });
      const answer = await admin.call('POST', '/login', { body, headers: { 'content-type': 'text/plain' } });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('MalformedJson');
      expect(await consoleSessions()).toEqual([]);
    });

    it('answers a body whose gzip cannot be undone as unreadable, not as malformed XML, and still serves', async () => {
      const body = JSON.stringify({ username: ROOT.username, password: ROOT.password });
      const answer = await admin.call('POST', '/login', { body, headers: { 'content-encoding': 'gzip' } });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: 'The request body could not be read', code: 'UnreadableBody', cid: expect.any(String) });
      expect(await consoleSessions()).toEqual([]);
      expect((await admin.login(ROOT.username, ROOT.password)).status).toBe(200);
    });

    it('needs the CSRF header on every call that changes something: 403 without it or with a wrong one', async () => {
      await admin.login();
      const token = await zatoLogIn(CAROL.username, CAROL.password);
      const sid = sidOf(token);
      for (const csrf of [null, 'wrong', '']) {
        const answer = await admin.call('DELETE', `/sessions/${sid}`, { csrf });
        expect(answer.status).toBe(403);
        expect(answer.body).toEqual({ error: 'The X-CSRF-Token header is missing or wrong', code: 'CsrfMismatch', cid: CID });
      }
      const other = new ConsoleClient(server.url);
      await other.login();
      // Another session's token does not do either.
      expect((await admin.call('POST', '/accounts/2/unlock', { csrf: other.csrfToken })).status).toBe(403);
      await expect(server.core.sessions.verify(token)).resolves.toBeDefined();
      expect((await admin.call('DELETE', `/sessions/${sid}`)).status).toBe(200);
    });

    it('logs out: the session ends and the cookie goes; without the CSRF header it refuses', async () => {
      await admin.login();
      expect((await admin.call('POST', '/logout', { csrf: null })).status).toBe(403);
      expect(await consoleSessions()).toHaveLength(1);
      const out = await admin.call('POST', '/logout');
      expect(out.status).toBe(200);
      expect(out.setCookies).toEqual(['dualgate_console=; Max-Age=0; Path=/console; HttpOnly; SameSite=Strict']);
      expect(await consoleSessions()).toEqual([]);
      expect((await admin.call('GET', '/me')).status).toBe(401);
      // Logging out again, or without any session, is fine.
      expect((await admin.call('POST', '/logout')).status).toBe(200);
    });

    it('ends the session the browser had when it logs in again', async () => {
      await admin.login();
      const first = (await consoleSessions())[0]!.id;
      await admin.login();
      const alive = await consoleSessions();
      expect(alive).toHaveLength(1);
      expect(alive[0]!.id).not.toBe(first);
    });

    it('answers a wrong verb 405 with Allow, and an unknown call 404', async () => {
      const wrong = await admin.call('GET', '/login');
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('POST');
      expect((await admin.call('PUT', '/accounts')).headers.get('allow')).toBe('GET, HEAD, POST');
      const unknown = await admin.call('GET', '/nothing/here');
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('UnknownOperation');
    });
  });

  describe('sessions', () => {
    beforeEach(() => admin.login());

    it('lists live sessions of every door with user, door, times and client address, filtered by user and door', async () => {
      const token = await zatoLogIn(CAROL.username, CAROL.password);
      const studio = new StudioBrowser(server.url);
      await studio.login(CAROL.username, CAROL.password);
      await zatoLogIn(ROOT.username, ROOT.password);
      const ended = await zatoLogIn(CAROL.username, CAROL.password);
      await postJson(server.url, '/zato/json/zato.security.jwt.log-out', { token: ended });

      const all = await admin.call('GET', '/sessions');
      expect(all.status).toBe(200);
      expect(all.body.sessions.map((s: any) => `${s.username}@${s.door}`).sort()).toEqual(['carol@crafter', 'carol@zato', 'root@console', 'root@zato']);
      const zato = all.body.sessions.find((s: any) => s.id === sidOf(token));
      const row = (await server.core.sessions.list({ username: 'carol', door: 'zato', alive: true }))[0]!;
      expect(zato).toEqual({
        id: row.id,
        accountId: (await accountNamed('carol')).id,
        username: 'carol',
        door: 'zato',
        createdAt: row.createdAt,
        lastSeenAt: row.lastSeenAt,
        expiresAt: Math.min(row.idleExpiresAt, row.absoluteExpiresAt),
        idleExpiresAt: row.idleExpiresAt,
        absoluteExpiresAt: row.absoluteExpiresAt,
        clientIp: expect.stringMatching(/127\.0\.0\.1$/),
        userAgent: expect.any(String),
        current: false,
      });
      expect(all.body.sessions.find((s: any) => s.door === 'console').current).toBe(true);
      expect(all.body.now).toBe(server.clock.now());

      const carol = await admin.call('GET', '/sessions?user=carol');
      expect(carol.body.sessions.map((s: any) => s.door).sort()).toEqual(['crafter', 'zato']);
      const zatoOnly = await admin.call('GET', '/sessions?door=zato');
      expect(zatoOnly.body.sessions.map((s: any) => s.username).sort()).toEqual(['carol', 'root']);
      const both = await admin.call('GET', '/sessions?user=carol&door=crafter');
      expect(both.body.sessions).toHaveLength(1);
      expect((await admin.call('GET', '/sessions?user=nobody')).body.sessions).toEqual([]);
      // A part of a name, in any case, finds every session of the names it is part of.
      for (const part of ['car', 'ARO', 'o']) {
        const found = (await admin.call('GET', `/sessions?user=${part}`)).body.sessions.map((s: any) => `${s.username}@${s.door}`).sort();
        expect([part, found]).toEqual([part, part === 'o' ? ['carol@crafter', 'carol@zato', 'root@console', 'root@zato'] : ['carol@crafter', 'carol@zato']]);
      }
      // `%` and `_` are letters here, not patterns.
      expect((await admin.call('GET', '/sessions?user=%25')).body.sessions).toEqual([]);
      expect((await admin.call('GET', '/sessions?user=c_rol')).body.sessions).toEqual([]);
      expect((await admin.call('GET', `/sessions?user=${'x'.repeat(129)}`)).status).toBe(400);
    });

    it('ends a session opened at the Zato JSON door: the token is dead there, and the audit row names the admin', async () => {
      const first = await zatoLogIn(CAROL.username, CAROL.password);
      const sid = sidOf(first);
      // While the session lives, the Zato door renews it: same session, new token.
      const token = (await postJson(server.url, '/zato/json/zato.security.jwt.log-in', { ...CAROL, token: first })).body
        .zato_security_jwt_log_in_response.token as string;
      expect(sidOf(token)).toBe(sid);

      const answer = await admin.call('DELETE', `/sessions/${sid}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ outcome: 'revoked' });

      // At the Zato door the token no longer renews anything: log-in with it opens another session.
      expect(await zatoRenewalSid(server.url, CAROL.username, CAROL.password, token)).not.toBe(sid);
      await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
      expect(await auditOf('revoke')).toEqual([
        expect.objectContaining({ username: 'carol', sessionId: sid, door: 'console', outcome: 'ok', detail: 'ended from the console by root' }),
      ]);
      expect((await admin.call('GET', '/sessions?user=carol')).body.sessions.map((s: any) => s.id)).not.toContain(sid);

      expect((await admin.call('DELETE', `/sessions/${sid}`)).body).toEqual({ outcome: 'already-ended' });
      const unknown = await admin.call('DELETE', '/sessions/0123456789abcdef0123456789abcdef');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ error: 'No such session', code: 'NotFound', cid: CID });
    });

    it('ends every session of a user at every door, and nobody else\'s', async () => {
      const zato = await zatoLogIn(CAROL.username, CAROL.password);
      const studio = new StudioBrowser(server.url);
      await studio.login(CAROL.username, CAROL.password);
      const xweb = await server.core.sessions.login(CAROL.username, CAROL.password, { kind: 'guid' }, { cid: null, door: 'xweb' });
      const rootToken = await zatoLogIn(ROOT.username, ROOT.password);
      const carolId = (await accountNamed('carol')).id;

      const answer = await admin.call('DELETE', `/accounts/${carolId}/sessions`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ ended: 3 });

      expect(await zatoRenewalSid(server.url, CAROL.username, CAROL.password, zato)).not.toBe(sidOf(zato));
      expect(JSON.parse((await studio.validate()).text)).toMatchObject({ active: false });
      await expect(server.core.sessions.verify(xweb.token)).rejects.toBeInstanceOf(TokenExpired);
      await expect(server.core.sessions.verify(rootToken)).resolves.toBeDefined();
      expect((await auditOf('revoke')).map((r) => `${r.username} ${r.detail}`)).toEqual(new Array(3).fill('carol ended from the console by root'));

      expect((await admin.call('DELETE', '/accounts/999/sessions')).status).toBe(404);
      expect((await admin.call('DELETE', '/accounts/abc/sessions')).body).toMatchObject({ code: 'BadInput', field: 'id' });
    });
  });

  describe('accounts', () => {
    beforeEach(() => admin.login());

    it('lists accounts without password hashes or customer keys', async () => {
      const answer = await admin.call('GET', '/accounts');
      expect(answer.status).toBe(200);
      // `admin` is the account the server makes on an empty database.
      expect(answer.body.accounts.map((a: any) => a.username)).toEqual(['admin', 'root', 'carol']);
      expect(Object.keys(answer.body.accounts[2]).sort()).toEqual(
        ['createdAt', 'email', 'failedLogins', 'firstName', 'id', 'isActive', 'lastName', 'locked', 'lockedAddresses', 'lockedUntil', 'name', 'role', 'ttl', 'updatedAt', 'username'].sort(),
      );
      expect(JSON.stringify(answer.body)).not.toMatch(/\$2[aby]\$|customerKey/);
      expect((await admin.call('GET', '/accounts?query=car')).body.accounts.map((a: any) => a.username)).toEqual(['carol']);
    });

    it('creates an account with the core\'s rules: 72 bytes of password at most, unique names, known roles', async () => {
      const created = await admin.call('POST', '/accounts', {
        body: { username: 'dave', password: 'pw-dave-1', role: 'integrator', firstName: 'Dave', lastName: 'Jones', email: 'dave@example.com', ttl: '600' },
      });
      expect(created.status).toBe(201);
      expect(created.body.account).toMatchObject({ username: 'dave', name: 'dave', role: 'integrator', isActive: true, firstName: 'Dave', ttl: 600 });
      expect(await canLogIn('dave', 'pw-dave-1')).toBe(true);
      expect(await auditOf('account-create')).toEqual([expect.objectContaining({ username: 'dave', door: 'console', detail: 'role integrator by root' })]);

      const refuse = async (body: object, status: number, code: string, field?: string) => {
        const answer = await admin.call('POST', '/accounts', { body });
        expect({ status: answer.status, code: answer.body.code, field: answer.body.field }).toEqual({ status, code, field });
        return answer;
      };
      const tooLong = await refuse({ username: 'eve', password: 'é'.repeat(36) + 'x' }, 400, 'BadInput', 'password');
      expect(tooLong.body.error).toBe('Invalid password: longer than 72 bytes');
      await refuse({ username: 'eve', password: '' }, 400, 'BadInput', 'password');
      await refuse({ username: 'eve' }, 400, 'BadInput', 'password');
      await refuse({ username: 'eve', password: 'pw', role: 'root' }, 400, 'BadInput', 'role');
      await refuse({ username: 'eve', password: 'pw', ttl: 'soon' }, 400, 'BadInput', 'ttl');
      await refuse({ username: 'bad\nname', password: 'pw' }, 400, 'BadInput', 'username');
      await refuse({ username: 'carol', password: 'pw' }, 409, 'Conflict');
      await refuse({ username: 'eve', password: 'x'.repeat(73) }, 400, 'BadInput', 'password');
      expect(await server.core.accounts.findByUsername('eve')).toBeUndefined();
      expect((await admin.call('POST', '/accounts', { body: { username: 'eve', password: 'x'.repeat(72) } })).status).toBe(201);
      expect(await canLogIn('eve', 'x'.repeat(72))).toBe(true);
    });

    it('deactivates an account: no more log-ins, its sessions end at every door; and activates it again', async () => {
      const token = await zatoLogIn(CAROL.username, CAROL.password);
      const carolId = (await accountNamed('carol')).id;
      const answer = await admin.call('POST', `/accounts/${carolId}/deactivate`);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ account: { username: 'carol', isActive: false }, ended: 1 });
      expect(await canLogIn(CAROL.username, CAROL.password)).toBe(false);
      expect(await zatoRenewalSid(server.url, ROOT.username, ROOT.password, token)).not.toBe(sidOf(token));
      expect(await auditOf('account-edit')).toEqual([expect.objectContaining({ username: 'carol', detail: 'isActive by root' })]);

      const back = await admin.call('POST', `/accounts/${carolId}/activate`);
      expect(back.body.account.isActive).toBe(true);
      expect(await canLogIn(CAROL.username, CAROL.password)).toBe(true);
    });

    it('does not let an admin deactivate their own account', async () => {
      const answer = await admin.call('POST', `/accounts/${(await accountNamed('root')).id}/deactivate`);
      expect(answer.status).toBe(403);
      expect(answer.body.error).toBe('You cannot deactivate your own account');
      expect((await accountNamed('root')).isActive).toBe(true);
    });

    it('unlocks an account locked by failed log-ins', async () => {
      for (let i = 0; i < 5; i++) expect(await canLogIn(CAROL.username, 'wrong')).toBe(false);
      expect(await canLogIn(CAROL.username, CAROL.password)).toBe(false);
      const carol = (await admin.call('GET', '/accounts')).body.accounts.find((a: any) => a.username === 'carol');
      // Locked out from the address the failures came from; the account itself is not locked.
      expect(carol).toMatchObject({ locked: false, failedLogins: 5, lockedAddresses: [{ clientIp: '127.0.0.1', lockedUntil: server.clock.now() + 15 * 60_000 }] });

      const answer = await admin.call('POST', `/accounts/${carol.id}/unlock`);
      expect(answer.status).toBe(200);
      expect(answer.body.account).toMatchObject({ locked: false, failedLogins: 0, lockedUntil: null });
      expect((await admin.call('GET', '/accounts')).body.accounts.find((a: any) => a.username === 'carol').lockedAddresses).toEqual([]);
      expect(await canLogIn(CAROL.username, CAROL.password)).toBe(true);
      expect(await auditOf('account-unlock')).toEqual([expect.objectContaining({ username: 'carol', detail: 'by root' })]);
      expect((await admin.call('POST', '/accounts/999/unlock')).status).toBe(404);
    });

    it('resets a password with the core\'s rules', async () => {
      const carolId = (await accountNamed('carol')).id;
      const tooLong = await admin.call('POST', `/accounts/${carolId}/password`, { body: { password: 'p'.repeat(73) } });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body).toMatchObject({ code: 'BadInput', field: 'password', error: 'Invalid password: longer than 72 bytes' });
      expect((await admin.call('POST', `/accounts/${carolId}/password`, { body: {} })).body).toMatchObject({ field: 'password' });

      const answer = await admin.call('POST', `/accounts/${carolId}/password`, { body: { password: 'pw-carol-2' } });
      expect(answer.status).toBe(200);
      expect(await canLogIn(CAROL.username, CAROL.password)).toBe(false);
      expect(await canLogIn(CAROL.username, 'pw-carol-2')).toBe(true);
      expect(await auditOf('account-password')).toEqual([expect.objectContaining({ username: 'carol', door: 'console', detail: 'by root' })]);
    });
  });

  describe('activity', () => {
    beforeEach(() => admin.login());

    it('counts log-ins, failures, lockouts, log-outs and revocations per minute over the last hours', async () => {
      const now = server.clock.now();
      const minute = now - (now % 60_000);
      // Two minutes ago: two log-ins (one of them a log-out later), one failure.
      server.clock.set(minute - 2 * 60_000 + 5_000);
      const token = await zatoLogIn(CAROL.username, CAROL.password);
      await zatoLogIn(ROOT.username, ROOT.password);
      await canLogIn(CAROL.username, 'wrong');
      // This minute: a log-out, then five failures and the lockout they cause.
      server.clock.set(minute + 1_000);
      await postJson(server.url, '/zato/json/zato.security.jwt.log-out', { token });
      for (let i = 0; i < 4; i++) await canLogIn(CAROL.username, 'wrong');
      await admin.call('DELETE', `/accounts/${(await accountNamed('root')).id}/sessions`);

      const answer = await admin.call('GET', '/activity?hours=2');
      expect(answer.status).toBe(401); // the admin just ended their own console session, among root's others
      await admin.login();
      const activity = (await admin.call('GET', '/activity?hours=2')).body;
      expect(activity).toMatchObject({ now: server.clock.now(), bucketMs: 60_000, buckets: 120, from: minute - 119 * 60_000 });
      const at = (index: number) => Object.fromEntries(Object.entries(activity.series).map(([name, values]) => [name, (values as number[])[index]]));
      expect(at(117)).toEqual({ logins: 2, failures: 1, lockouts: 0, logouts: 0, revocations: 0 });
      expect(at(118)).toEqual({ logins: 0, failures: 0, lockouts: 0, logouts: 0, revocations: 0 });
      // The admin's log-in this minute (the first one was before the clock moved back, in `minute`, too).
      expect(at(119)).toEqual({ logins: 2, failures: 4, lockouts: 1, logouts: 1, revocations: 2 });
      for (const values of Object.values(activity.series) as number[][]) expect(values).toHaveLength(120);

      const defaults = (await admin.call('GET', '/activity')).body;
      expect(defaults.buckets).toBe(180);
      for (const hours of ['0', '25', 'x', '1.5']) {
        expect((await admin.call('GET', `/activity?hours=${hours}`)).body).toMatchObject({ code: 'BadInput', field: 'hours' });
      }
    });

    it('answers the recent audit rows, newest first', async () => {
      await canLogIn(CAROL.username, 'wrong');
      await zatoLogIn(CAROL.username, CAROL.password);
      const rows = (await admin.call('GET', '/audit?limit=2')).body.rows;
      expect(rows).toEqual([
        expect.objectContaining({ event: 'login', outcome: 'ok', username: 'carol', door: 'zato', at: server.clock.now() }),
        expect.objectContaining({ event: 'login', outcome: 'failed', username: 'carol', detail: 'bad password' }),
      ]);
      expect(rows[0].id).toBeGreaterThan(rows[1].id);
      expect((await admin.call('GET', '/audit')).body.rows.length).toBeGreaterThan(2);
      expect((await admin.call('GET', '/audit?limit=501')).status).toBe(400);
    });
  });

  describe('the audit log', () => {
    beforeEach(() => admin.login());

    /** Writes audit rows as the core does, at the times given (minutes after `start`). */
    async function history(start: number, rows: [minutes: number, event: string, outcome: 'ok' | 'failed', username: string][]) {
      for (const [minutes, event, outcome, username] of rows) {
        server.clock.set(start + minutes * 60_000);
        await server.core.audit.record({ cid: null, door: 'zato', clientIp: '127.0.0.9' }, { event: event as 'login', outcome, username });
      }
    }

    /** The export as the browser downloads it: the cookie, no CSRF header (a GET). */
    async function exportCsv(query = '') {
      const res = await fetch(`${server.url}/console/api/audit.csv${query}`, { headers: { cookie: `dualgate_console=${admin.cookie}` } });
      return { status: res.status, headers: res.headers, text: await res.text() };
    }

    it('filters by part of a user name, event, outcome and time range, and says how many rows match', async () => {
      const start = Date.UTC(2026, 11, 1, 9, 0);
      await history(start, [
        [0, 'login', 'ok', 'carol'],
        [1, 'login', 'failed', 'carol'],
        [2, 'login', 'failed', 'Caroline'],
        [3, 'logout', 'ok', 'carol'],
        [4, 'lockout', 'failed', 'dave'],
        [5, 'login', 'ok', 'dave'],
      ]);
      const names = async (query: string) => {
        const answer = await admin.call('GET', `/audit?${query}`);
        expect(answer.status).toBe(200);
        return { total: answer.body.total, rows: answer.body.rows.map((r: any) => `${r.event} ${r.outcome} ${r.username}`) };
      };
      expect(await names('user=CAROL&outcome=failed')).toEqual({ total: 2, rows: ['login failed Caroline', 'login failed carol'] });
      expect(await names('event=login&outcome=ok&user=a')).toEqual({ total: 2, rows: ['login ok dave', 'login ok carol'] });
      // From 09:01 (included) to 09:04 (excluded), as epoch ms or ISO 8601 with a zone.
      const range = ['logout ok carol', 'login failed Caroline', 'login failed carol'];
      expect(await names(`from=${start + 60_000}&to=${start + 4 * 60_000}`)).toEqual({ total: 3, rows: range });
      expect(await names('from=2026-12-01T09:01:00Z&to=2026-12-01T10:04:00%2B01:00')).toEqual({ total: 3, rows: range });
      expect(await names('from=2026-12-01T09:06:00Z&to=2026-12-01T12:00:00Z')).toEqual({ total: 0, rows: [] });
    });

    it('pages newest first: `next` continues after the last row, until there are no more', async () => {
      const start = Date.UTC(2026, 11, 1, 9, 0);
      await history(start, Array.from({ length: 7 }, (_, i) => [i, 'login', 'ok', `user${i}`] as [number, string, 'ok', string]));
      const seen: string[] = [];
      let next: number | null = null;
      let pages = 0;
      do {
        const answer = await admin.call('GET', `/audit?user=user&limit=3${next ? `&before=${next}` : ''}`);
        expect(answer.body.total).toBe(7);
        seen.push(...answer.body.rows.map((r: any) => r.username));
        next = answer.body.next as number | null;
        pages++;
      } while (next !== null);
      expect(pages).toBe(3);
      expect(seen).toEqual(['user6', 'user5', 'user4', 'user3', 'user2', 'user1', 'user0']);
      // A page that ends exactly at the last row says so: no empty page after it.
      expect((await admin.call('GET', '/audit?user=user&limit=7')).body.next).toBeNull();
    });

    it.each([
      ['outcome=maybe', 'outcome', 'Invalid outcome: expected ok or failed'],
      ['event=Log%20in', 'event', 'Invalid event: expected an event name such as login'],
      ['from=yesterday', 'from', 'Invalid from: expected epoch milliseconds or an ISO 8601 time with its zone'],
      ['to=2026-12-01T09:00', 'to', 'Invalid to: expected epoch milliseconds or an ISO 8601 time with its zone'],
      ['from=2026-12-01T09:00:00Z&to=2026-12-01T08:00:00Z', 'to', 'Invalid to: earlier than from'],
      ['before=0', 'before', 'Invalid before: expected a whole number from 1'],
      ['limit=0', 'limit', 'Invalid limit: expected a whole number from 1 to 500'],
      [`user=${'x'.repeat(129)}`, 'user', 'Invalid user: expected text of at most 128 characters'],
    ])('refuses %s: 400 naming the field, for the list and the export alike', async (query, field, error) => {
      expect((await admin.call('GET', `/audit?${query}`)).body).toEqual({ error, code: 'BadInput', field, cid: CID });
      if (field !== 'limit' && field !== 'before') {
        const answer = await exportCsv(`?${query}`);
        expect([answer.status, JSON.parse(answer.text).field]).toEqual([400, field]);
      }
      expect((await admin.call('GET', '/audit')).status).toBe(200);
    });

    it('exports every matching row as CSV, newest first, in batches, a formula in a name made harmless', async () => {
      const start = Date.UTC(2026, 11, 1, 9, 0);
      server.clock.set(start);
      // More rows than one batch of the store's reads (1000), written at once as the core writes them.
      await Promise.all(
        Array.from({ length: 2345 }, (_, i) =>
          server.core.audit.record(
            { cid: `K${i}`, door: 'xweb', clientIp: '127.0.0.2' },
            { event: 'login', outcome: 'failed', username: `bulk${i}`, detail: 'bad password' },
          ),
        ),
      );
      server.clock.set(start + 60_000);
      await server.core.audit.record(
        { cid: null, door: 'crafter', clientIp: '::1' },
        { event: 'login', outcome: 'failed', username: '=HYPERLINK("http://evil")', detail: 'unknown user, "quoted"' },
      );
      // Refusals tallied into one row, as the core keeps repeated refusals from one address.
      server.clock.set(start + 2 * 60_000);
      for (let i = 0; i < 3; i++) {
        await server.core.audit.tally({ cid: null, door: 'zato', clientIp: '127.0.0.3' }, { event: 'login', outcome: 'failed', detail: 'throttled' }, 'throttled 127.0.0.3');
      }

      const all = await exportCsv('?outcome=failed');
      expect(all.status).toBe(200);
      expect(all.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(all.headers.get('content-disposition')).toBe('attachment; filename=dualgate-audit-2026-12-01T09-02-00Z.csv');
      expect(all.headers.get('cache-control')).toBe('no-store');
      const lines = all.text.split('\r\n');
      expect(lines[0]).toBe('id,time,event,outcome,username,door,client_ip,session_id,cid,detail,count');
      expect(lines[1]).toMatch(/^\d+,2026-12-01T09:02:00\.000Z,login,failed,,zato,127\.0\.0\.3,,,throttled,3$/);
      expect(lines[2]).toMatch(/^\d+,2026-12-01T09:01:00\.000Z,login,failed,"'=HYPERLINK\(""http:\/\/evil""\)",crafter,::1,,,"unknown user, ""quoted""",1$/);
      expect(lines.at(-1)).toBe('');
      const bulk = lines.slice(3, -1);
      expect(bulk).toHaveLength(2345);
      expect(bulk[0]).toMatch(/^\d+,2026-12-01T09:00:00\.000Z,login,failed,bulk\d+,xweb,127\.0\.0\.2,,K\d+,bad password,1$/);
      // The list shows the tallied row once, with its count.
      const listed = await admin.call('GET', '/audit?outcome=failed&limit=2');
      expect(listed.body.total).toBe(2345 + 2);
      expect(listed.body.rows.map((r: any) => [r.detail, r.count])).toEqual([['throttled', 3], ['unknown user, "quoted"', 1]]);
      const ids = bulk.map((line) => Number(line.split(',')[0]));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(new Set(bulk.map((line) => line.split(',')[4])).size).toBe(2345);

      // The same filters as the list.
      const one = await exportCsv('?user=bulk1234');
      expect(one.text.split('\r\n').slice(1, -1).map((line) => line.split(',')[4])).toEqual(['bulk1234']);
      // A client that goes away after the first bytes: the export stops, and the server goes on answering.
      const abort = new AbortController();
      const partial = await fetch(`${server.url}/console/api/audit.csv`, { headers: { cookie: `dualgate_console=${admin.cookie}` }, signal: abort.signal });
      const reader = partial.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      abort.abort();
      await expect(reader.read()).rejects.toThrow();
      expect((await exportCsv('?user=bulk1234')).status).toBe(200);

      const head = await fetch(`${server.url}/console/api/audit.csv`, { method: 'HEAD', headers: { cookie: `dualgate_console=${admin.cookie}` } });
      expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'text/csv; charset=utf-8', '']);
      const none = await exportCsv('?event=lockout');
      expect(none.text).toBe('id,time,event,outcome,username,door,client_ip,session_id,cid,detail,count\r\n');
    });
    it('answers a store failing before the first row of an export with the error table, and cuts one failing half-way', async () => {
      // More rows than one batch of the export's reads (1000).
      await Promise.all(
        Array.from({ length: 1500 }, (_, i) =>
          server.core.audit.record({ cid: null, door: 'xweb', clientIp: '127.0.0.2' }, { event: 'login', outcome: 'failed', username: `bulk${i}` }),
        ),
      );
      const { audit } = server.core;
      const every = audit.every.bind(audit);
      /** The store's batches, until the store goes away after `batches` of them. */
      const goneAfter = (batches: number) =>
        async function* (query: AuditQuery, batch?: number) {
          let given = 0;
          for await (const rows of every(query, batch)) {
            if (given++ === batches) break;
            yield rows;
          }
          throw new StoreUnavailable('the disk went away');
        };
      const spy = jest.spyOn(audit, 'every');
      try {
        // Before the first row: nothing sent yet, so the error table answers, and no file is offered.
        spy.mockImplementationOnce(goneAfter(0));
        const early = await exportCsv();
        expect([early.status, early.headers.get('content-type'), early.headers.get('content-disposition')]).toEqual([503, 'application/json; charset=utf-8', null]);
        expect(JSON.parse(early.text)).toEqual({ error: 'Store unavailable: the disk went away', code: 'StoreUnavailable', cid: CID });
        expect(early.headers.get('cache-control')).toBe('no-store');
        // After a batch is out: the connection is cut, so the file is visibly incomplete.
        spy.mockImplementationOnce(goneAfter(1));
        const late = await fetch(`${server.url}/console/api/audit.csv`, { headers: { cookie: `dualgate_console=${admin.cookie}` } });
        expect(late.status).toBe(200);
        await expect(late.text()).rejects.toThrow();
      } finally {
        spy.mockRestore();
      }
      // The server goes on answering, and the whole export is there again.
      const whole = await exportCsv();
      expect(whole.status).toBe(200);
      expect(whole.text.split('\r\n').filter((line) => line.includes(',bulk'))).toHaveLength(1500);
      expect((await admin.call('GET', '/me')).status).toBe(200);
    });
  });

  describe('the page', () => {
    it("puts the door's headers on every answer of the page, its files and the API, errors included", async () => {
      await admin.login();
      const cookie = { cookie: `dualgate_console=${admin.cookie}` };
      const answers: [method: string, path: string, status: number, cache: string][] = [
        ['GET', '/console', 200, 'no-cache'],
        ['HEAD', '/console/', 200, 'no-cache'],
        ['GET', '/console/console.css', 200, 'no-cache'],
        ['GET', '/console/api/me', 200, 'no-store'],
        ['HEAD', '/console/api/me', 200, 'no-store'],
        ['POST', '/console/api/logout', 403, 'no-store'],
        ['GET', '/console/api/login', 405, 'no-store'],
        ['OPTIONS', '/console/api/accounts/2/lock', 405, 'no-store'],
        ['DELETE', '/console/api/nothing/here', 404, 'no-store'],
      ];
      for (const [method, path, status, cache] of answers) {
        const res = await fetch(server.url + path, { method, headers: cookie });
        const seen = [res.status, res.headers.get('cache-control'), res.headers.get('x-frame-options'), res.headers.get('referrer-policy')];
        expect([method, path, ...seen]).toEqual([method, path, status, cache, 'DENY', 'no-referrer']);
        await res.arrayBuffer();
      }
      // HEAD: the headers of GET, no body.
      const [get, head] = [await fetch(`${server.url}/console/`), await fetch(`${server.url}/console/`, { method: 'HEAD' })];
      expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
      expect([await head.text(), (await get.arrayBuffer()).byteLength]).toEqual(['', Number(get.headers.get('content-length'))]);
      // A file the console does not have: the gateway's own 404.
      const missing = await fetch(`${server.url}/console/nothing.js`);
      expect([missing.status, await missing.json()]).toEqual([404, { error: 'Not found', cid: CID }]);
    });

    it('serves the page, its script, style and icon from the package, with a strict content security policy', async () => {
      for (const path of ['/console', '/console/', '/console/index.html']) {
        const res = await fetch(server.url + path);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'");
        expect(res.headers.get('content-security-policy')).toContain("base-uri 'self'");
        expect(res.headers.get('x-frame-options')).toBe('DENY');
      }
      const html = await (await fetch(`${server.url}/console/`)).text();
      // One base, at the root here; every other address of the page is relative to it.
      const bases = [...html.matchAll(/<base href="([^"]*)">/g)].map((m) => m[1]!);
      expect(bases).toEqual(['/console/']);
      const references = [...html.matchAll(/<(?!base)[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(references.length).toBeGreaterThan(3);
      // Nothing from another site, and nothing at an absolute path: every file the page loads is served here.
      for (const ref of references) expect(ref).toMatch(/^(#|[a-z][\w.-]*(\/[\w.-]+)*$)/);
      const base = new URL(bases[0]!, server.url);
      for (const ref of references.filter((r) => !r.startsWith('#'))) {
        // The page's files are public; the one API link (the audit export) needs a console session.
        expect([ref, (await fetch(new URL(ref, base))).status]).toEqual([ref, ref.startsWith('api/') ? 401 : 200]);
      }
      expect(references.filter((r) => r.startsWith('api/'))).toEqual(['api/audit.csv']);
      const script = await fetch(`${server.url}/console/app.js`);
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      const imports = [...(await script.text()).matchAll(/from '(\.\/[^']+)'/g)].map((m) => m[1]!);
      expect(imports).toContain('./api.js');
      for (const file of imports) expect((await fetch(`${server.url}/console/${file.slice(2)}`)).status).toBe(200);
      expect((await fetch(`${server.url}/console/tsconfig.json`)).status).toBe(404);
      expect((await fetch(`${server.url}/console/..%2Fpackage.json`)).status).toBe(404);
    });
  });
});
