import { TokenExpired } from '../../src/core';
import { startTestServer, type TestServer } from '../support/server';
import {
  CHALLENGE,
  faultOf,
  filledEnvelope,
  fixture,
  jsonLogIn,
  JWT_FORMAT,
  postJson,
  postSoap,
  shapeOf,
  zatoClient,
  zatoFaultString,
} from './support';

const LOG_IN = 'zato.security.jwt.log-in';
const LOG_OUT = 'zato.security.jwt.log-out';

describe('Zato log-in and log-out over SOAP', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
    await server.addUser('alice', 'pw-alice&<"\'');
  });
  afterEach(() => server.stop());

  const tokenOf = (xml: string) => /<token>([^<]*)<\/token>/.exec(xml)?.[1] ?? '';
  const sessionsOf = (username: string) => server.core.sessions.list({ username, alive: true });

  it('logs in and out through node-soap\'s client built from the served WSDL', async () => {
    const zato = await zatoClient(server.url);
    const login = await zato.call(LOG_IN, { username: 'alice', password: 'pw-alice&<"\'' });
    expect(login.zato_env).toEqual({ cid: expect.stringMatching(/^K\d{39}$/), result: 'ZATO_OK' });
    const token = login.item.token as string;
    expect(token).toMatch(JWT_FORMAT);
    const live = await server.core.sessions.verify(token);
    expect(live.session).toMatchObject({ username: 'alice', door: 'zato' });

    const logout = await zato.call(LOG_OUT, { token });
    expect(logout).toEqual({ zato_env: { cid: expect.stringMatching(/^K\d{39}$/), result: 'ZATO_OK' } });
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
  });

  it('answers the seed\'s log-in envelope, posted as it is, with the seed\'s response element by element', async () => {
    const res = await postSoap(server.url, LOG_IN, filledEnvelope('log-in.request.xml', { username: 'alice', password: 'pw-alice&<"\'' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(shapeOf(res.text)).toEqual(shapeOf(fixture('log-in.response.xml'), true));
    expect(/<cid>([^<]*)<\/cid>/.exec(res.text)?.[1]).toBe(res.headers.get('x-zato-cid'));
    await expect(server.core.sessions.verify(tokenOf(res.text))).resolves.toBeDefined();
  });

  it('answers the seed\'s log-out envelope, posted as it is, with the seed\'s response element by element', async () => {
    const token = await jsonLogIn(server.url, 'alice', 'pw-alice&<"\'');
    const res = await postSoap(server.url, LOG_OUT, filledEnvelope('log-out.request.xml', { token }));
    expect(res.status).toBe(200);
    expect(shapeOf(res.text)).toEqual(shapeOf(fixture('log-out.response.xml'), true));
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
  });

  it('logs out over SOAP a token the JSON door issued, and over JSON one the SOAP door issued', async () => {
    const fromJson = await jsonLogIn(server.url, 'alice', 'pw-alice&<"\'');
    const zato = await zatoClient(server.url);
    await zato.call(LOG_OUT, { token: fromJson });
    await expect(server.core.sessions.verify(fromJson)).rejects.toBeInstanceOf(TokenExpired);

    const fromSoap = (await zato.call(LOG_IN, { username: 'alice', password: 'pw-alice&<"\'' })).item.token as string;
    const res = await postJson(server.url, '/zato/json/zato.security.jwt.log-out', { token: fromSoap });
    expect(res.status).toBe(200);
    await expect(server.core.sessions.verify(fromSoap)).rejects.toBeInstanceOf(TokenExpired);
    expect(await sessionsOf('alice')).toEqual([]);
  });

  it('renews the session of a live token given with the credentials: same session, new token, the old one dead', async () => {
    const zato = await zatoClient(server.url);
    const first = (await zato.call(LOG_IN, { username: 'alice', password: 'pw-alice&<"\'' })).item.token as string;
    const second = (await zato.call(LOG_IN, { username: 'alice', password: 'pw-alice&<"\'', token: first })).item.token as string;
    expect(second).not.toBe(first);
    expect((await server.core.sessions.verify(second)).session.id).toBe((await sessionsOf('alice'))[0]!.id);
    expect(await sessionsOf('alice')).toHaveLength(1);
    await expect(server.core.sessions.verify(first)).rejects.toBeInstanceOf(TokenExpired);
  });

  it('refuses to renew a logged-out token: log-in with it opens a new session and the old token stays dead', async () => {
    const zato = await zatoClient(server.url);
    const first = (await zato.call(LOG_IN, { username: 'alice', password: 'pw-alice&<"\'' })).item.token as string;
    const firstSession = (await server.core.sessions.verify(first)).session.id;
    await zato.call(LOG_OUT, { token: first });
    const next = (await zato.call(LOG_IN, { username: 'alice', password: 'pw-alice&<"\'', token: first })).item.token as string;
    expect((await server.core.sessions.verify(next)).session.id).not.toBe(firstSession);
    await expect(server.core.sessions.verify(first)).rejects.toBeInstanceOf(TokenExpired);
  });

  it('answers OK to the log-out of a token already dead, and "Invalid token" to one never issued', async () => {
    const zato = await zatoClient(server.url);
    const token = await jsonLogIn(server.url, 'alice', 'pw-alice&<"\'');
    await zato.call(LOG_OUT, { token });
    expect((await zato.call(LOG_OUT, { token })).zato_env.result).toBe('ZATO_OK');

    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    for (const never of [forged, 'not-a-token']) {
      const fault = await zato.fault(LOG_OUT, { token: never });
      expect(fault).toMatchObject({ status: 500, faultcode: 'soap:Client' });
      expect(fault.faultstring).toMatch(zatoFaultString('Invalid token'));
      expect(fault.faultstring).not.toContain(never);
    }
  });

  it('answers an unknown user, a wrong password and an inactive account with one fault, challenge included', async () => {
    await server.addUser('idle', 'pw-idle', 'user', { isActive: false });
    const zato = await zatoClient(server.url);
    for (const [username, password] of [['nobody', 'pw'], ['alice', 'wrong'], ['idle', 'pw-idle']] as const) {
      const fault = await zato.fault(LOG_IN, { username, password });
      expect(fault).toMatchObject({ status: 500, faultcode: 'soap:Client' });
      expect(fault.faultstring).toMatch(zatoFaultString('Invalid username or password'));
      expect(fault.headers['www-authenticate']).toBe(CHALLENGE);
      expect(fault.headers['content-type']).toBe('text/xml; charset=utf-8');
    }
  });

  it('answers "Invalid username or password" after five failures, even to the right password', async () => {
    const zato = await zatoClient(server.url);
    for (let i = 0; i < 5; i++) await zato.fault(LOG_IN, { username: 'alice', password: 'wrong' });
    const fault = await zato.fault(LOG_IN, { username: 'alice', password: 'pw-alice&<"\'' });
    expect(fault.faultstring).toMatch(zatoFaultString('Invalid username or password'));
    expect(fault.faultcode).toBe('soap:Client');
    server.clock.advance(15 * 60_000);
    expect((await zato.call(LOG_IN, { username: 'alice', password: 'pw-alice&<"\'' })).item.token).toMatch(JWT_FORMAT);
  });

  it('puts the cid of the X-Zato-CID header into the fault, and never the password', async () => {
    const res = await postSoap(server.url, LOG_IN, filledEnvelope('log-in.request.xml', { username: 'alice', password: 'secret-guess' }));
    expect(res.status).toBe(500);
    const { faultstring } = faultOf(res.text);
    expect(faultstring).toBe(`cid [${res.headers.get('x-zato-cid')}], faultstring [Invalid username or password]`);
    expect(res.text).not.toContain('secret-guess');
  });
});
