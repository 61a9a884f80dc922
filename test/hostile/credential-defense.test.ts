import { Agent } from 'node:http';
import bcrypt from 'bcrypt';
import { ManualClock } from '../../src/core/clock';
import { cliContext } from '../../src/core/context';
import { startTestServer, type Settings, type TestServer } from '../support/server';
import { basic, call, readDb, withoutCid, zatoLogin, type Reply } from './credential-support';

/**
 * The credential defense as an attacker meets it, over real HTTP from several client addresses (each client
 * socket bound to its own loopback address; the server trusts no proxy): the lock is per account and
 * address and reserved before bcrypt, so a burst buys nothing and no one locks out the owner; a locked
 * answer is a wrong password's to the byte; only failures are throttled, integrators and exempt addresses
 * are not; refusals cost no lasting rows.
 */

const ATTACKER = '127.0.0.2';
const OWNER = '127.0.0.3';
const STUDIO = '/studio/api/1/services/api/1/security';
const XWEB_NS = 'http://www.avectra.com/2005/';
const AT = Date.UTC(2026, 5, 1, 12, 0, 10);

async function start(settings: Settings = {}, clock = new ManualClock(AT)): Promise<TestServer> {
  const server = await startTestServer(settings, { clock });
  await server.addUser('alice', 'alice-pw');
  await server.addUser('integ', 'integ-pw', 'integrator');
  await server.addUser('root', 'root-pw', 'admin');
  return server;
}

function hashOf(server: TestServer, username: string): string {
  return readDb(server, (db) => (db.prepare('SELECT password_hash AS h FROM accounts WHERE username = ?').get(username) as { h: string }).h);
}

function auditRows(server: TestServer): { event: string; detail: string | null; clientIp: string | null; count: number; username: string | null }[] {
  return readDb(server, (db) =>
    db.prepare('SELECT event, detail, client_ip AS clientIp, count, username FROM audit WHERE event IN (?, ?) ORDER BY id').all('login', 'lockout') as never,
  );
}

describe('a burst of guesses sent at once', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await start({ DUALGATE_LOCKOUT_THRESHOLD: '5', DUALGATE_LOGIN_RATE: '0' });
  });
  afterEach(() => server.stop());

  it('gets at most the threshold compared with the real hash, and the right password behind it is refused', async () => {
    const aliceHash = hashOf(server, 'alice');
    const compare = jest.spyOn(bcrypt, 'compare');
    try {
      const guesses = await Promise.all(Array.from({ length: 15 }, (_, i) => zatoLogin(server, 'alice', `guess-${i}`, ATTACKER)));
      expect(guesses.map((g) => g.status)).toEqual(new Array(15).fill(401));
      const right = await zatoLogin(server, 'alice', 'alice-pw', ATTACKER);
      expect(right.status).toBe(401);
      expect(withoutCid(right.text)).toBe(withoutCid(guesses[0]!.text));
      const againstAlice = compare.mock.calls.filter(([, hash]) => hash === aliceHash);
      expect(againstAlice).toHaveLength(5);
      // Every refused attempt still spent one compare (the dummy), as a wrong password does.
      expect(compare).toHaveBeenCalledTimes(16);
    } finally {
      compare.mockRestore();
    }
    expect(auditRows(server).filter((r) => r.event === 'lockout')).toEqual([
      { event: 'lockout', detail: `5 failures from ${ATTACKER}`, clientIp: ATTACKER, count: 1, username: 'alice' },
    ]);
  });

  it('holds across two servers on one database file (as --workers processes are)', async () => {
    const other = await startTestServer({ DUALGATE_LOCKOUT_THRESHOLD: '5', DUALGATE_LOGIN_RATE: '0' }, { clock: server.clock, dir: server.dir });
    const aliceHash = hashOf(server, 'alice');
    const compare = jest.spyOn(bcrypt, 'compare');
    try {
      const guesses = await Promise.all(Array.from({ length: 16 }, (_, i) => zatoLogin(i % 2 ? server : other, 'alice', `guess-${i}`, ATTACKER)));
      expect(new Set(guesses.map((g) => g.status))).toEqual(new Set([401]));
      expect(compare.mock.calls.filter(([, hash]) => hash === aliceHash)).toHaveLength(5);
      expect((await zatoLogin(other, 'alice', 'alice-pw', ATTACKER)).status).toBe(401);
    } finally {
      compare.mockRestore();
      await other.close(1000);
    }
  });
});

