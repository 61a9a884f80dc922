import { TokenExpired } from '../../src/core';
import { startTestServer, type TestServer } from '../support/server';
import { CHALLENGE, filledJson, fixture, jsonLogIn, jsonShapeOf, JWT_FORMAT, postJson, zatoClient } from './support';

const LOG_IN = '/zato/json/zato.security.jwt.log-in';
const LOG_OUT = '/zato/json/zato.security.jwt.log-out';

describe('Zato log-in and log-out over JSON', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
    await server.addUser('alice', 'pw-alice');
  });
  afterEach(() => server.stop());

  const errorBody = (details: string) => ({ zato_env: { result: 'ZATO_ERROR', cid: expect.stringMatching(/^K\d{39}$/), details } });

  it('answers the seed\'s log-in body with the seed\'s response, keys in the seed\'s order', async () => {
    const res = await postJson(server.url, LOG_IN, filledJson('log-in.request.json', { username: 'alice', password: 'pw-alice' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(jsonShapeOf(res.body)).toEqual(jsonShapeOf(JSON.parse(fixture('log-in.response.json')), true));
    expect(res.body.zato_env.cid).toBe(res.headers.get('x-zato-cid'));
    expect(res.headers.get('cache-control')).toBe('no-store');
    await expect(server.core.sessions.verify(res.body.zato_security_jwt_log_in_response.token)).resolves.toBeDefined();
  });

  it('answers the seed\'s log-out body with the seed\'s response, and the session is dead at every door', async () => {
    const token = await jsonLogIn(server.url, 'alice', 'pw-alice');
    const res = await postJson(server.url, LOG_OUT, filledJson('log-out.request.json', { token }));
    expect(res.status).toBe(200);
    expect(jsonShapeOf(res.body)).toEqual(jsonShapeOf(JSON.parse(fixture('log-out.response.json')), true));
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    const zato = await zatoClient(server.url);
    const renewed = (await zato.call('zato.security.jwt.log-in', { username: 'alice', password: 'pw-alice', token })).item.token;
    expect(renewed).not.toBe(token);
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
  });

  it('renews the session of a live token given with the credentials', async () => {
    const first = await jsonLogIn(server.url, 'alice', 'pw-alice');
    const res = await postJson(server.url, LOG_IN, { username: 'alice', password: 'pw-alice', token: first });
    const second = res.body.zato_security_jwt_log_in_response.token as string;
    expect((await server.core.sessions.verify(second)).session.id).toBeDefined();
    expect(await server.core.sessions.list({ username: 'alice', alive: true })).toHaveLength(1);
    await expect(server.core.sessions.verify(first)).rejects.toBeInstanceOf(TokenExpired);
  });

  it('ends a session any door opened: a token of another kind logs out here too', async () => {
    const { token } = await server.core.sessions.login('alice', 'pw-alice', { kind: 'guid' }, { cid: null, door: 'xweb' });
    const res = await postJson(server.url, LOG_OUT, { token });
    expect(res.status).toBe(200);
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
  });

  it('answers 401 with a challenge and one message to unknown, wrong, inactive and locked', async () => {
    await server.addUser('idle', 'pw-idle', 'user', { isActive: false });
    for (const [username, password] of [['nobody', 'pw'], ['alice', 'wrong'], ['idle', 'pw-idle']] as const) {
      const res = await postJson(server.url, LOG_IN, { username, password });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
      expect(res.body).toEqual(errorBody('Invalid username or password'));
    }
    for (let i = 0; i < 4; i++) await postJson(server.url, LOG_IN, { username: 'alice', password: 'wrong' });
    const locked = await postJson(server.url, LOG_IN, { username: 'alice', password: 'pw-alice' });
    expect(locked.status).toBe(401);
    expect(locked.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(locked.body).toEqual(errorBody('Invalid username or password'));
  });

  it('answers OK to the log-out of a dead token and 400 "Invalid token" to one never issued', async () => {
    const token = await jsonLogIn(server.url, 'alice', 'pw-alice');
    expect((await postJson(server.url, LOG_OUT, { token })).status).toBe(200);
    const again = await postJson(server.url, LOG_OUT, { token });
    expect(again.status).toBe(200);
    expect(again.body.zato_security_jwt_log_out_response).toEqual({ result: '' });
    const never = await postJson(server.url, LOG_OUT, { token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' });
    expect(never.status).toBe(400);
    expect(never.body).toEqual(errorBody('Invalid token'));
  });

  describe('the Zato 3 style aliases', () => {
    it('/zato/jwt/log-in answers {"token"} and the token in the Authorization header', async () => {
      const res = await postJson(server.url, '/zato/jwt/log-in', { username: 'alice', password: 'pw-alice' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ token: expect.stringMatching(JWT_FORMAT) });
      expect(res.headers.get('authorization')).toBe(res.body.token);
      await expect(server.core.sessions.verify(res.body.token)).resolves.toBeDefined();
    });

    it('/zato/jwt/log-in answers bad credentials like the other JSON routes', async () => {
      const res = await postJson(server.url, '/zato/jwt/log-in', { username: 'alice', password: 'wrong' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
      expect(res.headers.get('authorization')).toBeNull();
      expect(res.body).toEqual(errorBody('Invalid username or password'));
    });

    it('/zato/jwt/log-out ends the session of the Bearer token (or of the bare token log-in handed out) with {}', async () => {
      for (const scheme of ['Bearer ', 'bearer ', '']) {
        const token = await jsonLogIn(server.url, 'alice', 'pw-alice');
        const res = await postJson(server.url, '/zato/jwt/log-out', '', { Authorization: `${scheme}${token}` });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({});
        await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
      }
    });

    it('/zato/jwt/log-out without a token answers 400 {"result":"No JWT found"}', async () => {
      const token = await jsonLogIn(server.url, 'alice', 'pw-alice');
      for (const headers of [{}, { Authorization: '' }, { Authorization: 'Bearer ' }] as Record<string, string>[]) {
        const res = await postJson(server.url, '/zato/jwt/log-out', { token }, headers);
        expect(res.status).toBe(400);
        expect(res.text).toBe('{"result":"No JWT found"}');
      }
      await expect(server.core.sessions.verify(token)).resolves.toBeDefined();
    });

    it('/zato/jwt/log-out of a token never issued answers 400 "Invalid token"', async () => {
      const res = await postJson(server.url, '/zato/jwt/log-out', '', { Authorization: 'Bearer garbage' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('Invalid token'));
    });
  });
});
