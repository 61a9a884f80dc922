import { cliContext } from '../../src/core/context';
import { ALICE, expectAnswer, setCookie, StudioBrowser, studioForEachTest } from './studio-browser';

const SECOND = 1000;
const TTL = 3600 * SECOND;

describe('Crafter Studio door: a browser session', () => {
  const studio = studioForEachTest();

  it('logs in, is active with the user on validate-session, logs out, and is inactive after', async () => {
    const login = await studio.browser.login();
    expectAnswer(login, 200, 'login-ok');
    expect(await studio.browser.cookie('JSESSIONID')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expectAnswer(await studio.browser.validate(), 200, 'session-active');
    expectAnswer(await studio.browser.logout(), 200, 'logout-ok');
    expect(await studio.browser.cookie('JSESSIONID')).toBeUndefined();
    expectAnswer(await studio.browser.validate(), 200, 'session-inactive');
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, on the prefix path, and forbids caching the answer', async () => {
    const login = await studio.browser.login();
    const token = await studio.browser.cookie('JSESSIONID');
    expect(setCookie(login, 'JSESSIONID')).toBe(`JSESSIONID=${token}; Path=/studio; HttpOnly; SameSite=Lax`);
    expect(login.headers.get('cache-control')).toBe('no-store');
  });

  it('keeps the logged-out session dead even when its old cookie is sent again', async () => {
    await studio.browser.login();
    const token = (await studio.browser.cookie('JSESSIONID'))!;
    await studio.browser.logout();
    await studio.browser.jar.setCookie(`JSESSIONID=${token}; Path=/studio`, studio.browser.url('validate-session.json'));
    expectAnswer(await studio.browser.validate(), 200, 'session-inactive');
  });

  it('reports a session ended elsewhere (an operator revoking it) as inactive', async () => {
    await studio.browser.login();
    const [session] = await studio.server.core.sessions.list({ username: ALICE.username, alive: true });
    await studio.server.core.sessions.revoke(session!.id, 'operator', cliContext);
    expectAnswer(await studio.browser.validate(), 200, 'session-inactive');
  });

  it('reports no cookie, and a cookie this server never issued, as inactive', async () => {
    expectAnswer(await studio.browser.validate(), 200, 'session-inactive');
    await studio.browser.jar.setCookie('JSESSIONID=not-a-token; Path=/studio', studio.browser.url('validate-session.json'));
    expectAnswer(await studio.browser.validate(), 200, 'session-inactive');
    await studio.browser.jar.setCookie(`JSESSIONID=${'A'.repeat(43)}; Path=/studio`, studio.browser.url('validate-session.json'));
    expectAnswer(await studio.browser.validate(), 200, 'session-inactive');
  });

  it('ends a session left idle past the TTL', async () => {
    await studio.browser.login();
    studio.server.clock.advance(TTL);
    expectAnswer(await studio.browser.validate(), 200, 'session-inactive');
  });

  it('keeps a session alive while validate-session is called within the TTL: each call moves the idle expiry', async () => {
    await studio.browser.login();
    studio.server.clock.advance(TTL - SECOND);
    expectAnswer(await studio.browser.validate(), 200, 'session-active');
    studio.server.clock.advance(TTL - SECOND);
    expectAnswer(await studio.browser.validate(), 200, 'session-active');
    studio.server.clock.advance(TTL);
    expectAnswer(await studio.browser.validate(), 200, 'session-inactive');
  });

  it('replaces the session a browser had when it logs in again, and ends the old one', async () => {
    await studio.browser.login();
    const first = (await studio.browser.cookie('JSESSIONID'))!;
    expectAnswer(await studio.browser.login(), 200, 'login-ok');
    const second = (await studio.browser.cookie('JSESSIONID'))!;
    expect(second).not.toBe(first);
    await expect(studio.server.core.sessions.verify(first)).rejects.toMatchObject({ code: 'TokenExpired' });
    expectAnswer(await studio.browser.validate(), 200, 'session-active');
    expect(await studio.server.core.sessions.list({ username: ALICE.username, alive: true })).toHaveLength(1);
  });

  it('keeps two browsers apart: one logging out leaves the other logged in', async () => {
    const other = new StudioBrowser(studio.server.url);
    await studio.browser.login();
    await other.login();
    await other.logout();
    expectAnswer(await studio.browser.validate(), 200, 'session-active');
    expectAnswer(await other.validate(), 200, 'session-inactive');
  });

  it('answers 404 in Studio form for an operation it does not have, and 405 for the wrong method', async () => {
    expectAnswer(await studio.browser.call('GET', 'get-user.json'), 404, 'not-found');
    const wrong = await studio.browser.call('GET', 'login.json');
    expectAnswer(wrong, 405, 'method-not-allowed');
    expect(wrong.headers.get('allow')).toBe('POST');
    const post = await studio.browser.call('POST', 'validate-session.json');
    expectAnswer(post, 405, 'method-not-allowed');
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
