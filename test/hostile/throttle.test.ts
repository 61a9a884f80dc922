import Database from 'better-sqlite3';
import { ManualClock } from '../../src/core/clock';
import { startTestServer, type Settings, type TestServer } from '../support/server';
import {
  ALICE,
  basicAuth,
  crafterJson,
  INTEG,
  loginTemplate,
  renderXml,
  ROOT,
  send,
  STUDIO,
  xmlText,
  xwebFault,
  xwebJson,
  XWEB_NS,
  zatoFault,
  zatoJson,
  type Answer,
  type Expected,
  type Outgoing,
} from './harness';

/**
 * The log-in throttle over HTTP: DUALGATE_LOGIN_RATE failed log-ins a minute per client address, counted in the
 * store, so one budget for every door (and every process on the database), answered in each door's format;
 * the address from X-Forwarded-For only when DUALGATE_TRUST_PROXY trusts the proxy that sent it.
 */

// 15 s into a minute: the window ends in 45 s, which is what Retry-After must say.
const AT = Date.UTC(2026, 5, 1, 12, 0, 15);
const RETRY_AFTER = '45';
const TOO_MANY = 'Too many attempts';

async function start(settings: Settings, clock = new ManualClock(AT), dir?: string): Promise<TestServer> {
  const server = await startTestServer({ DUALGATE_LOGIN_RATE: '3', ...settings }, { clock, dir });
  if (!dir) {
    await server.addUser(ALICE.username, ALICE.password, 'user');
    await server.addUser(INTEG.username, INTEG.password, 'integrator');
    await server.addUser(ROOT.username, ROOT.password, 'admin');
  }
  return server;
}

const XML = { 'Content-Type': 'text/xml; charset=utf-8' };
const CSRF = { Cookie: 'XSRF-TOKEN=p', 'X-XSRF-TOKEN': 'p' };

/** One log-in attempt (right credentials) through each way in, and what it gets once the address is over its rate. */
const WAYS: [string, (xff?: string) => Outgoing, Expected][] = [
  [
    'Zato JSON log-in',
    () => ({ path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify(ALICE) }),
    zatoJson(429, TOO_MANY, { 'retry-after': RETRY_AFTER }),
  ],
  ['Zato 3 log-in', () => ({ path: '/zato/jwt/log-in', body: JSON.stringify(ALICE) }), zatoJson(429, TOO_MANY, { 'retry-after': RETRY_AFTER })],
  [
    'Zato SOAP log-in',
    () => ({
      path: '/zato/soap',
      headers: { ...XML, SOAPAction: '"zato.security.jwt.log-in"' },
      body: renderXml(Buffer.from(loginTemplate(ALICE.username, xmlText(ALICE.password))), 'zato', ''),
    }),
    zatoFault(TOO_MANY, { headers: { 'retry-after': RETRY_AFTER } }),
  ],
  [
    'Zato admin service (Basic)',
    () => ({ path: '/zato/json/zato.security.jwt.get-list', headers: { Authorization: basicAuth(ROOT.username, ROOT.password) }, body: '{}' }),
    zatoJson(429, TOO_MANY, { 'retry-after': RETRY_AFTER }),
  ],
  [
    'xWeb JSON Authenticate',
    () => ({ path: '/xweb/JSON/Authenticate', body: JSON.stringify({ Authenticate: { userName: INTEG.username, password: INTEG.password } }) }),
    xwebJson(429, TOO_MANY, 'System', { 'retry-after': RETRY_AFTER }),
  ],
  [
    'xWeb JSON call with Basic credentials',
    () => ({
      method: 'GET',
      path: '/xweb/JSON/WebValidate?authenticationToken=x',
      headers: { Authorization: basicAuth(INTEG.username, INTEG.password) },
    }),
    xwebJson(429, TOO_MANY, 'System', { 'retry-after': RETRY_AFTER }),
  ],
  [
    'xWeb SOAP Authenticate',
    () => ({
      path: '/xweb/secure/netForumXML.asmx',
      headers: { ...XML, SOAPAction: `"${XWEB_NS}Authenticate"` },
      body: renderXml(Buffer.from(loginTemplate(INTEG.username, xmlText(INTEG.password))), 'xweb', ''),
    }),
    xwebFault(TOO_MANY, { at: 'Authenticate', headers: { 'retry-after': RETRY_AFTER } }),
  ],
  [
    'Crafter login.json',
    () => ({ path: `${STUDIO}/login.json`, headers: CSRF, body: JSON.stringify(ALICE) }),
    crafterJson(429, { message: 'Too Many Requests' }, { 'retry-after': RETRY_AFTER }),
  ],
];

const withXff = (out: Outgoing, xff?: string): Outgoing => (xff ? { ...out, headers: { ...out.headers, 'X-Forwarded-For': xff } } : out);

