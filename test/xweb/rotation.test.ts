import type { TestServer } from '../support/server';
import {
  at,
  authenticate,
  CUSTOMER,
  customerKeyOf,
  faultOf,
  fixture,
  headerToken,
  NIL_GUID,
  postSoap,
  request,
  startXwebServer,
  UUID_V4,
  type SoapAnswer,
} from './xweb-support';

const SECOND = 1000;
const TOKEN_TTL = 1200 * SECOND;
const GRACE = 30 * SECOND;

/** WebValidate with `integratorToken` in the header, of a token nobody holds: only the header matters here. */
function ping(server: TestServer, integratorToken: string): Promise<SoapAnswer> {
  return postSoap(server, request('WebValidate', { integratorToken, authenticationToken: NIL_GUID }), 'WebValidate');
}

function expectInvalidToken(answer: SoapAnswer): void {
  expect(answer.status).toBe(500);
  expect(faultOf(answer)).toMatchObject({ kind: 'InvalidToken', message: 'Invalid Token Value' });
}

function webLogin(server: TestServer, integratorToken: string, passwordPlain = CUSTOMER.password, keyOverride?: string): Promise<SoapAnswer> {
  let xml = request('WebLogin', { integratorToken, userLoginPlain: CUSTOMER.username, passwordPlain });
  if (keyOverride !== undefined) xml = xml.replace('</passwordPlain>', `</passwordPlain>\n      <keyOverride>${keyOverride}</keyOverride>`);
  return postSoap(server, xml, 'WebLogin');
}

const loginResult = (answer: SoapAnswer) => at(answer.envelope, 'Body', 'WebLoginResponse', 'WebLoginResult').text;

describe('absolute expiration (the default)', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startXwebServer();
  });
  afterEach(() => server.stop());

  it('answers the same token on every call and ends it tokenTtl after Authenticate, however busy', async () => {
    const token = await authenticate(server);
    for (const step of [400, 400, 399]) {
      server.clock.advance(step * SECOND);
      const answer = await ping(server, token);
      expect(answer.status).toBe(200);
      expect(headerToken(answer.envelope)).toBe(token);
    }
    server.clock.advance(SECOND);
    expectInvalidToken(await ping(server, token));
  });

  it('ends the customer token on its own TTL, not the integrator token', async () => {
    const integrator = await authenticate(server);
    const customer = loginResult(await webLogin(server, integrator));
    server.clock.advance(TOKEN_TTL);
    const fresh = await authenticate(server);
    const answer = await postSoap(server, request('WebValidate', { integratorToken: fresh, authenticationToken: customer }), 'WebValidate');
    expect(at(answer.envelope, 'Body', 'WebValidateResponse', 'WebValidateResult').text).toBe(await customerKeyOf(server, CUSTOMER.username));
  });
});

describe('sliding expiration', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startXwebServer({ DUALGATE_XWEB_EXPIRATION: 'sliding' });
  });
  afterEach(() => server.stop());

  it('answers a new token on each call; the previous one works for the grace period, then not', async () => {
    const first = await authenticate(server);
    const answer = await ping(server, first);
    const second = headerToken(answer.envelope)!;
    expect(second).toMatch(UUID_V4);
    expect(second).not.toBe(first);

    server.clock.advance(GRACE - SECOND);
    const concurrent = await ping(server, first);
    expect(concurrent.status).toBe(200);
    server.clock.advance(SECOND);
    expectInvalidToken(await ping(server, first));
    expect((await ping(server, second)).status).toBe(200);
  });

  it('gives each new token a fresh timeout, so a busy integrator outlives tokenTtl and an idle one does not', async () => {
    let token = await authenticate(server);
    for (let i = 0; i < 4; i++) {
      server.clock.advance(TOKEN_TTL - SECOND);
      const answer = await ping(server, token);
      expect(answer.status).toBe(200);
      token = headerToken(answer.envelope)!;
    }
    server.clock.advance(TOKEN_TTL);
    expectInvalidToken(await ping(server, token));
  });

  it('rotates only on success: a failed call leaves the integrator its token past the grace period', async () => {
    const token = await authenticate(server);
    const failed = await webLogin(server, token, 'wrong');
    expect(faultOf(failed)).toMatchObject({ kind: 'System', message: 'Unable to login user.' });
    server.clock.advance(GRACE * 2);
    expect((await ping(server, token)).status).toBe(200);
  });

  it('rotates over JSON too, in WWW-Authenticate', async () => {
    const token = await authenticate(server);
    const res = await fetch(`${server.url}/xweb/JSON/WebValidate?authenticationToken=${NIL_GUID}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const next = /^Bearer token = (\S+)$/.exec(res.headers.get('www-authenticate')!)![1]!;
    expect(next).toMatch(UUID_V4);
    expect(next).not.toBe(token);
    expect((await ping(server, next)).status).toBe(200);
  });

  it('answers a WebLogout of the integrator token itself, then refuses that token', async () => {
    const token = await authenticate(server);
    const seed = fixture('seed-WebLogout.request.xml')
      .replace('fde4d172-70c4-4fa4-91aa-a683b2435ea6', token)
      .replace('9e2eee63-07cc-4ac3-aff3-dfe34d995c42', token);
    const answer = await postSoap(server, seed, 'WebLogout');
    expect(answer.status).toBe(200);
    expect(headerToken(answer.envelope)).toBe(token);
    expectInvalidToken(await ping(server, token));
  });
});

describe('keyOverride', () => {
  it('answers the customer key instead of a token for the configured secret, opening no session', async () => {
    const server = await startXwebServer({ DUALGATE_XWEB_KEY_OVERRIDE: 'the-override-secret' });
    try {
      const token = await authenticate(server);
      const before = (await server.core.sessions.list({ username: CUSTOMER.username })).length;
      const answer = await webLogin(server, token, CUSTOMER.password, 'the-override-secret');
      expect(answer.status).toBe(200);
      expect(loginResult(answer)).toBe(await customerKeyOf(server, CUSTOMER.username));
      expect(headerToken(answer.envelope)).toBe(token);
      expect((await server.core.sessions.list({ username: CUSTOMER.username })).length).toBe(before);

      // Another value is no override: a customer token as usual.
      const other = loginResult(await webLogin(server, token, CUSTOMER.password, 'not-the-secret'));
      expect(other).toMatch(UUID_V4);
      expect(other).not.toBe(await customerKeyOf(server, CUSTOMER.username));
      // The override does not replace the password.
      expect(faultOf(await webLogin(server, token, 'wrong', 'the-override-secret'))).toMatchObject({ kind: 'System', message: 'Unable to login user.' });
    } finally {
      await server.stop();
    }
  });

  it('is off when no secret is configured: any keyOverride gets a customer token', async () => {
    const server = await startXwebServer();
    try {
      const token = await authenticate(server);
      for (const keyOverride of ['', 'anything']) {
        const result = loginResult(await webLogin(server, token, CUSTOMER.password, keyOverride));
        expect(result).toMatch(UUID_V4);
        expect(result).not.toBe(await customerKeyOf(server, CUSTOMER.username));
      }
    } finally {
      await server.stop();
    }
  });
});
