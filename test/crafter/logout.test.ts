import { startTestServer, type TestServer } from '../support/server';
import { holdWriteLock } from '../support/store';
import { addAlice, expectAnswer, setCookie, StudioBrowser, studioForEachTest } from './studio-browser';

const EXPIRED = ['JSESSIONID=; Max-Age=0; Path=/studio; HttpOnly; SameSite=Lax', 'XSRF-TOKEN=; Max-Age=0; Path=/studio'];

describe('Crafter Studio door: logout.json', () => {
  const studio = studioForEachTest();

  it('ends the session at the core, audits it, and expires both cookies', async () => {
    await studio.browser.login();
    const token = (await studio.browser.cookie('JSESSIONID'))!;
    const res = await studio.browser.logout();
    expectAnswer(res, 200, 'logout-ok');
    expect(res.setCookies).toEqual(EXPIRED);
    expect(res.headers.get('cache-control')).toBe('no-store');
    await expect(studio.server.core.sessions.verify(token)).rejects.toMatchObject({ code: 'TokenExpired' });
    const [latest] = await studio.server.core.audit.recent(1);
    expect(latest).toMatchObject({ event: 'logout', outcome: 'ok', username: 'alice', door: 'crafter' });
    expect(await studio.browser.cookie('XSRF-TOKEN')).toBeUndefined();
  });

  it('answers 200 OK without a session, and hands out no new XSRF cookie while expiring it', async () => {
    const res = await studio.browser.logout();
    expectAnswer(res, 200, 'logout-ok');
    expect(res.setCookies).toEqual(EXPIRED);
  });

  it('answers 200 OK for a cookie this server never issued', async () => {
    await studio.browser.jar.setCookie('JSESSIONID=garbage; Path=/studio', studio.browser.url('logout.json'));
    expectAnswer(await studio.browser.logout(), 200, 'logout-ok');
  });

  it('answers 200 OK for a session already logged out, or already expired', async () => {
    await studio.browser.login();
    const token = (await studio.browser.cookie('JSESSIONID'))!;
    await studio.browser.logout();
    await studio.browser.jar.setCookie(`JSESSIONID=${token}; Path=/studio`, studio.browser.url('logout.json'));
    expectAnswer(await studio.browser.logout(), 200, 'logout-ok');

    await studio.browser.login();
    studio.server.clock.advance(studio.server.config.sessionTtl * 1000);
    expectAnswer(await studio.browser.logout(), 200, 'logout-ok');
  });
});

describe('Crafter Studio door: when the database cannot be written', () => {
  let server: TestServer;
  let browser: StudioBrowser;
  let lock: { release(): Promise<void> } | undefined;
  beforeEach(async () => {
    server = await startTestServer({ DUALGATE_BUSY_TIMEOUT_MS: '50' });
    await addAlice(server);
    browser = new StudioBrowser(server.url);
  });
  afterEach(async () => {
    await lock?.release();
    lock = undefined;
    await server.stop();
  });

  it('answers a logout it could not record with 500 and the short reason, keeps the cookies for a retry, and the retry ends the session', async () => {
    await browser.login();
    const token = (await browser.cookie('JSESSIONID'))!;

    lock = await holdWriteLock(server.dbPath);
    const failed = await browser.logout();
    expectAnswer(failed, 500, 'store-locked');
    expect(failed.setCookies).toEqual([]);
    expect(await browser.cookie('JSESSIONID')).toBe(token);
    await lock.release();

    expectAnswer(await browser.validate(), 200, 'session-active');
    expectAnswer(await browser.logout(), 200, 'logout-ok');
    await expect(server.core.sessions.verify(token)).rejects.toMatchObject({ code: 'TokenExpired' });
    expectAnswer(await browser.validate(), 200, 'session-inactive');
  });

  it('answers a login it could not record with 500 and opens no session, then logs in once the store is back', async () => {
    await browser.ensureXsrf();
    lock = await holdWriteLock(server.dbPath);
    const failed = await browser.login();
    expectAnswer(failed, 500, 'store-locked');
    expect(setCookie(failed, 'JSESSIONID')).toBeUndefined();
    await lock.release();

    expect(await server.core.sessions.list({ alive: true })).toHaveLength(0);
    expectAnswer(await browser.login(), 200, 'login-ok');
    expectAnswer(await browser.validate(), 200, 'session-active');
  });

  it('answers validate-session with 500, not "inactive", when it cannot move the idle expiry', async () => {
    await browser.login();
    server.clock.advance(2000);
    lock = await holdWriteLock(server.dbPath);
    expectAnswer(await browser.validate(), 500, 'store-locked');
    await lock.release();
    expectAnswer(await browser.validate(), 200, 'session-active');
  });
});