describe('a lock from one address', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await start({ DUALGATE_LOGIN_RATE: '0' });
  });
  afterEach(() => server.stop());

  it('keeps that address out; the owner logs in from another; the lock runs out', async () => {
    for (let i = 0; i < 5; i++) expect((await zatoLogin(server, 'alice', 'wrong', ATTACKER)).status).toBe(401);
    expect((await zatoLogin(server, 'alice', 'alice-pw', ATTACKER)).status).toBe(401);
    expect((await zatoLogin(server, 'alice', 'alice-pw', OWNER)).status).toBe(200);
    // Admins too: five unauthenticated guesses no longer lock them out everywhere.
    for (let i = 0; i < 5; i++) expect((await call(server, { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: basic('root', 'x') }, body: '{}', from: ATTACKER })).status).toBe(401);
    expect((await call(server, { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: basic('root', 'root-pw') }, body: '{}', from: OWNER })).status).toBe(200);
    // Where operators look: user list and the console's account list say which address is locked out.
    const listed = await server.core.accounts.addressLocks();
    const alice = (await server.core.accounts.findByUsername('alice'))!;
    expect(listed.get(alice.id)).toEqual([{ usernameKey: 'alice', clientIp: ATTACKER, failures: 5, lockedUntil: AT + 15 * 60_000 }]);
    server.clock.advance(15 * 60_000);
    expect((await zatoLogin(server, 'alice', 'alice-pw', ATTACKER)).status).toBe(200);
  });

  it('caps distributed guessing with the account-wide count, which an unlock clears', async () => {
    await server.stop();
    server = await start({ DUALGATE_LOGIN_RATE: '0', DUALGATE_LOCKOUT_ACCOUNT_THRESHOLD: '8' });
    const addresses = ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];
    for (const from of addresses) for (let i = 0; i < 2; i++) expect((await zatoLogin(server, 'alice', 'wrong', from)).status).toBe(401);
    // Eight failures from four addresses: the whole account is locked, from everywhere, for the window.
    expect((await zatoLogin(server, 'alice', 'alice-pw', OWNER)).status).toBe(401);
    expect(auditRows(server).filter((r) => r.event === 'lockout').map((r) => r.detail)).toEqual(['account: 8 failures from any address']);
    const alice = (await server.core.accounts.findByUsername('alice'))!;
    expect(alice.lockedUntil).toBe(AT + 15 * 60_000);
    await server.core.accounts.unlock(alice.id, cliContext);
    expect((await zatoLogin(server, 'alice', 'alice-pw', OWNER)).status).toBe(200);
  });
});

/** The same wrong-credentials answer at every way in, whatever the reason. */
const WAYS: [string, (username: string, password: string) => Parameters<typeof call>[1]][] = [
  ['Zato JSON', (u, p) => ({ path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: u, password: p }) })],
  ['Zato 3', (u, p) => ({ path: '/zato/jwt/log-in', body: JSON.stringify({ username: u, password: p }) })],
  [
    'Zato SOAP',
    (u, p) => ({
      path: '/zato/soap',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"zato.security.jwt.log-in"' },
      body: `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:zato="https://zato.io/ns/20130518"><soapenv:Body><zato:zato_security_jwt_log_in_request><zato:username>${u}</zato:username><zato:password>${p}</zato:password></zato:zato_security_jwt_log_in_request></soapenv:Body></soapenv:Envelope>`,
    }),
  ],
  ['Zato admin (Basic)', (u, p) => ({ path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: basic(u, p) }, body: '{}' })],
  ['xWeb JSON Authenticate', (u, p) => ({ path: '/xweb/JSON/Authenticate', body: JSON.stringify({ Authenticate: { userName: u, password: p } }) })],
  [
    'xWeb SOAP Authenticate',
    (u, p) => ({
      path: '/xweb/secure/netForumXML.asmx',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${XWEB_NS}Authenticate"` },
      body: `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Authenticate xmlns="${XWEB_NS}"><userName>${u}</userName><password>${p}</password></Authenticate></soap:Body></soap:Envelope>`,
    }),
  ],
  ['Crafter login.json', (u, p) => ({ path: `${STUDIO}/login.json`, headers: { Cookie: 'XSRF-TOKEN=p', 'X-XSRF-TOKEN': 'p' }, body: JSON.stringify({ username: u, password: p }) })],
];

