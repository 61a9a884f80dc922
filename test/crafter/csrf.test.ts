import { expectAnswer, setCookie, StudioBrowser, studioForEachTest } from './studio-browser';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Crafter Studio door: CSRF double submit', () => {
  const studio = studioForEachTest();

  const aliveSessions = () => studio.server.core.sessions.list({ alive: true });

  it('hands a browser without one an XSRF-TOKEN cookie that page scripts can read, on the prefix path', async () => {
    const res = await studio.browser.validate();
    const value = await studio.browser.cookie('XSRF-TOKEN');
    expect(value).toMatch(UUID);
    expect(setCookie(res, 'XSRF-TOKEN')).toBe(`XSRF-TOKEN=${value}; Path=/studio`);
  });

  it('does not hand out another while the browser has one', async () => {
    await studio.browser.validate();
    const first = await studio.browser.cookie('XSRF-TOKEN');
    const again = await studio.browser.validate();
    expect(setCookie(again, 'XSRF-TOKEN')).toBeUndefined();
    expect(await studio.browser.cookie('XSRF-TOKEN')).toBe(first);
  });

  it('refuses a login with neither cookie nor header with 403 Forbidden, and hands out the cookie for the next try', async () => {
    const refused = await studio.browser.call('POST', 'login.json', { body: { username: 'alice', password: 'wonderland-1' } });
    expectAnswer(refused, 403, 'forbidden');
    expect(setCookie(refused, 'JSESSIONID')).toBeUndefined();
    expect(await aliveSessions()).toHaveLength(0);
    expect(setCookie(refused, 'XSRF-TOKEN')).toBeDefined();
    expectAnswer(await studio.browser.login(), 200, 'login-ok');
  });

  it('refuses a login with the cookie but without the header', async () => {
    await studio.browser.ensureXsrf();
    expectAnswer(await studio.browser.login('alice', 'wonderland-1', { xsrfHeader: null }), 403, 'forbidden');
    expect(await aliveSessions()).toHaveLength(0);
  });

  it('refuses a login with the header but without the cookie', async () => {
    const res = await studio.browser.call('POST', 'login.json', {
      body: { username: 'alice', password: 'wonderland-1' },
      xsrfHeader: '0b5e7a0c-3b6f-4c1e-9d3a-2f1e6c9b8a70',
    });
    expectAnswer(res, 403, 'forbidden');
    expect(await aliveSessions()).toHaveLength(0);
  });

  it.each([
    ['one character off', (v: string) => `${v.slice(0, -1)}${v.endsWith('0') ? '1' : '0'}`],
    ['a prefix of it', (v: string) => v.slice(0, 8)],
    ['it and a character more', (v: string) => `${v}0`],
  ])('refuses a login whose header differs from the cookie: %s', async (_what, alter) => {
    await studio.browser.ensureXsrf();
    const cookie = (await studio.browser.cookie('XSRF-TOKEN'))!;
    expectAnswer(await studio.browser.login('alice', 'wonderland-1', { xsrfHeader: alter(cookie) }), 403, 'forbidden');
    expect(await aliveSessions()).toHaveLength(0);
  });

  it('checks the pair before reading the body', async () => {
    expectAnswer(await studio.browser.call('POST', 'login.json', { body: '{not json' }), 403, 'forbidden');
  });

  it('takes a pair the caller picked itself, as Studio does', async () => {
    await studio.browser.jar.setCookie('XSRF-TOKEN=picked-by-the-client; Path=/studio', studio.browser.url('login.json'));
    expectAnswer(await studio.browser.login('alice', 'wonderland-1', { xsrfHeader: 'picked-by-the-client' }), 200, 'login-ok');
  });

  it('lets logout through without the pair, and the logout takes effect', async () => {
    await studio.browser.login();
    const session = (await studio.browser.cookie('JSESSIONID'))!;
    // A client that kept only the session cookie, and sends no X-XSRF-TOKEN.
    const bare = new StudioBrowser(studio.server.url);
    await bare.jar.setCookie(`JSESSIONID=${session}; Path=/studio`, bare.url('logout.json'));
    expectAnswer(await bare.logout(), 200, 'logout-ok');
    await expect(studio.server.core.sessions.verify(session)).rejects.toMatchObject({ code: 'TokenExpired' });
  });
});
