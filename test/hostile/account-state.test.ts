import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import bcrypt from 'bcrypt';
import { ConsoleClient } from '../console/support';
import { runCli } from '../support/process';
import { startTestServer, type TestServer } from '../support/server';
import { basic, call, readDb, zatoLogin } from './credential-support';

/**
 * Account state is the truth at every door, at once: each way of disabling an account (locked, deactivated,
 * a new password set by an admin, deleted; from the CLI, the console and the Zato admin services) ends the
 * sessions it had open at the Zato, xWeb and Crafter doors and the console, each revocation audited with
 * its reason. A lockout by failed log-ins leaves them alone. Also: hashes follow the configured cost,
 * usernames compare as RFC 8265 has them, and ids are never reused.
 */

const STUDIO = '/studio/api/1/services/api/1/security';
const ROOT = { username: 'root', password: 'pw-root-1' };
const PASSWORD = 'pw-ops-1';

/** Live sessions of one account, opened at each door, and how to ask each door whether it still lives. */
interface Sessions {
  jwt: string;
  customer: string;
  jsessionid: string;
  console: ConsoleClient;
}

async function openEverywhere(server: TestServer, username: string, integratorToken: string): Promise<Sessions> {
  const jwt = (await zatoLogin(server, username, PASSWORD)).json().zato_security_jwt_log_in_response.token as string;
  const web = await call(server, {
    path: '/xweb/JSON/WebLogin',
    headers: { Authorization: `Bearer ${integratorToken}` },
    body: JSON.stringify({ WebLogin: { userLoginPlain: username, passwordPlain: PASSWORD } }),
  });
  const crafter = await call(server, { path: `${STUDIO}/login.json`, headers: { Cookie: 'XSRF-TOKEN=p', 'X-XSRF-TOKEN': 'p' }, body: JSON.stringify({ username, password: PASSWORD }) });
  const console = new ConsoleClient(server.url);
  expect((await console.login(username, PASSWORD)).status).toBe(200);
  return {
    jwt,
    customer: web.json().WebLoginResult as string,
    jsessionid: /JSESSIONID=([^;]+)/.exec(String(crafter.headers['set-cookie']))![1]!,
    console,
  };
}

/** Whether each door still takes the session opened there. */
async function alive(server: TestServer, s: Sessions, integratorToken: string): Promise<Record<string, boolean>> {
  const zato = await call(server, { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: `Bearer ${s.jwt}` }, body: '{}' });
  const xweb = await call(server, { method: 'GET', path: `/xweb/JSON/WebValidate?authenticationToken=${s.customer}`, headers: { Authorization: `Bearer ${integratorToken}` } });
  const crafter = await call(server, { method: 'GET', path: `${STUDIO}/validate-session.json`, headers: { Cookie: `JSESSIONID=${s.jsessionid}` } });
  const console = await s.console.call('GET', '/me');
  return {
    zato: zato.status === 200,
    xweb: xweb.json().WebValidateResult !== '00000000-0000-0000-0000-000000000000',
    crafter: crafter.json().active === true,
    console: console.status === 200,
  };
}

const ALL_ALIVE = { zato: true, xweb: true, crafter: true, console: true };
const ALL_DEAD = { zato: false, xweb: false, crafter: false, console: false };

