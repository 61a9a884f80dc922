import {
  ALICE,
  checkTemplate,
  INTEG,
  loginTemplate,
  NIL_GUID,
  renderXml,
  send,
  SOAP11,
  startHostileServer,
  STUDIO,
  xmlText,
  XWEB_NS,
  type Answer,
  type Hostile,
  type Outgoing,
} from './harness';

/**
 * HTTP hygiene on what matters most, the answers that carry a token: no X-Powered-By, nosniff, and no cache may
 * keep them. Crafter's cookies exactly as its spec has them.
 */

const XML = { 'Content-Type': 'text/xml; charset=utf-8' };
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function expectHygiene(answer: Answer, what: string): void {
  expect(`${what}: ${answer.headers['x-powered-by']}`).toBe(`${what}: undefined`);
  expect(`${what}: ${answer.headers['x-content-type-options']}`).toBe(`${what}: nosniff`);
  expect(`${what}: ${answer.headers['cache-control']}`).toBe(`${what}: no-store`);
}

const xwebSoap = (h: Hostile, op: string, body: string): Outgoing => ({
  path: '/xweb/secure/netForumXML.asmx',
  headers: { ...XML, SOAPAction: `"${XWEB_NS}${op}"` },
  body:
    `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Header><AuthorizationToken xmlns="${XWEB_NS}"><Token>${h.integratorToken}</Token></AuthorizationToken></soap:Header>` +
    `<soap:Body><${op} xmlns="${XWEB_NS}">${body}</${op}></soap:Body></soap:Envelope>`,
});