describe('a locked account answers as an unknown user does', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start({ DUALGATE_LOGIN_RATE: '0' });
    // root and integ locked for the attacker's address (root at the admin services, integ at xWeb: each is a
    // role that may log in there, so the locked answer is the only thing that could differ).
    for (const name of ['alice', 'root', 'integ']) for (let i = 0; i < 5; i++) await zatoLogin(server, name, 'wrong', ATTACKER);
  });
  afterAll(() => server.stop());

  it.each(WAYS)('at %s: locked with the right password, unknown user and wrong password are byte-equal but for the cid', async (way, request) => {
    const owner = way.startsWith('xWeb') ? ['integ', 'integ-pw'] : way.startsWith('Zato admin') ? ['root', 'root-pw'] : ['alice', 'alice-pw'];
    const replies: Reply[] = [];
    replies.push(await call(server, { ...request(owner[0]!, owner[1]!), from: ATTACKER }));
    replies.push(await call(server, { ...request('nobody-here', 'whatever'), from: ATTACKER }));
    replies.push(await call(server, { ...request(owner[0]!, 'wrong-again'), from: OWNER }));
    const [locked, unknown, wrong] = replies as [Reply, Reply, Reply];
    expect(locked.status).toBeGreaterThanOrEqual(400);
    for (const other of [unknown, wrong]) {
      expect(other.status).toBe(locked.status);
      expect(withoutCid(other.text)).toBe(withoutCid(locked.text));
      expect(other.headers['www-authenticate']).toBe(locked.headers['www-authenticate']);
    }
    // The owner, from its own address, is let in.
    expect((await call(server, { ...request(owner[0]!, owner[1]!), from: OWNER })).status).toBe(200);
  });
});

describe('the throttle counts failures, not attempts', () => {
  let server: TestServer;
  afterEach(() => server.stop());

  it('lets an integrator log in 60 end users in a minute, with a dozen typos among them', async () => {
    server = await start({ DUALGATE_LOGIN_RATE: '5' });
    for (let i = 0; i < 60; i++) await server.addUser(`member${i}`, `member-pw-${i}`);
    const agent = new Agent({ keepAlive: true, localAddress: ATTACKER });
    try {
      const auth = await call(server, { path: '/xweb/JSON/Authenticate', body: JSON.stringify({ Authenticate: { userName: 'integ', password: 'integ-pw' } }), agent });
      expect(auth.status).toBe(200);
      let token = auth.json().Token as string;
      const webLogin = async (username: string, password: string) => {
        const reply = await call(server, {
          path: '/xweb/JSON/WebLogin',
          headers: { Authorization: `Bearer ${token}` },
          body: JSON.stringify({ WebLogin: { userLoginPlain: username, passwordPlain: password } }),
          agent,
        });
        token = /token = (\S+)/.exec(String(reply.headers['www-authenticate']))?.[1] ?? token;
        return reply;
      };
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) {
        if (i % 5 === 0) statuses.push((await webLogin(`member${i}`, 'typo')).status);
        statuses.push((await webLogin(`member${i}`, `member-pw-${i}`)).status);
        server.clock.advance(900); // 60 end users (and 12 typos) within 54 s
      }
      expect(statuses.filter((s) => s === 400)).toHaveLength(12);
      expect(statuses.filter((s) => s === 200)).toHaveLength(60);
      // The same address without the integrator's token is throttled as any other after 5 failures.
      for (let i = 0; i < 5; i++) expect((await zatoLogin(server, 'alice', 'wrong', ATTACKER)).status).toBe(401);
      expect((await zatoLogin(server, 'alice', 'alice-pw', ATTACKER)).status).toBe(429);
    } finally {
      agent.destroy();
    }
  });

  it('lets an admin tool make 30 calls a minute, with Basic credentials or once logged in with a Bearer token', async () => {
    server = await start({});
    for (let i = 0; i < 30; i++) {
      const reply = await call(server, { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: basic('root', 'root-pw') }, body: '{}', from: ATTACKER });
      expect(reply.status).toBe(200);
    }
    const token = (await zatoLogin(server, 'root', 'root-pw', ATTACKER)).json().zato_security_jwt_log_in_response.token as string;
    const compare = jest.spyOn(bcrypt, 'compare');
    try {
      for (let i = 0; i < 30; i++) {
        const reply = await call(server, { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: `Bearer ${token}` }, body: '{}', from: ATTACKER });
        expect(reply.status).toBe(200);
      }
      expect(compare).not.toHaveBeenCalled();
    } finally {
      compare.mockRestore();
    }
    // A user's token is no admin's; a logged-out token is no credential.
    const aliceToken = (await zatoLogin(server, 'alice', 'alice-pw', OWNER)).json().zato_security_jwt_log_in_response.token as string;
    const asAlice = await call(server, { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: `Bearer ${aliceToken}` }, body: '{}' });
    expect(asAlice.status).toBe(403);
    await call(server, { path: '/zato/jwt/log-out', headers: { Authorization: `Bearer ${token}` } });
    const dead = await call(server, { path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: `Bearer ${token}` }, body: '{}' });
    expect(dead.status).toBe(401);
    expect(dead.json().zato_env.details).toBe('HTTP Basic credentials of an admin account are required');
  });

  it('never throttles an address of DUALGATE_LOGIN_RATE_EXEMPT', async () => {
    server = await start({ DUALGATE_LOGIN_RATE: '2', DUALGATE_LOGIN_RATE_EXEMPT: '127.0.0.2/32, 10.0.0.0/8' });
    for (let i = 0; i < 6; i++) expect((await zatoLogin(server, 'nobody', 'wrong', ATTACKER)).status).toBe(401);
    for (let i = 0; i < 2; i++) expect((await zatoLogin(server, 'nobody', 'wrong', OWNER)).status).toBe(401);
    expect((await zatoLogin(server, 'nobody', 'wrong', OWNER)).status).toBe(429);
  });
});

