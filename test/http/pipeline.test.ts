import { startTestServer, type TestServer } from '../support/server';

// Every route goes through one pipeline and one table (src/http/pipeline.ts, src/http/routes.ts). To a client a
// route must look exactly as the Express routes it replaced did: matched in any case and with a trailing
// slash, the same headers, a method the route does not take and a path no route has a 404.

describe('the one pipeline', () => {
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

  it('answers a method the route does not take as a path no route has, and GET ?wsdl on a SOAP endpoint', async () => {
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

  it("answers a path parameter that cannot be decoded as its door's bad request, and keeps answering", async () => {
    const res = await fetch(`${server.url}/zato/json/zato.security%ZZ`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      zato_env: { result: 'ZATO_ERROR', cid: res.headers.get('x-zato-cid'), details: 'The request path cannot be decoded' },
    });
    // Decoded, a parameter is the service's name, spelled as sent.
    const known = await fetch(`${server.url}/zato/json/zato.security.jwt.log%2Dout`, { method: 'POST', body: '{}' });
    expect(known.status).toBe(400);
    expect(((await known.json()) as { zato_env: unknown }).zato_env).toMatchObject({ result: 'ZATO_ERROR', details: 'Missing element: token' });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("puts a door's headers on every answer under its paths, a 404 included", async () => {
    for (const [method, path] of [
      ['GET', '/zato/jwt/log-out'],
      ['PUT', '/xweb/secure/netForumXML.asmx'],
      ['GET', '/zato/nowhere/at/all'],
    ]) {
      const res = await fetch(`${server.url}${path}`, { method });
      expect(`${method} ${path}: ${res.status} ${res.headers.get('cache-control')}`).toBe(`${method} ${path}: 404 no-store`);
    }
    const consoleMiss = await fetch(`${server.url}/console/a/b`);
    expect(consoleMiss.status).toBe(404);
    expect(consoleMiss.headers.get('x-frame-options')).toBe('DENY');
    expect(consoleMiss.headers.get('referrer-policy')).toBe('no-referrer');
    // Outside every door: the plain 404 without them.
    const nowhere = await fetch(`${server.url}/nowhere`);
    expect(nowhere.status).toBe(404);
    expect(nowhere.headers.get('cache-control')).toBeNull();
  });

  it("answers HEAD on a GET route with the GET's headers and no body", async () => {
    const res = await fetch(`${server.url}/zato/soap?wsdl`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
  });
});