describe('HTTP hygiene on every answer that carries a token', () => {
  let h: Hostile;
  beforeAll(async () => {
    h = await startHostileServer();
  });
  afterAll(() => h.stop());

  const bearer = () => ({ Authorization: `Bearer ${h.integratorToken}` });

  /** Each: what, the request, and how the answer carries a token (checked, so the case is what it says). */
  const CASES: [string, (h: Hostile) => Outgoing, (a: Answer) => void][] = [
    [
      'Zato JSON log-in',
      () => ({ path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify(ALICE) }),
      (a) => expect(JSON.parse(a.text).zato_security_jwt_log_in_response.token).toMatch(/^ey/),
    ],
    [
      'Zato SOAP log-in',
      (h) => ({
        path: '/zato/soap',
        headers: { ...XML, SOAPAction: '"zato.security.jwt.log-in"' },
        body: renderXml(Buffer.from(loginTemplate(ALICE.username, xmlText(ALICE.password))), 'zato', h.integratorToken),
      }),
      (a) => expect(a.text).toMatch(/<token>ey[^<]+<\/token>/),
    ],
    [
      'Zato 3 /zato/jwt/log-in',
      () => ({ path: '/zato/jwt/log-in', body: JSON.stringify(ALICE) }),
      (a) => expect(a.headers.authorization).toBe(JSON.parse(a.text).token),
    ],
    [
      'Zato 3 /zato/jwt/log-out',
      () => ({ path: '/zato/jwt/log-out', headers: { Authorization: 'Bearer not.a.token' } }),
      (a) => expect(a.status).toBe(400),
    ],
    [
      'xWeb JSON Authenticate',
      () => ({ path: '/xweb/JSON/Authenticate', body: JSON.stringify({ Authenticate: { userName: INTEG.username, password: INTEG.password } }) }),
      (a) => expect(a.headers['www-authenticate']).toBe(`Bearer token = ${JSON.parse(a.text).Token}`),
    ],
    [
      'xWeb JSON WebLogin',
      () => ({ path: '/xweb/JSON/WebLogin', headers: bearer(), body: JSON.stringify({ WebLogin: { userLoginPlain: ALICE.username, passwordPlain: ALICE.password } }) }),
      (a) => expect([a.headers['www-authenticate'], JSON.parse(a.text).WebLoginResult]).toEqual([`Bearer token = ${h.integratorToken}`, expect.stringMatching(new RegExp(`^${UUID}$`))]),
    ],
    [
      'xWeb JSON WebValidate',
      () => ({ method: 'GET', path: `/xweb/JSON/WebValidate?authenticationToken=${NIL_GUID}`, headers: bearer() }),
      (a) => expect(a.headers['www-authenticate']).toBe(`Bearer token = ${h.integratorToken}`),
    ],
    [
      'xWeb JSON WebLogout',
      () => ({ method: 'GET', path: `/xweb/JSON/WebLogout?authenticationToken=${NIL_GUID}`, headers: bearer() }),
      (a) => expect(a.headers['www-authenticate']).toBe(`Bearer token = ${h.integratorToken}`),
    ],
    [
      'xWeb JSON error (401)',
      () => ({ method: 'GET', path: `/xweb/JSON/WebValidate?authenticationToken=${NIL_GUID}` }),
      (a) => expect(a.headers['www-authenticate']).toBe('Bearer realm="xWeb"'),
    ],
    [
      'xWeb SOAP Authenticate',
      (h) => ({
        path: '/xweb/secure/netForumXML.asmx',
        headers: { ...XML, SOAPAction: `"${XWEB_NS}Authenticate"` },
        body: renderXml(Buffer.from(loginTemplate(INTEG.username, xmlText(INTEG.password))), 'xweb', h.integratorToken),
      }),
      (a) => expect(a.text).toMatch(new RegExp(`<Token>${UUID}</Token>`)),
    ],
    [
      'xWeb SOAP WebLogin',
      (h) => xwebSoap(h, 'WebLogin', `<userLoginPlain>${ALICE.username}</userLoginPlain><passwordPlain>${xmlText(ALICE.password)}</passwordPlain>`),
      (a) => expect(a.text).toMatch(new RegExp(`<WebLoginResult>${UUID}</WebLoginResult>`)),
    ],
    [
      'xWeb SOAP WebValidate',
      (h) => ({
        path: '/xweb/secure/netForumXML.asmx',
        headers: { ...XML, SOAPAction: `"${XWEB_NS}WebValidate"` },
        body: renderXml(Buffer.from(checkTemplate(NIL_GUID)), 'xweb', h.integratorToken),
      }),
      (a) => expect(a.text).toContain(`<Token>${h.integratorToken}</Token>`),
    ],
    [
      'xWeb SOAP WebLogout',
      (h) => xwebSoap(h, 'WebLogout', `<authenticationToken>${NIL_GUID}</authenticationToken>`),
      (a) => expect(a.text).toContain(`<Token>${h.integratorToken}</Token>`),
    ],
    [
      'Crafter login.json',
      () => ({ path: `${STUDIO}/login.json`, headers: { Cookie: 'XSRF-TOKEN=p', 'X-XSRF-TOKEN': 'p' }, body: JSON.stringify(ALICE) }),
      (a) => expect(a.headers['set-cookie']).toEqual([expect.stringMatching(/^JSESSIONID=[A-Za-z0-9_-]{43}; Path=\/studio; HttpOnly; SameSite=Lax$/)]),
    ],
    [
      'Crafter validate-session.json',
      (h) => ({ method: 'GET', path: `${STUDIO}/validate-session.json`, headers: { Cookie: `JSESSIONID=${h.victims.cookie}; XSRF-TOKEN=p` } }),
      (a) => expect(JSON.parse(a.text).active).toBe(true),
    ],
    [
      'Crafter logout.json',
      () => ({ path: `${STUDIO}/logout.json`, headers: { Cookie: 'JSESSIONID=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }),
      (a) => expect(a.headers['set-cookie']).toHaveLength(2),
    ],
  ];

  it.each(CASES)('%s', async (what, request, carries) => {
    const answer = await send(h.url, request(h));
    carries(answer);
    expectHygiene(answer, what);
  });

  it('sends nosniff and no X-Powered-By on anything else too', async () => {
    for (const out of [
      { method: 'GET', path: '/healthz' },
      { method: 'GET', path: '/nowhere' },
      { method: 'GET', path: '/zato/soap?wsdl' },
      { method: 'GET', path: '/xweb/secure/netForumXML.asmx?WSDL' },
    ]) {
      const answer = await send(h.url, out);
      expect(`${out.path}: ${answer.headers['x-powered-by']} ${answer.headers['x-content-type-options']}`).toBe(`${out.path}: undefined nosniff`);
    }
  });
});

describe("Crafter's cookies, as its spec has them", () => {
  const LOGIN = (extra: Record<string, string> = {}): Outgoing => ({
    path: `${STUDIO}/login.json`,
    headers: { Cookie: 'XSRF-TOKEN=p', 'X-XSRF-TOKEN': 'p', ...extra },
    body: JSON.stringify(ALICE),
  });
  const VALIDATE = (extra: Record<string, string> = {}): Outgoing => ({ method: 'GET', path: `${STUDIO}/validate-session.json`, headers: extra });
  const LOGOUT = (extra: Record<string, string> = {}): Outgoing => ({ path: `${STUDIO}/logout.json`, headers: extra });

  it('over plain HTTP: HttpOnly and SameSite=Lax on the session, readable XSRF, both scoped to /studio, no Secure even when a client claims https', async () => {
    const h = await startHostileServer();
    try {
      for (const extra of [{}, { 'X-Forwarded-Proto': 'https' }] as Record<string, string>[]) {
        expect((await send(h.url, LOGIN(extra))).headers['set-cookie']).toEqual([expect.stringMatching(/^JSESSIONID=[A-Za-z0-9_-]{43}; Path=\/studio; HttpOnly; SameSite=Lax$/)]);
        expect((await send(h.url, VALIDATE(extra))).headers['set-cookie']).toEqual([expect.stringMatching(new RegExp(`^XSRF-TOKEN=${UUID}; Path=/studio$`))]);
        expect((await send(h.url, LOGOUT(extra))).headers['set-cookie']).toEqual([
          'JSESSIONID=; Max-Age=0; Path=/studio; HttpOnly; SameSite=Lax',
          'XSRF-TOKEN=; Max-Age=0; Path=/studio',
        ]);
      }
    } finally {
      await h.stop();
    }
  });

  it('behind a trusted proxy that says https: Secure on every cookie', async () => {
    const h = await startHostileServer({ DUALGATE_TRUST_PROXY: 'loopback' });
    try {
      const https = { 'X-Forwarded-Proto': 'https' };
      expect((await send(h.url, LOGIN(https))).headers['set-cookie']).toEqual([
        expect.stringMatching(/^JSESSIONID=[A-Za-z0-9_-]{43}; Path=\/studio; HttpOnly; Secure; SameSite=Lax$/),
      ]);
      expect((await send(h.url, VALIDATE(https))).headers['set-cookie']).toEqual([expect.stringMatching(new RegExp(`^XSRF-TOKEN=${UUID}; Path=/studio; Secure$`))]);
      expect((await send(h.url, LOGOUT(https))).headers['set-cookie']).toEqual([
        'JSESSIONID=; Max-Age=0; Path=/studio; HttpOnly; Secure; SameSite=Lax',
        'XSRF-TOKEN=; Max-Age=0; Path=/studio; Secure',
      ]);
    } finally {
      await h.stop();
    }
  });
});
