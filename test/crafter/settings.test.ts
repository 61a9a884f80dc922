import { startTestServer, type TestServer } from '../support/server';
import { addAlice, ALICE, expectAnswer, setCookie, StudioBrowser } from './studio-browser';

describe('Crafter Studio door: the prefix setting', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({ DUALGATE_CRAFTER_PREFIX: '/cms' });
    await addAlice(server);
  });
  afterEach(() => server.stop());

  it('moves every route and the cookie paths under DUALGATE_CRAFTER_PREFIX', async () => {
    const browser = new StudioBrowser(server.url, '/cms');
    const first = await browser.validate();
    expect(setCookie(first, 'XSRF-TOKEN')).toMatch(/; Path=\/cms$/);
    const login = await browser.login();
    expectAnswer(login, 200, 'login-ok');
    expect(setCookie(login, 'JSESSIONID')).toMatch(/; Path=\/cms; HttpOnly; SameSite=Lax$/);
    expectAnswer(await browser.validate(), 200, 'session-active');
    const logout = await browser.logout();
    expectAnswer(logout, 200, 'logout-ok');
    expect(logout.setCookies.every((line) => line.includes('; Max-Age=0; Path=/cms'))).toBe(true);
    expectAnswer(await browser.validate(), 200, 'session-inactive');
  });

  it('no longer answers under /studio', async () => {
    const res = await new StudioBrowser(server.url, '/studio').validate();
    expect(res.status).toBe(404);
    expect(res.setCookies).toEqual([]);
  });
});

describe('Crafter Studio door: cookies over HTTPS', () => {
  let server: TestServer;
  afterEach(() => server.stop());

  const viaHttps = { 'x-forwarded-proto': 'https' };
  const pair = { cookie: 'XSRF-TOKEN=chosen', 'x-xsrf-token': 'chosen', 'content-type': 'application/json' };
  const credentials = JSON.stringify({ username: ALICE.username, password: ALICE.password });
  const security = () => `${server.url}/studio/api/1/services/api/1/security`;

  it('marks every cookie Secure when a trusted proxy says the request came over HTTPS', async () => {
    server = await startTestServer({ DUALGATE_TRUST_PROXY: 'loopback' });
    await addAlice(server);
    const first = await fetch(`${security()}/validate-session.json`, { headers: viaHttps });
    expect(first.headers.getSetCookie()).toEqual([expect.stringMatching(/^XSRF-TOKEN=[0-9a-f-]{36}; Path=\/studio; Secure$/)]);

    const login = await fetch(`${security()}/login.json`, { method: 'POST', headers: { ...viaHttps, ...pair }, body: credentials });
    expect(login.status).toBe(200);
    const [session] = login.headers.getSetCookie();
    expect(session).toMatch(/^JSESSIONID=[A-Za-z0-9_-]{43}; Path=\/studio; HttpOnly; Secure; SameSite=Lax$/);

    const logout = await fetch(`${security()}/logout.json`, { method: 'POST', headers: { ...viaHttps, cookie: session!.split(';')[0]! } });
    expect(logout.headers.getSetCookie()).toEqual([
      'JSESSIONID=; Max-Age=0; Path=/studio; HttpOnly; Secure; SameSite=Lax',
      'XSRF-TOKEN=; Max-Age=0; Path=/studio; Secure',
    ]);
  });

  it('ignores X-Forwarded-Proto when no proxy is trusted', async () => {
    server = await startTestServer();
    await addAlice(server);
    const login = await fetch(`${security()}/login.json`, { method: 'POST', headers: { ...viaHttps, ...pair }, body: credentials });
    expect(login.status).toBe(200);
    expect(login.headers.getSetCookie()).toEqual([expect.stringMatching(/^JSESSIONID=[A-Za-z0-9_-]{43}; Path=\/studio; HttpOnly; SameSite=Lax$/)]);
  });
});
