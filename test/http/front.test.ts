import { startTestServer, type TestServer } from '../support/server';

// The hot paths are answered ahead of Express (src/http/front.ts). To a client they must look exactly as
// Express routes did: matched in any case and with a trailing slash, the same headers, and every other
// method or path still Express's.

describe('direct routes', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
    await server.addUser('alice', 'pw-alice-1');
  });
  afterAll(() => server.stop());

  const jwtOf = async () =>
    (await server.core.sessions.login('alice', 'pw-alice-1', { kind: 'jwt' }, { cid: null, door: 'zato' })).token;

  it.each(['/zato/jwt/log-out', '/ZATO/JWT/Log-Out', '/zato/jwt/log-out/', '/zato/jwt/log-out?x=1'])(
    'answers POST %s as the log-out, with the cid, hygiene and cache headers',
    async (path) => {
      const token = await jwtOf();
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('{}');
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('x-zato-cid')).toMatch(/^K\d{39}$/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      await expect(server.core.sessions.verify(token)).rejects.toMatchObject({ code: 'TokenExpired' });
    },
  );

  it('leaves other methods on a direct path to Express', async () => {
    const res = await fetch(`${server.url}/zato/jwt/log-out`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'Not found', cid: res.headers.get('x-zato-cid') });
    const wsdl = await fetch(`${server.url}/zato/soap?wsdl`);
    expect(wsdl.status).toBe(200);
    expect(await wsdl.text()).toContain(`location="${server.url}/zato/soap"`);
  });

  it('does not match a longer path or a percent-encoded one', async () => {
    for (const path of ['/zato/jwt/log-out/more', '/zato/jwt/log%2Dout']) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST' });
      expect(res.status).toBe(404);
    }
  });
});