describe('account state at every door', () => {
  let server: TestServer;
  let integratorToken: string;
  let admin: ConsoleClient;
  let n = 0;

  beforeAll(async () => {
    server = await startTestServer();
    await server.addUser(ROOT.username, ROOT.password, 'admin');
    await server.addUser('integ', 'integ-pw', 'integrator');
    integratorToken = (await call(server, { path: '/xweb/JSON/Authenticate', body: JSON.stringify({ Authenticate: { userName: 'integ', password: 'integ-pw' } }) })).json().Token;
    admin = new ConsoleClient(server.url);
    await admin.login(ROOT.username, ROOT.password);
  });
  afterAll(() => server.stop());

  /** A fresh admin account (the console admits admins only) with a session at every door. */
  async function victim(): Promise<{ id: number; username: string; sessions: Sessions }> {
    const username = `ops${++n}`;
    await server.addUser(username, PASSWORD, 'admin');
    const id = (await server.core.accounts.findByUsername(username))!.id;
    const sessions = await openEverywhere(server, username, integratorToken);
    expect(await alive(server, sessions, integratorToken)).toEqual(ALL_ALIVE);
    return { id, username, sessions };
  }

  function revocations(username: string): string[] {
    return readDb(server, (db) => (db.prepare("SELECT detail FROM audit WHERE event = 'revoke' AND username = ? ORDER BY id").all(username) as { detail: string }[]).map((r) => r.detail));
  }

  const zatoAdmin = (service: string, body: object) =>
    call(server, { path: `/zato/json/zato.security.jwt.${service}`, headers: { Authorization: basic(ROOT.username, ROOT.password) }, body: JSON.stringify(body) });

  const WAYS: [string, (v: { id: number; username: string }) => Promise<unknown>, string][] = [
    ['dualgate user lock', ({ username }) => runCli(['user', 'lock', username], { DUALGATE_DB: server.dbPath }), 'account locked by cli'],
    ['the console: lock', ({ id }) => admin.call('POST', `/accounts/${id}/lock`), 'account locked by root'],
    ['the console: deactivate', ({ id }) => admin.call('POST', `/accounts/${id}/deactivate`), 'account deactivated by root'],
    ['Zato edit is_active=false', ({ id }) => zatoAdmin('edit', { id, is_active: false }), 'account deactivated by root'],
    ['Zato change-password', ({ id }) => zatoAdmin('change-password', { id, password1: 'pw-new', password2: 'pw-new' }), 'password changed by root'],
    ['the console: reset password', ({ id }) => admin.call('POST', `/accounts/${id}/password`, { body: { password: 'pw-new' } }), 'password changed by root'],
    ['dualgate user passwd', ({ username }) => runCli(['user', 'passwd', username, '--password-stdin'], { DUALGATE_DB: server.dbPath }, 'pw-new\n'), 'password changed by cli'],
    ['Zato delete', ({ id }) => zatoAdmin('delete', { id }), 'account deleted by root'],
    ['dualgate user delete', ({ username }) => runCli(['user', 'delete', username], { DUALGATE_DB: server.dbPath }), 'account deleted by cli'],
  ];

  it.each(WAYS)('%s ends its sessions at all three doors and the console, each revocation audited', async (_way, disable, reason) => {
    const v = await victim();
    const answer = (await disable(v)) as { status?: number; code?: number };
    expect(answer.status ?? (answer.code === 0 ? 200 : answer.code)).toBe(200);
    expect(await alive(server, v.sessions, integratorToken)).toEqual(ALL_DEAD);
    expect(revocations(v.username)).toEqual([reason, reason, reason, reason]);
  });

  it('leaves the sessions alone when failed log-ins lock the account out, and a re-activated account logs in afresh', async () => {
    const v = await victim();
    for (let i = 0; i < 5; i++) await zatoLogin(server, v.username, 'wrong', '127.0.0.2');
    expect(await alive(server, v.sessions, integratorToken)).toEqual(ALL_ALIVE);

    await admin.call('POST', `/accounts/${v.id}/deactivate`);
    await admin.call('POST', `/accounts/${v.id}/activate`);
    expect(await alive(server, v.sessions, integratorToken)).toEqual(ALL_DEAD);
    const again = await openEverywhere(server, v.username, integratorToken);
    expect(await alive(server, again, integratorToken)).toEqual(ALL_ALIVE);
  });
});

describe('hashes follow the configured cost', () => {
  let server: TestServer;
  afterEach(() => server.stop());

  it('rehashes a cost-12 hash at the configured cost after a good log-in, and the password still works', async () => {
    server = await startTestServer({ DUALGATE_BCRYPT_COST: '5' });
    await server.addUser('old', 'pw-old');
    const costly = await bcrypt.hash('pw-old', 12);
    const db = new Database(server.dbPath);
    db.prepare('UPDATE accounts SET password_hash = ? WHERE username = ?').run(costly, 'old');
    db.close();
    const hashOf = () => readDb(server, (d) => (d.prepare('SELECT password_hash AS h FROM accounts WHERE username = ?').get('old') as { h: string }).h);

    expect((await zatoLogin(server, 'old', 'wrong')).status).toBe(401);
    expect(hashOf()).toBe(costly); // a wrong password proves nothing: no rehash
    expect((await zatoLogin(server, 'old', 'pw-old')).status).toBe(200);
    await server.core.sessions.settle();
    const rehashed = hashOf();
    expect(bcrypt.getRounds(rehashed)).toBe(5);
    expect(await bcrypt.compare('pw-old', rehashed)).toBe(true);
    expect((await zatoLogin(server, 'old', 'pw-old')).status).toBe(200);
    await server.core.sessions.settle();
    expect(hashOf()).toBe(rehashed); // once at the configured cost, left alone
  });
});