/** An unknown user at Zato's JSON door: one failure, counted. */
const wrongAtZato = (xff?: string) => withXff({ path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username: 'ghost', password: 'x' }) }, xff);
const wrongAtXweb = (xff?: string) =>
  withXff({ path: '/xweb/JSON/Authenticate', body: JSON.stringify({ Authenticate: { userName: 'ghost', password: 'x' } }) }, xff);
const wrongAtCrafter = (xff?: string) => withXff({ path: `${STUDIO}/login.json`, headers: CSRF, body: JSON.stringify({ username: 'ghost', password: 'x' }) }, xff);

async function expectThrottled(server: TestServer, out: Outgoing, expected: Expected): Promise<Answer> {
  const answer = await send(server.url, out);
  expect(answer.status).toBe(expected.status);
  expected.check(answer);
  return answer;
}

function auditIps(server: TestServer): { clientIp: string; detail: string | null; count: number }[] {
  const db = new Database(server.dbPath, { readonly: true });
  try {
    return db.prepare("SELECT client_ip AS clientIp, detail, count FROM audit WHERE event = 'login' ORDER BY id").all() as { clientIp: string; detail: string | null; count: number }[];
  } finally {
    db.close();
  }
}

describe('the log-in throttle, over HTTP', () => {
  describe('one budget for every door', () => {
    let server: TestServer;
    beforeEach(async () => {
      server = await start({});
    });
    afterEach(() => server.stop());

    it.each(WAYS)('attempts at Zato count at %s, which answers in its own format', async (_way, request, expected) => {
      for (let i = 0; i < 3; i++) expect((await send(server.url, wrongAtZato())).status).toBe(401);
      await expectThrottled(server, request(), expected);
    });

    it('counts one failure at each of three doors, then refuses the right password at every way in, in one audit row', async () => {
      expect((await send(server.url, wrongAtZato())).status).toBe(401);
      expect((await send(server.url, wrongAtXweb())).status).toBe(401);
      expect((await send(server.url, wrongAtCrafter())).status).toBe(401);
      for (const [, request, expected] of WAYS) await expectThrottled(server, request(), expected);
      expect(auditIps(server).map((r) => [r.detail, r.count])).toEqual([
        ...[['unknown user', 1], ['unknown user', 1], ['unknown user', 1]],
        ['throttled', WAYS.length],
      ]);
      // The next minute, the address may try again.
      server.clock.advance(45_000);
      expect((await send(server.url, WAYS[0]![1]())).status).toBe(200);
    });

    it('is shared by two servers on one database file (as workers are)', async () => {
      const other = await start({}, server.clock, server.dir);
      try {
        expect((await send(server.url, wrongAtZato())).status).toBe(401);
        expect((await send(other.url, wrongAtXweb())).status).toBe(401);
        expect((await send(server.url, wrongAtCrafter())).status).toBe(401);
        await expectThrottled(other, WAYS[7]![1](), WAYS[7]![2]);
      } finally {
        await other.close(1000);
      }
    });
  });

  describe('with DUALGATE_TRUST_PROXY off (the default)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await start({});
    });
    afterAll(() => server.stop());

    it('ignores a forged X-Forwarded-For: every attempt counts against the socket address', async () => {
      expect((await send(server.url, wrongAtZato('203.0.113.1'))).status).toBe(401);
      expect((await send(server.url, wrongAtXweb('203.0.113.2'))).status).toBe(401);
      expect((await send(server.url, wrongAtCrafter('203.0.113.3'))).status).toBe(401);
      await expectThrottled(server, withXff(WAYS[0]![1](), '198.51.100.77'), WAYS[0]![2]);
      expect(auditIps(server).map((r) => r.clientIp)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
    });
  });

  describe('with DUALGATE_TRUST_PROXY=loopback (the proxy is on this host)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await start({ DUALGATE_TRUST_PROXY: 'loopback' });
    });
    afterAll(() => server.stop());

    it('counts the X-Forwarded-For address: one client is throttled, another and the proxy itself are not', async () => {
      for (const request of [wrongAtZato, wrongAtXweb, wrongAtCrafter]) expect((await send(server.url, request('203.0.113.7'))).status).toBe(401);
      await expectThrottled(server, withXff(WAYS[4]![1](), '203.0.113.7'), WAYS[4]![2]);
      // Addresses the client itself put in front do not help it: the proxy's rightmost entry counts.
      await expectThrottled(server, withXff(WAYS[7]![1](), '10.9.9.9, 203.0.113.7'), WAYS[7]![2]);
      expect((await send(server.url, withXff(WAYS[0]![1](), '198.51.100.9'))).status).toBe(200);
      expect((await send(server.url, WAYS[0]![1]())).status).toBe(200);
      expect(auditIps(server).map((r) => [r.clientIp, r.detail, r.count])).toEqual([
        ['203.0.113.7', 'unknown user', 1],
        ['203.0.113.7', 'unknown user', 1],
        ['203.0.113.7', 'unknown user', 1],
        ['203.0.113.7', 'throttled', 2],
        ['198.51.100.9', null, 1],
        ['127.0.0.1', null, 1],
      ]);
    });
  });
});