describe('a flood of throttled attempts', () => {
  let server: TestServer;
  afterEach(() => server.stop());

  it('leaves one audit row per address and window, with its count', async () => {
    server = await start({ DUALGATE_LOGIN_RATE: '3' });
    const agent = new Agent({ keepAlive: true, maxSockets: 16, localAddress: ATTACKER });
    try {
      const send = (n: number) =>
        Promise.all(
          Array.from({ length: n }, (_, i) =>
            call(server, { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: `ghost${i}`, password: 'x' }), agent }).then((r) => r.status),
          ),
        );
      const statuses: number[] = [];
      for (let batch = 0; batch < 20; batch++) statuses.push(...(await send(100)));
      expect(statuses.filter((s) => s === 401)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(1997);
      server.clock.advance(60_000);
      for (let batch = 0; batch < 5; batch++) statuses.push(...(await send(100)));
    } finally {
      agent.destroy();
    }
    const rows = auditRows(server);
    expect(rows.filter((r) => r.detail === 'throttled')).toEqual([
      { event: 'login', detail: 'throttled', clientIp: ATTACKER, count: 1997, username: null },
      { event: 'login', detail: 'throttled', clientIp: ATTACKER, count: 497, username: null },
    ]);
    expect(rows).toHaveLength(8); // 3 + 3 failures, and the two tallies
    expect((await call(server, { method: 'GET', path: '/healthz' })).status).toBe(200);
  });

  it('is purged with the sessions once older than DUALGATE_AUDIT_RETENTION, and counted in /metrics', async () => {
    server = await start({ DUALGATE_AUDIT_RETENTION: '86400', DUALGATE_METRICS: 'true' });
    for (let i = 0; i < 3; i++) await zatoLogin(server, 'alice', 'wrong');
    const before = readDb(server, (db) => (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n);
    server.clock.advance(86_400_000 + 1);
    await zatoLogin(server, 'alice', 'alice-pw');
    await server.core.sessions.purge();
    expect(readDb(server, (db) => db.prepare('SELECT event, outcome FROM audit').all())).toEqual([{ event: 'login', outcome: 'ok' }]);
    const metrics = await call(server, { method: 'GET', path: '/metrics' });
    expect(metrics.text).toContain(`dualgate_audit_purged_total ${before}`);
  });
});
