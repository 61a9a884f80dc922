import { CID_FORMAT } from '../../src/http/cid';
import type { TestServer } from '../support/server';
import { at, CUSTOMER, customerKeyOf, fixture, INTEGRATOR, NIL_GUID, postSoap, request, startXwebServer, UUID_V4 } from './xweb-support';

interface JsonAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const bearer = (token: string) => `Bearer ${token}`;

/** The token a success carries in `WWW-Authenticate: Bearer token = <token>`. */
function tokenOf(answer: JsonAnswer): string {
  const match = /^Bearer token = (\S+)$/.exec(answer.headers.get('www-authenticate') ?? '');
  if (!match) throw new Error(`no token in WWW-Authenticate: ${answer.headers.get('www-authenticate')}`);
  return match[1]!;
}

describe('JSON over xWeb', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startXwebServer();
  });
  afterAll(() => server.stop());

  async function call(method: string, path: string, options: { body?: unknown; raw?: string; authorization?: string } = {}): Promise<JsonAnswer> {
    const headers: Record<string, string> = {};
    if (options.authorization) headers.Authorization = options.authorization;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const res = await fetch(`${server.url}/xweb/JSON/${path}`, { method, headers, body });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  const authenticate = async (): Promise<string> => {
    const answer = await call('POST', 'Authenticate', { body: { Authenticate: { userName: INTEGRATOR.username, password: INTEGRATOR.password } } });
    expect(answer.status).toBe(200);
    return tokenOf(answer);
  };

  const webLogin = async (integratorToken: string): Promise<string> => {
    const answer = await call('POST', 'WebLogin', {
      body: { WebLogin: { userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password } },
      authorization: bearer(integratorToken),
    });
    expect(answer.status).toBe(200);
    return answer.body.WebLoginResult as string;
  };

  function expectError(answer: JsonAnswer, status: number, kind: string, message: string): void {
    expect({ status: answer.status, body: answer.body }).toEqual({ status, body: { Message: message, ExceptionType: `${kind}Exception` } });
    expect(answer.headers.get('www-authenticate') ?? '').not.toMatch(/token =/);
  }

  it('authenticates by POST, answering the token in the body and in WWW-Authenticate, with the cid', async () => {
    const answer = await call('POST', 'Authenticate', { body: { Authenticate: { userName: INTEGRATOR.username, password: INTEGRATOR.password } } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.body).toEqual({ Token: expect.stringMatching(UUID_V4), AuthenticateResult: 'http://www.avectra.com/2005/' });
    expect(tokenOf(answer)).toBe(answer.body.Token);
    expect(answer.headers.get('x-zato-cid')).toMatch(CID_FORMAT);
  });

  it('logs a customer in, validates by GET and POST, logs out with the seed body, and validates the nil GUID', async () => {
    const integratorToken = await authenticate();
    const customerToken = await webLogin(integratorToken);
    expect(customerToken).toMatch(UUID_V4);
    const key = await customerKeyOf(server, CUSTOMER.username);

    const byGet = await call('GET', `WebValidate?authenticationToken=${customerToken}`, { authorization: bearer(integratorToken) });
    expect(byGet).toMatchObject({ status: 200, body: { WebValidateResult: key } });
    expect(tokenOf(byGet)).toBe(integratorToken);
    const byPost = await call('POST', 'WebValidate', { body: { WebValidate: { authenticationToken: customerToken } }, authorization: bearer(integratorToken) });
    expect(byPost).toMatchObject({ status: 200, body: { WebValidateResult: key } });

    const seedBody = fixture('seed-WebLogout.json').replace('0a06e984-4280-4ec0-982a-a9326725fec8', customerToken);
    expect(seedBody).toContain(customerToken);
    const out = await call('POST', 'WebLogout', { raw: seedBody, authorization: bearer(integratorToken) });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({});
    expect(tokenOf(out)).toBe(integratorToken);

    const dead = await call('GET', `WebValidate?authenticationToken=${customerToken}`, { authorization: bearer(integratorToken) });
    expect(dead).toMatchObject({ status: 200, body: { WebValidateResult: NIL_GUID } });
  });

  it("logs out by GET as the seed shows, idempotently, and the session is dead at the SOAP door too", async () => {
    const integratorToken = await authenticate();
    const customerToken = await webLogin(integratorToken);
    for (let i = 0; i < 2; i++) {
      const out = await call('GET', `WebLogout?authenticationToken=${customerToken}`, { authorization: bearer(integratorToken) });
      expect({ status: out.status, body: out.body }).toEqual({ status: 200, body: {} });
    }
    const soap = await postSoap(server, request('WebValidate', { integratorToken, authenticationToken: customerToken }), 'WebValidate');
    expect(at(soap.envelope, 'Body', 'WebValidateResponse', 'WebValidateResult').text).toBe(NIL_GUID);
  });

  it('takes the method name in any case', async () => {
    const integratorToken = await authenticate();
    const answer = await call('GET', `webvalidate?authenticationToken=${NIL_GUID}`, { authorization: bearer(integratorToken) });
    expect(answer).toMatchObject({ status: 200, body: { WebValidateResult: NIL_GUID } });
  });

  it('authenticates the caller with Basic for the one call, answering a fresh integrator token', async () => {
    const answer = await call('POST', 'WebLogin', {
      body: { WebLogin: { userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password } },
      authorization: basic(INTEGRATOR.username, INTEGRATOR.password),
    });
    expect(answer.status).toBe(200);
    const integratorToken = tokenOf(answer);
    expect(integratorToken).toMatch(UUID_V4);
    const valid = await call('GET', `WebValidate?authenticationToken=${answer.body.WebLoginResult as string}`, { authorization: bearer(integratorToken) });
    expect(valid.body).toEqual({ WebValidateResult: await customerKeyOf(server, CUSTOMER.username) });
  });

  it('refuses Basic with a wrong password, a user account, or no password with InvalidCredentials 401', async () => {
    for (const authorization of [
      basic(INTEGRATOR.username, 'wrong'),
      basic(CUSTOMER.username, CUSTOMER.password),
      `Basic ${Buffer.from(INTEGRATOR.username).toString('base64')}`,
    ]) {
      const answer = await call('GET', `WebValidate?authenticationToken=${NIL_GUID}`, { authorization });
      expectError(answer, 401, 'InvalidCredentials', 'Invalid Credentials Supplied');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="xWeb"');
    }
    expect((await call('GET', `WebValidate?authenticationToken=${NIL_GUID}`, { authorization: bearer(await authenticate()) })).status).toBe(200);
  });

  it('refuses no credentials, a dead token and a customer token as the integrator token with InvalidToken 401', async () => {
    const integratorToken = await authenticate();
    const customerToken = await webLogin(integratorToken);
    const dead = await authenticate();
    await server.core.sessions.logout(dead, { cid: null, door: 'test' });
    for (const authorization of [undefined, 'Negotiate abc', 'Bearer', bearer(dead), bearer(customerToken), bearer('garbage')]) {
      const answer = await call('GET', `WebValidate?authenticationToken=${customerToken}`, { authorization });
      expectError(answer, 401, 'InvalidToken', 'Invalid Token Value');
    }
    // The refused use left the customer's session alone.
    const valid = await call('GET', `WebValidate?authenticationToken=${customerToken}`, { authorization: bearer(integratorToken) });
    expect(valid.body).toEqual({ WebValidateResult: await customerKeyOf(server, CUSTOMER.username) });
  });

  it('answers a wrong password at Authenticate with 401, and a locked integrator with the same 401', async () => {
    await server.addUser('locky', 'locky-pw', 'integrator');
    const wrong = { body: { Authenticate: { userName: 'locky', password: 'wrong' } } };
    expectError(await call('POST', 'Authenticate', wrong), 401, 'InvalidCredentials', 'Invalid Credentials Supplied');
    for (let i = 1; i < server.config.lockoutThreshold; i++) await call('POST', 'Authenticate', wrong);
    const locked = await call('POST', 'Authenticate', { body: { Authenticate: { userName: 'locky', password: 'locky-pw' } } });
    expectError(locked, 401, 'InvalidCredentials', 'Invalid Credentials Supplied');
    expectError(await call('GET', `WebValidate?authenticationToken=${NIL_GUID}`, { authorization: basic('locky', 'locky-pw') }), 401, 'InvalidCredentials', 'Invalid Credentials Supplied');
  });

  it('answers a wrong customer password at WebLogin with 400 "Unable to login user."', async () => {
    const integratorToken = await authenticate();
    const answer = await call('POST', 'WebLogin', {
      body: { WebLogin: { userLoginPlain: CUSTOMER.username, passwordPlain: 'wrong' } },
      authorization: bearer(integratorToken),
    });
    expectError(answer, 400, 'System', 'Unable to login user.');
  });

  it('refuses GET for the operations that take a password with 405, and other methods everywhere', async () => {
    const authenticate405 = await call('GET', `Authenticate?userName=${INTEGRATOR.username}&password=${INTEGRATOR.password}`);
    expectError(authenticate405, 405, 'System', 'Authenticate accepts POST only');
    expect(authenticate405.headers.get('allow')).toBe('POST');
    const login405 = await call('GET', `WebLogin?userLoginPlain=ann&passwordPlain=x`, { authorization: basic(INTEGRATOR.username, INTEGRATOR.password) });
    expectError(login405, 405, 'System', 'WebLogin accepts POST only');
    const put = await call('PUT', 'WebLogout', { body: { WebLogout: { authenticationToken: NIL_GUID } } });
    expectError(put, 405, 'System', 'WebLogout accepts GET and POST');
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect((await call('POST', 'Authenticate', { body: { Authenticate: { userName: INTEGRATOR.username, password: INTEGRATOR.password } } })).status).toBe(200);
  });

  it('names what is wrong with a request body or query: malformed, unwrapped, missing, mistyped, repeated, too large', async () => {
    const auth = { authorization: bearer(await authenticate()) };
    expectError(await call('POST', 'WebValidate', { ...auth, raw: '{"WebValidate": ' }), 400, 'System', 'The request body is not valid JSON');
    expectError(await call('POST', 'WebValidate', { ...auth, raw: '' }), 400, 'System', 'Empty request body');
    expectError(
      await call('POST', 'WebValidate', { ...auth, body: { authenticationToken: NIL_GUID } }),
      400,
      'System',
      'The request body must be {"WebValidate": {...}}',
    );
    expectError(await call('POST', 'WebValidate', { ...auth, body: { WebValidate: {} } }), 400, 'System', 'authenticationToken is required');
    expectError(await call('GET', 'WebValidate', auth), 400, 'System', 'authenticationToken is required');
    expectError(
      await call('POST', 'WebValidate', { ...auth, body: { WebValidate: { authenticationToken: 42 } } }),
      400,
      'System',
      'Invalid authenticationToken: the field must be given once, as a string',
    );
    expectError(
      await call('GET', `WebValidate?authenticationToken=${NIL_GUID}&authenticationToken=${NIL_GUID}`, auth),
      400,
      'System',
      'Invalid authenticationToken: the query parameter must be given once, as a string',
    );
    expectError(
      await call('POST', 'WebLogin', { ...auth, body: { WebLogin: { userLoginPlain: 'u'.repeat(129), passwordPlain: 'x' } } }),
      400,
      'System',
      'Invalid userLoginPlain: longer than 128 characters',
    );
    const big = await call('POST', 'WebValidate', { ...auth, body: { WebValidate: { authenticationToken: 'x'.repeat(server.config.jsonLimit) } } });
    expectError(big, 413, 'System', `Request body larger than ${server.config.jsonLimit} bytes`);
    expectError(await call('POST', 'GetQuery', { ...auth, body: { GetQuery: {} } }), 404, 'System', 'Unknown method: GetQuery');
  });

  it('never echoes a password or a token in an error', async () => {
    const integratorToken = await authenticate();
    const answers = [
      await call('POST', 'Authenticate', { body: { Authenticate: { userName: INTEGRATOR.username, password: 'pw-that-is-wrong' } } }),
      await call('POST', 'WebLogin', { body: { WebLogin: { userLoginPlain: CUSTOMER.username, passwordPlain: 'pw-that-is-wrong' } }, authorization: bearer(integratorToken) }),
      await call('GET', `WebValidate?authenticationToken=${NIL_GUID}`, { authorization: bearer(`${integratorToken}x`) }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(answer.body)).not.toMatch(/pw-that-is-wrong|[0-9a-f]{8}-[0-9a-f]{4}-/);
    }
  });
});
