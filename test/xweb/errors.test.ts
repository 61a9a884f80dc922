import { holdWriteLock } from '../support/store';
import { BadInput, InvalidCredentials, StoreUnavailable, Throttled } from '../../src/core';
import { describeError } from '../../src/doors/xweb/errors';
import { findOperation } from '../../src/doors/xweb/operations';
import { RequestError } from '../../src/http/request-errors';
import type { TestServer } from '../support/server';
import { authenticate, CUSTOMER, faultOf, postSoap, request, startXwebServer } from './xweb-support';

describe('the xWeb error table', () => {
  const CID = 'K000000000000000000000000000000000000042';

  it('tells the same core error differently by operation: wrong credentials at Authenticate and at WebLogin', () => {
    expect(describeError(new InvalidCredentials(), findOperation('Authenticate'), CID)).toEqual({
      kind: 'InvalidCredentials',
      message: 'Invalid Credentials Supplied',
      status: 401,
      faultcode: 'Client',
      headers: {},
    });
    expect(describeError(new InvalidCredentials(), findOperation('WebLogin'), CID)).toEqual({
      kind: 'System',
      message: 'Unable to login user.',
      status: 400,
      faultcode: 'Client',
      headers: {},
    });
  });

  it('names a field the core checked by the wire name of the operation', () => {
    const err = new BadInput('username', 'missing', 'username is required');
    expect(describeError(err, findOperation('WebLogin'), CID).message).toBe('userLoginPlain is required');
    expect(describeError(err, findOperation('Authenticate'), CID).message).toBe('userName is required');
  });

  it('turns anything unexpected into a System Server fault with the cid and nothing of the error itself', () => {
    const err = new Error('SELECT secret FROM somewhere failed at /srv/app.js:12');
    expect(describeError(err, findOperation('WebValidate'), CID)).toEqual({
      kind: 'System',
      message: `Internal error (cid ${CID})`,
      status: 500,
      faultcode: 'Server',
      headers: {},
    });
    expect(describeError(new RequestError('MethodNotAllowed', 'x'), undefined, CID).status).toBe(405);
    expect(describeError(new StoreUnavailable('database is locked'), undefined, CID)).toMatchObject({ status: 503, faultcode: 'Server' });
  });

  it('brings Retry-After with the throttle, at both wires', () => {
    expect(describeError(new Throttled(45), findOperation('Authenticate'), CID)).toMatchObject({
      status: 429,
      headers: { 'Retry-After': '45' },
    });
  });
});

describe('xWeb when the database cannot answer', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startXwebServer({ DUALGATE_BUSY_TIMEOUT_MS: '0' });
  });
  afterAll(() => server.stop());

  it('answers a Server fault and a JSON 503 while another process holds the write lock, and recovers after', async () => {
    const integratorToken = await authenticate(server);
    const other = await holdWriteLock(server.dbPath);
    try {
      const soap = await postSoap(
        server,
        request('WebLogin', { integratorToken, userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password }),
        'WebLogin',
      );
      expect(soap.status).toBe(500);
      expect(faultOf(soap)).toMatchObject({ faultcode: 'soap:Server', kind: 'System', message: 'The service is temporarily unavailable' });

      const json = await fetch(`${server.url}/xweb/JSON/Authenticate`, {
        method: 'POST',
        body: JSON.stringify({ Authenticate: { userName: 'integ', password: 'integ-pw-1' } }),
      });
      expect(json.status).toBe(503);
      expect(await json.json()).toEqual({ Message: 'The service is temporarily unavailable', ExceptionType: 'SystemException' });
    } finally {
      await other.release();
    }
    const again = await postSoap(
      server,
      request('WebLogin', { integratorToken, userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password }),
      'WebLogin',
    );
    expect(again.status).toBe(200);
  });
});

describe('xWeb under the log-in throttle', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startXwebServer({ DUALGATE_LOGIN_RATE: '2' });
  });
  afterAll(() => server.stop());

  it('answers log-ins past the rate of failures with a System fault, and with 429 and Retry-After over JSON; a live integrator token is not throttled', async () => {
    const integratorToken = await authenticate(server);
    for (let i = 0; i < 2; i++) {
      const wrong = await postSoap(server, request('Authenticate', { userName: 'integ', password: 'wrong' }), 'Authenticate');
      expect(faultOf(wrong)).toMatchObject({ kind: 'InvalidCredentials' });
    }
    const soap = await postSoap(server, request('Authenticate', { userName: 'integ', password: 'integ-pw-1' }), 'Authenticate');
    expect(soap.status).toBe(500);
    expect(faultOf(soap)).toMatchObject({ faultcode: 'soap:Client', kind: 'System', message: 'Too many attempts' });
    const json = await fetch(`${server.url}/xweb/JSON/Authenticate`, {
      method: 'POST',
      body: JSON.stringify({ Authenticate: { userName: 'integ', password: 'integ-pw-1' } }),
    });
    expect(json.status).toBe(429);
    expect(Number(json.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await json.json()).toEqual({ Message: 'Too many attempts', ExceptionType: 'SystemException' });
    // The integrator's end users, logged in with its live token, are not held back by its address.
    const webLogin = await fetch(`${server.url}/xweb/JSON/WebLogin`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${integratorToken}` },
      body: JSON.stringify({ WebLogin: { userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password } }),
    });
    expect(webLogin.status).toBe(200);
    server.clock.advance(60_000);
    expect(await authenticate(server)).toBeDefined();
  });
});