describe('usernames compared as RFC 8265 compares them, over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.addUser(ROOT.username, ROOT.password, 'admin');
  });
  afterAll(() => server.stop());

  const create = (username: string, name = `def-${Math.random()}`) => call(server, {
    path: '/zato/json/zato.security.jwt.create',
    headers: { Authorization: basic(ROOT.username, ROOT.password) },
    body: JSON.stringify({ name, username, password: 'pw-x' }),
  });

  it.each([
    ['full width ａｄｍｉｎ', '\uff41\uff44\uff4d\uff49\uff4e'],
    ['Admin', 'Admin'],
    ['ADMIN', 'ADMIN'],
  ])('matches %s to the existing admin: 409, and it logs in as admin', async (_what, username) => {
    const answer = await create(username);
    expect(answer.status).toBe(409);
    expect(answer.json().zato_env.details).toBe(`JWT definition with username \`${username}\` already exists`);
    // `admin` is the account the server made on the empty database; its password is in the file beside it.
    const password = readFileSync(join(server.dir, 'initial-admin-password'), 'utf8').split('\n')[0]!;
    expect((await zatoLogin(server, username, password)).status).toBe(200);
  });

  it.each([
    ['a zero-width space', 'admin\u200b', 'invisible formatting characters (zero-width, joiners, bidi controls) are not allowed'],
    ['a bidi override', '\u202eadmin', 'invisible formatting characters (zero-width, joiners, bidi controls) are not allowed'],
    ['a space', 'ad min', 'spaces are not allowed'],
    ['a control character', 'ad\u0007min', 'control characters are not allowed'],
  ])('refuses %s with a 400 naming the field, creating nothing', async (_what, username, why) => {
    const before = await server.core.accounts.count();
    const answer = await create(username);
    expect([answer.status, answer.json().zato_env.details]).toEqual([400, `Invalid username: ${why}`]);
    expect(await server.core.accounts.count()).toBe(before);
  });

  it('keeps josé as typed (NFD), refuses the NFC spelling beside it, and logs either spelling in', async () => {
    const nfd = 'jose\u0301';
    expect((await create(nfd, 'jose-nfd')).status).toBe(200);
    expect((await create('jos\u00e9', 'jose-nfc')).status).toBe(409);
    const listed = await call(server, { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: basic(ROOT.username, ROOT.password) }, body: '{"query": "jose"}' });
    expect(listed.json().zato_security_jwt_get_list_response.map((d: { username: string }) => d.username)).toEqual([nfd]);
    expect((await zatoLogin(server, 'jos\u00e9', 'pw-x')).status).toBe(200);
    expect((await zatoLogin(server, 'JOSE\u0301', 'pw-x')).status).toBe(200);
  });
});

describe('ids are never reused', () => {
  let server: TestServer;
  afterEach(() => server.stop());

  it('gives the next account a new id after the newest is deleted, so a stale delete removes nobody', async () => {
    server = await startTestServer();
    await server.addUser(ROOT.username, ROOT.password, 'admin');
    const admin = { Authorization: basic(ROOT.username, ROOT.password) };
    const zato = (service: string, body: object) => call(server, { path: `/zato/json/zato.security.jwt.${service}`, headers: admin, body: JSON.stringify(body) });
    const first = (await zato('create', { name: 'A', username: 'a', password: 'pw' })).json().zato_security_jwt_create_response.id as number;
    expect((await zato('delete', { id: first })).status).toBe(200);
    const second = (await zato('create', { name: 'B', username: 'b', password: 'pw' })).json().zato_security_jwt_create_response.id as number;
    expect(second).toBeGreaterThan(first);
    const stale = await zato('delete', { id: first });
    expect([stale.status, stale.json().zato_env.details]).toEqual([404, `No such account: ${first}`]);
    // The CLI and a restart keep to it too.
    expect((await runCli(['user', 'delete', 'b'], { DUALGATE_DB: server.dbPath })).code).toBe(0);
    const third = (await zato('create', { name: 'C', username: 'c', password: 'pw' })).json().zato_security_jwt_create_response.id as number;
    expect(third).toBeGreaterThan(second);
  });
});
