import { cliContext } from '../../src/core/context';
import { startTestServer, type TestServer } from '../support/server';
import { addAlice, ALICE, expectAnswer, setCookie, StudioBrowser } from './studio-browser';

const SECOND = 1000;
const TTL = 3600 * SECOND;

describe('Crafter Studio door: a browser session', () => {
  let server: TestServer;
  let browser: StudioBrowser;
  beforeEach(async () => {
    server = await startTestServer();
    await addAlice(server);
    browser = new StudioBrowser(server.url);
  });
  afterEach(() => server.stop());

  it('logs in, is active with the user on validate-session, logs out, and is inactive after', async () => {
    const login = await browser.login();
    expectAnswer(login, 200, 'login-ok');
    expect(await browser.cookie('JSESSIONID')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expectAnswer(await browser.validate(), 200, 'session-active');
    expectAnswer(await browser.logout(), 200, 'logout-ok');
    expect(await browser.cookie('JSESSIONID')).toBeUndefined();
    expectAnswer(await browser.validate(), 200, 'session-inactive');
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, on the prefix path, and forbids caching the answer', async () => {
    const login = await browser.login();
    const token = await browser.cookie('JSESSIONID');
    expect(setCookie(login, 'JSESSIONID')).toBe(`JSESSIONID=${token}; Path=/studio; HttpOnly; SameSite=Lax`);
    expect(login.headers.get('cache-control')).toBe('no-store');
  });

  it('keeps the logged-out session dead even when its old cookie is sent again', async () => {
    await browser.login();
    const token = (await browser.cookie('JSESSIONID'))!;
    await browser.logout();
    await browser.jar.setCookie(`JSESSIONID=${token}; Path=/studio`, browser.url('validate-session.json'));
    expectAnswer(await browser.validate(), 200, 'session-inactive');
  });

  it('reports a session ended elsewhere (an operator revoking it) as inactive', async () => {
    await browser.login();
    const [session] = await server.core.sessions.list({ username: ALICE.username, alive: true });
    await server.core.sessions.revoke(session!.id, 'operator', cliContext);
    expectAnswer(await browser.validate(), 200, 'session-inactive');
  });

  it('reports no cookie, and a cookie this server never issued, as inactive', async () => {
    expectAnswer(await browser.validate(), 200, 'session-inactive');
    await browser.jar.setCookie('JSESSIONID=not-a-token; Path=/studio', browser.url('validate-session.json'));
    expectAnswer(await browser.validate(), 200, 'session-inactive');
    await browser.jar.setCookie(`JSESSIONID=${'A'.repeat(43)}; Path=/studio`, browser.url('validate-session.json'));
    expectAnswer(await browser.validate(), 200, 'session-inactive');
  });

  it('ends a session left idle past the TTL', async () => {
    await browser.login();
    server.clock.advance(TTL);
    expectAnswer(await browser.validate(), 200, 'session-inactive');
  });

  it('keeps a session alive while validate-session is called within the TTL: each call moves the idle expiry', async () => {
    await browser.login();
    server.clock.advance(TTL - SECOND);
    expectAnswer(await browser.validate(), 200, 'session-active');
    server.clock.advance(TTL - SECOND);
    expectAnswer(await browser.validate(), 200, 'session-active');
    server.clock.advance(TTL);
    expectAnswer(await browser.validate(), 200, 'session-inactive');
  });

  it('replaces the session a browser had when it logs in again, and ends the old one', async () => {
    await browser.login();
    const first = (await browser.cookie('JSESSIONID'))!;
    expectAnswer(await browser.login(), 200, 'login-ok');
    const second = (await browser.cookie('JSESSIONID'))!;
    expect(second).not.toBe(first);
    await expect(server.core.sessions.verify(first)).rejects.toMatchObject({ code: 'TokenExpired' });
    expectAnswer(await browser.validate(), 200, 'session-active');
    expect(await server.core.sessions.list({ username: ALICE.username, alive: true })).toHaveLength(1);
  });

  it('keeps two browsers apart: one logging out leaves the other logged in', async () => {
    const other = new StudioBrowser(server.url);
    await browser.login();
    await other.login();
    await other.logout();
    expectAnswer(await browser.validate(), 200, 'session-active');
    expectAnswer(await other.validate(), 200, 'session-inactive');
  });

  it('answers 404 in Studio form for an operation it does not have, and 405 for the wrong method', async () => {
    expectAnswer(await browser.call('GET', 'get-user.json'), 404, 'not-found');
    const wrong = await browser.call('GET', 'login.json');
    expectAnswer(wrong, 405, 'method-not-allowed');
    expect(wrong.headers.get('allow')).toBe('POST');
    const post = await browser.call('POST', 'validate-session.json');
    expectAnswer(post, 405, 'method-not-allowed');
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
