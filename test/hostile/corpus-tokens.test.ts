import { createHmac, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import {
  ALICE,
  checkTemplate,
  crafterJson,
  expand,
  expectAnswer,
  expectStillServing,
  hostileFile,
  NIL_GUID,
  renderXml,
  send,
  soap,
  startHostileServer,
  STUDIO,
  success,
  treeOf,
  victimsAlive,
  xmlText,
  xwebFault,
  xwebJson,
  xwebSoapResult,
  XWEB_CHALLENGE,
  XWEB_NS,
  zatoFault,
  zatoJson,
  ZATO_NS,
  type Answer,
  type DoorName,
  type Expected,
  type Hostile,
  type Outgoing,
} from './harness';
import { parseUntrustedXml } from '../../src/http/soap/guard';

/**
 * Tokens nobody should get anywhere with, at every place a token goes: the Zato log-outs (JSON, SOAP, Zato 3's
 * Bearer), xWeb's WebValidate and WebLogout (the body's token) and its integrator token (Bearer, SOAP header),
 * Crafter's JSESSIONID. JWTs tampered, unsigned, re-signed, with a `kid`, expired, not yet valid; a real token
 * already logged out or expired; and fixtures/hostile/tokens.json.
 */

const SECRET = 'hostile-suite-jwt-secret-0123456789abcdef';

/** What a token is to the server: never issued by it, or issued and its session over. */
type Category = { never: true } | { ended: string /* the session's username */ };

interface TokenItem {
  name: string;
  token: () => string;
  category: () => Category;
  /** Which channels: all of them, only those with a body, or only JSON bodies (XML cannot carry NUL). */
  channels: 'all' | 'body' | 'json-body';
  /** Not to the log-outs (a session that expired unrevoked is marked ended there: its own test below). */
  noLogout?: boolean;
  /** Can travel as a header value or cookie: no spaces, controls, `;`, `,`, `"` or `\`. JWTs always can. */
  headerSafe: boolean;
}

interface Channel {
  id: string;
  door: DoorName;
  protocol: 'json' | 'soap';
  reach: 'header' | 'body' | 'json-body';
  request(h: Hostile, token: string): Outgoing;
  expected(h: Hostile, category: Category): Expected;
}

const loggedOut = (category: Category, door: DoorName) =>
  'ended' in category ? [{ event: 'logout', outcome: 'ok', username: category.ended, door, detail: 'already ended' }] : [];

const zatoLogOutOk = (answer: Answer) =>
  expect(answer.text).toBe(
    JSON.stringify({ zato_env: { details: '', result: 'ZATO_OK', cid: answer.headers['x-zato-cid'] }, zato_security_jwt_log_out_response: { result: '' } }),
  );

const CHANNELS: Channel[] = [
  {
    id: 'Zato JSON log-out',
    door: 'zato',
    protocol: 'json',
    reach: 'json-body',
    request: (_h, token) => ({ path: '/zato/json/zato.security.jwt.log-out', body: JSON.stringify({ token }) }),
    expected: (_h, c) => ('never' in c ? zatoJson(400, 'Invalid token') : success(zatoLogOutOk, loggedOut(c, 'zato'))),
  },
  {
    id: 'Zato SOAP log-out',
    door: 'zato',
    protocol: 'soap',
    reach: 'body',
    request: (h, token) => ({
      path: '/zato/soap',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"zato.security.jwt.log-out"' },
      body: renderXml(Buffer.from(checkTemplate(xmlText(token))), 'zato', h.integratorToken),
    }),
    expected: (_h, c) =>
      'never' in c
        ? zatoFault('Invalid token')
        : success((answer) => {
            expect(treeOf(parseUntrustedXml(answer.body))).toEqual([
              soap('Envelope'),
              [
                [
                  soap('Body'),
                  [[`{${ZATO_NS}}zato_security_jwt_log_out_response`, [[`{${ZATO_NS}}zato_env`, [[`{${ZATO_NS}}cid`, answer.headers['x-zato-cid']], [`{${ZATO_NS}}result`, 'ZATO_OK']]]]]],
                ],
              ],
            ]);
          }, loggedOut(c, 'zato')),
  },
  {
    id: 'Zato 3 log-out (Bearer)',
    door: 'zato',
    protocol: 'json',
    reach: 'header',
    request: (_h, token) => ({ path: '/zato/jwt/log-out', headers: { Authorization: `Bearer ${token}` } }),
    expected: (_h, c) => ('never' in c ? zatoJson(400, 'Invalid token') : success((answer) => expect(answer.text).toBe('{}'), loggedOut(c, 'zato'))),
  },
  {
    id: 'xWeb JSON WebValidate (body token)',
    door: 'xweb',
    protocol: 'json',
    reach: 'json-body',
    request: (h, token) => ({
      path: '/xweb/JSON/WebValidate',
      headers: { Authorization: `Bearer ${h.integratorToken}` },
      body: JSON.stringify({ WebValidate: { authenticationToken: token } }),
    }),
    expected: (h) =>
      success((answer) => {
        expect(answer.text).toBe(JSON.stringify({ WebValidateResult: NIL_GUID }));
        expect(answer.headers['www-authenticate']).toBe(`Bearer token = ${h.integratorToken}`);
      }),
  },
  {
    id: 'xWeb SOAP WebValidate (body token)',
    door: 'xweb',
    protocol: 'soap',
    reach: 'body',
    request: (h, token) => ({
      path: '/xweb/secure/netForumXML.asmx',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${XWEB_NS}WebValidate"` },
      body: renderXml(Buffer.from(checkTemplate(xmlText(token))), 'xweb', h.integratorToken),
    }),
    expected: (h) => success((answer) => expect(xwebSoapResult(answer)).toEqual({ result: NIL_GUID, headerToken: h.integratorToken })),
  },
  {
    id: 'xWeb JSON WebLogout (body token)',
    door: 'xweb',
    protocol: 'json',
    reach: 'json-body',
    request: (h, token) => ({
      path: '/xweb/JSON/WebLogout',
      headers: { Authorization: `Bearer ${h.integratorToken}` },
      body: JSON.stringify({ WebLogout: { authenticationToken: token } }),
    }),
    expected: (h, c) =>
      success((answer) => {
        expect(answer.text).toBe('{}');
        expect(answer.headers['www-authenticate']).toBe(`Bearer token = ${h.integratorToken}`);
      }, loggedOut(c, 'xweb')),
  },
  {
    id: 'xWeb JSON integrator token (Bearer)',
    door: 'xweb',
    protocol: 'json',
    reach: 'header',
    request: (_h, token) => ({
      method: 'GET',
      path: `/xweb/JSON/WebValidate?authenticationToken=${NIL_GUID}`,
      headers: { Authorization: `Bearer ${token}` },
    }),
    expected: () => xwebJson(401, 'Invalid Token Value', 'InvalidToken', { 'www-authenticate': XWEB_CHALLENGE }),
  },
  {
    id: 'xWeb SOAP integrator token (AuthorizationToken header)',
    door: 'xweb',
    protocol: 'soap',
    reach: 'header',
    request: (_h, token) => ({
      path: '/xweb/secure/netForumXML.asmx',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${XWEB_NS}WebValidate"` },
      body: renderXml(Buffer.from(checkTemplate(NIL_GUID)), 'xweb', xmlText(token)),
    }),
    expected: () => xwebFault('Invalid Token Value', { kind: 'InvalidToken', at: 'WebValidate' }),
  },
  {
    id: 'Crafter validate-session (JSESSIONID)',
    door: 'crafter',
    protocol: 'json',
    reach: 'header',
    request: (_h, token) => ({ method: 'GET', path: `${STUDIO}/validate-session.json`, headers: { Cookie: `JSESSIONID=${token}` } }),
    expected: () => crafterJson(200, { message: null, active: false, user: null }),
  },
  {
    id: 'Crafter logout (JSESSIONID)',
    door: 'crafter',
    protocol: 'json',
    reach: 'header',
    request: (_h, token) => ({ path: `${STUDIO}/logout.json`, headers: { Cookie: `JSESSIONID=${token}` } }),
    expected: (_h, c) => ({
      ...crafterJson(200, { message: 'OK' }),
      audit: loggedOut(c, 'crafter'),
    }),
  },
];

/** Whether the item's token can travel this way at all (a header has no CR/LF; XML has no NUL). */
function carries(channel: Channel, item: TokenItem): boolean {
  if (item.noLogout && /log-?out/i.test(channel.id)) return false;
  const reach = { all: ['header', 'body', 'json-body'], body: ['body', 'json-body'], 'json-body': ['json-body'] }[item.channels];
  return reach.includes(channel.reach) && (channel.reach !== 'header' || item.headerSafe);
}

// ---------------------------------------------------------------------------------------------------------

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hmac = (alg: 'sha256' | 'sha512', key: string, data: string) => createHmac(alg, key).update(data).digest('base64url');
const signed = (header: object, claims: object, key: string, alg: 'sha256' | 'sha512' = 'sha256') => {
  const data = `${b64(header)}.${b64(claims)}`;
  return `${data}.${hmac(alg, key, data)}`;
};

/** Tokens computed from the live victim token and the known secret once the server is up. */
const made: Record<string, string> = {};
const ended: Record<string, string> = {};

const now = () => Math.floor(Date.now() / 1000);
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const never = (): Category => ({ never: true });

const JWTS: TokenItem[] = [
  { name: 'JWT: payload tampered (sub: root), signature kept', token: () => made.tamperedPayload!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: signature tampered', token: () => made.tamperedSignature!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: alg none, no signature', token: () => made.none!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: alg HS512 with the right secret', token: () => made.hs512!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: HS256 with another secret', token: () => made.otherSecret!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: alg RS256 signed with the secret as an HMAC key', token: () => made.confusion!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: kid pointing at /dev/null, signed with an empty key', token: () => made.kidEmpty!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: a kid, the right secret and a live session id', token: () => made.kidRight!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: expired (exp an hour ago), signed right', token: () => made.expired!, category: never, channels: 'all', headerSafe: true },
  { name: 'JWT: not yet valid (nbf in an hour), signed right', token: () => made.notYet!, category: never, channels: 'all', headerSafe: true },
  // Issued by this server, session over: log-out is idempotent (RFC 7009), every check says dead.
  { name: 'JWT: real, already logged out', token: () => ended.loggedOut!, category: () => ({ ended: ALICE.username }), channels: 'all', headerSafe: true },
  { name: 'JWT: real, its session expired', token: () => ended.expired!, category: () => ({ ended: 'shorty' }), channels: 'all', noLogout: true, headerSafe: true },
];

interface FileToken {
  id: string;
  what: string;
  token: unknown;
  channels: TokenItem['channels'];
}

const FROM_FILE: TokenItem[] = (JSON.parse(hostileFile('tokens.json').toString('utf8')) as FileToken[]).map((t) => {
  const token = expand(t.token) as string;
  return { name: `${t.id}: ${t.what}`, token: () => token, category: never, channels: t.channels, headerSafe: /^[!#-+\--:<-[\]-~]+$/.test(token) };
});

const ITEMS = [...JWTS, ...FROM_FILE];

describe('hostile tokens, at every place a token goes', () => {
  let h: Hostile;
  beforeAll(async () => {
    h = await startHostileServer({ DUALGATE_JWT_SECRET: SECRET });
    const victim = h.victims.jwt;
    const [header, payload, signature] = victim.split('.') as [string, string, string];
    const claims = claimsOf(victim);
    made.tamperedPayload = `${header}.${b64({ ...claims, sub: 'root' })}.${signature}`;
    made.tamperedSignature = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    made.none = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    made.hs512 = signed({ alg: 'HS512', typ: 'JWT' }, claims, SECRET, 'sha512');
    made.otherSecret = signed({ alg: 'HS256', typ: 'JWT' }, claims, 'another-secret-another-secret-another');
    made.confusion = signed({ alg: 'RS256', typ: 'JWT' }, claims, SECRET);
    made.kidEmpty = signed({ alg: 'HS256', typ: 'JWT', kid: '../../../../../../dev/null' }, claims, '');
    made.kidRight = signed({ alg: 'HS256', typ: 'JWT', kid: '1' }, claims, SECRET);
    made.expired = jwt.sign({ sub: 'alice', sid: claims.sid, jti: randomBytes(16).toString('hex'), iat: now() - 7200, exp: now() - 3600 }, SECRET);
    made.notYet = jwt.sign({ sub: 'alice', sid: claims.sid, jti: randomBytes(16).toString('hex'), nbf: now() + 3600 }, SECRET);

    const logIn = async (username: string, password: string) =>
      JSON.parse((await send(h.url, { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username, password }) })).text)
        .zato_security_jwt_log_in_response.token as string;
    ended.loggedOut = await logIn(ALICE.username, ALICE.password);
    expect((await send(h.url, { path: '/zato/json/zato.security.jwt.log-out', body: JSON.stringify({ token: ended.loggedOut }) })).status).toBe(200);
    await h.server.addUser('shorty', 'pw-shorty-Kq2', 'user', { ttl: 1 });
    ended.expired = await logIn('shorty', 'pw-shorty-Kq2');
    h.server.clock.advance(2000);
    // The integrator's session is touched once at the new time now, not in the middle of a case.
    await expectStillServing(h, 'xweb', 'json');
  });
  afterAll(() => h.stop());

  const CASES = CHANNELS.flatMap((channel) =>
    ITEMS.filter((item) => carries(channel, item)).map((item) => [`${channel.id}: ${item.name}`, channel, item] as const),
  );

  it.each(CASES)('%s', async (_name, channel, item) => {
    await expectAnswer(h, channel.request(h, item.token()), channel.expected(h, item.category()));
    await expectStillServing(h, channel.door, channel.protocol);
  });

  it('takes CR/LF in a percent-encoded JSESSIONID as an unknown token, and injects nothing', async () => {
    const cookie = 'JSESSIONID=x%0D%0ASet-Cookie%3A%20injected%3D1%0D%0A; XSRF-TOKEN=a%0D%0Ab';
    await expectAnswer(
      h,
      { method: 'GET', path: `${STUDIO}/validate-session.json`, headers: { Cookie: cookie } },
      crafterJson(200, { message: null, active: false, user: null }),
    );
    const logout = await expectAnswer(h, { path: `${STUDIO}/logout.json`, headers: { Cookie: cookie } }, crafterJson(200, { message: 'OK' }));
    expect(logout.headers['set-cookie']).toEqual([
      'JSESSIONID=; Max-Age=0; Path=/studio; HttpOnly; SameSite=Lax',
      'XSRF-TOKEN=; Max-Age=0; Path=/studio',
    ]);
  });

  it('logs out a token whose session expired: success, the session marked ended, nothing else touched', async () => {
    const before = h.state.snapshot();
    const answer = await send(h.url, { path: '/zato/json/zato.security.jwt.log-out', body: JSON.stringify({ token: ended.expired }) });
    expect(answer.status).toBe(200);
    zatoLogOutOk(answer);
    const after = h.state.snapshot();
    const sid = claimsOf(ended.expired!).sid;
    const unchanged = (rows: unknown[]) => (rows as { id?: string }[]).filter((r) => r.id !== sid);
    expect(unchanged(after.tables.sessions!)).toEqual(unchanged(before.tables.sessions!));
    expect((after.tables.sessions as { id: string; revoke_reason: string | null }[]).find((r) => r.id === sid)?.revoke_reason).toBe('logout');
    expect({ ...after.tables, sessions: [] }).toEqual({ ...before.tables, sessions: [] });
    expect(h.state.auditSince(before.auditTop)).toEqual([{ event: 'logout', outcome: 'ok', username: 'shorty', door: 'zato', detail: null }]);
  });

  it('leaves the victim sessions alive, the JWT among them', async () => {
    expect(await victimsAlive(h)).toEqual([true, true, true]);
  });
});
