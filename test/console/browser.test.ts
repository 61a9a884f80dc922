import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TokenExpired } from '../../src/core';
import { StudioBrowser } from '../crafter/studio-browser';
import { startTestServer, type TestServer } from '../support/server';
import { jsonLogIn, postJson } from '../zato/support';
import { CAROL, ROOT, sidOf, zatoRenewalSid } from './support';

/** Debian's Chromium (browser downloads are not possible here); `.ci/run` installs it when it is missing. */
const CHROMIUM = process.env.DUALGATE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const haveChromium = existsSync(CHROMIUM);

if (!haveChromium) {
  // A developer machine without it: say so plainly rather than fail. CI always has it.
  console.warn(`Skipping the console's browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set DUALGATE_CHROMIUM).`);
}

const describeWithChromium = haveChromium ? describe : describe.skip;

describeWithChromium('operator console in headless Chromium', () => {
  jest.setTimeout(90_000);

  let browser: Browser;
  let server: TestServer;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(() => browser?.close());

  beforeEach(async () => {
    server = await startTestServer();
    await server.addUser(ROOT.username, ROOT.password, 'admin');
    await server.addUser(CAROL.username, CAROL.password, 'user', { firstName: 'Carol', lastName: 'Danvers', email: 'carol@example.com' });
    await server.addUser('dave', 'pw-dave-1', 'user');
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    // Anything the page logs as an error (a script that failed to load, a CSP violation) fails the test.
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    pageErrors = [];
  });
  afterEach(async () => {
    await page.close();
    await server.stop();
    // Refusals the tests ask for (401 before log-in, 403 for a non-admin, 400 for a bad field) are expected;
    // nothing else is: not a missing module (404), not a script error, not a CSP violation.
    expect(pageErrors.filter((text) => !/status of 40[013] /.test(text))).toEqual([]);
  });
  let pageErrors: string[] = [];

  /** Waits for the element at `selector` to read exactly `text`. */
  async function waitForText(selector: string, text: string): Promise<void> {
    const exactly = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    await page.locator(selector).filter({ hasText: exactly }).waitFor({ timeout: 10_000 });
  }

  async function logIn(username: string, password: string): Promise<void> {
    await page.goto(`${server.url}/console`);
    await page.locator('#login-form').waitFor();
    await page.fill('#login-form input[name="username"]', username);
    await page.fill('#login-form input[name="password"]', password);
    await page.click('#login-form button[type="submit"]');
  }

  it('logs in as admin, sees a Zato JSON session, ends it, and the token is dead at the Zato door', async () => {
    // Some life to look at: carol through the Zato JSON door, dave through Crafter, a failed log-in.
    const token = await jsonLogIn(server.url, CAROL.username, CAROL.password);
    const studio = new StudioBrowser(server.url);
    await studio.login('dave', 'pw-dave-1');
    await jsonLogIn(server.url, 'dave', 'wrong').catch(() => undefined);

    await logIn(ROOT.username, ROOT.password);
    const carolRow = page.locator('#session-table tbody tr[data-user="carol"]');
    await carolRow.waitFor();
    await expect(carolRow.locator('td').nth(1).textContent()).resolves.toBe('zato');
    await expect(page.locator('#who-name').textContent()).resolves.toBe('root');
    await expect(page.locator('#session-table tbody tr').count()).resolves.toBe(3); // carol, dave, this console
    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });

    await carolRow.locator('button[data-action="end-session"]').click();
    await expect(page.locator('#confirm-text').textContent()).resolves.toBe("End carol's zato session?");
    await page.click('#confirm-ok');
    await carolRow.waitFor({ state: 'detached' });
    await waitForText('#toast', "Ended carol's zato session");

    // The Zato door no longer knows the session: log-in with the token renews nothing, it opens another.
    expect(await zatoRenewalSid(server.url, CAROL.username, CAROL.password, token)).not.toBe(sidOf(token));
    const logOut = await postJson(server.url, '/zato/jwt/log-out', {}, { Authorization: `Bearer ${token}` });
    expect(logOut.status).toBe(200); // log-out of an ended session is fine (idempotent), and changes nothing
    await expect(server.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    const revoked = (await server.core.audit.recent(50)).filter((row) => row.event === 'revoke');
    expect(revoked).toEqual([expect.objectContaining({ username: 'carol', sessionId: sidOf(token), door: 'console', detail: 'ended from the console by root' })]);
  });

  it('filters sessions, manages accounts and shows the activity chart', async () => {
    // Some history over the last hours: log-ins and log-outs, and a failure now and then.
    const now = server.clock.now();
    const minutesAgo = [170, 140, 139, 100, 75, 74, 40, 12];
    for (const [i, ago] of minutesAgo.entries()) {
      server.clock.set(now - ago * 60_000);
      const token = await jsonLogIn(server.url, 'dave', 'pw-dave-1');
      if (i % 3 === 0) await jsonLogIn(server.url, CAROL.username, 'typo').catch(() => undefined);
      await postJson(server.url, '/zato/json/zato.security.jwt.log-out', { token });
    }
    server.clock.set(now);

    await jsonLogIn(server.url, CAROL.username, CAROL.password);
    await jsonLogIn(server.url, 'dave', 'pw-dave-1');
    for (let i = 0; i < 5; i++) await jsonLogIn(server.url, 'dave', 'wrong').catch(() => undefined);

    await logIn(ROOT.username, ROOT.password);
    await page.locator('#session-table tbody tr[data-user="dave"]').waitFor();
    await page.fill('#session-filter input[name="user"]', 'carol');
    await page.locator('#session-table tbody tr[data-user="dave"]').waitFor({ state: 'detached' });
    await expect(page.locator('#session-table tbody tr').count()).resolves.toBe(1);
    await page.fill('#session-filter input[name="user"]', '');
    await page.selectOption('#session-filter select[name="door"]', 'console');
    await page.locator('#session-table tbody tr[data-user="carol"]').waitFor({ state: 'detached' });
    await expect(page.locator('#session-table tbody tr').getAttribute('data-user')).resolves.toBe('root');

    // Accounts: dave's five failures locked out the address they came from; unlock him, then create one, with
    // the 72-byte rule.
    await page.click('#tabs a[data-view="accounts"]');
    const dave = page.locator('#account-table tbody tr[data-user="dave"]');
    await dave.waitFor();
    await expect(dave.locator('.badges').textContent()).resolves.toMatch(/locked for 127\.0\.0\.1/);
    await dave.locator('button[data-action="unlock"]').click();
    await dave.locator('button[data-action="unlock"]').waitFor({ state: 'detached' });
    await expect(jsonLogIn(server.url, 'dave', 'pw-dave-1')).resolves.toBeDefined();

    await page.click('#new-account');
    await page.fill('#account-form input[name="username"]', 'erin');
    await page.fill('#account-form input[name="password"]', 'x'.repeat(73));
    await page.click('#account-form button[type="submit"]');
    await waitForText('#account-form .error', 'Invalid password: longer than 72 bytes');
    await page.fill('#account-form input[name="password"]', 'pw-erin-1');
    await page.selectOption('#account-form select[name="role"]', 'integrator');
    await page.click('#account-form button[type="submit"]');
    await page.locator('#account-table tbody tr[data-user="erin"]').waitFor();
    expect(await server.core.accounts.findByUsername('erin')).toMatchObject({ role: 'integrator', isActive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console-accounts.png'), fullPage: true });

    // Deactivating carol ends her session too.
    await page.locator('#account-table tbody tr[data-user="carol"] button[data-action="deactivate"]').click();
    await page.click('#confirm-ok');
    await page.locator('#account-table tbody tr[data-user="carol"].inactive').waitFor();
    expect(await server.core.sessions.list({ username: 'carol', alive: true })).toEqual([]);

    await page.click('#tabs a[data-view="activity"]');
    await page.locator('#activity-chart svg .bar').first().waitFor();
    // One bar for each minute that saw something: the history's, and this one.
    await expect(page.locator('#activity-chart svg .bar').count()).resolves.toBe(minutesAgo.length + 1);
    const total = (series: string) => page.locator(`#activity-legend .key[data-series="${series}"] b`).textContent();
    await expect(total('lockouts')).resolves.toBe('1');
    await expect(total('failures')).resolves.toBe(String(5 + 3));
    await expect(total('logouts')).resolves.toBe(String(minutesAgo.length));
    const newest = page.locator('#audit-table tbody tr').first().locator('td');
    await expect(newest.nth(1).textContent()).resolves.toBe('revoke');
    await expect(newest.nth(6).textContent()).resolves.toBe('account deactivated by root');
    await page.screenshot({ path: join(ARTIFACTS, 'console-activity.png'), fullPage: true });
  });

  it('refuses a non-admin account with the reason, and shows no data', async () => {
    await logIn(CAROL.username, CAROL.password);
    await waitForText('#login-error', 'Only an active admin account may use the console');
    expect(await page.locator('#sessions-view').isHidden()).toBe(true);
    expect(await server.core.sessions.list({ door: 'console', alive: true })).toEqual([]);
  });

  it('logs out, and goes back to the log-in form when its session is ended elsewhere', async () => {
    await logIn(ROOT.username, ROOT.password);
    await page.locator('#session-table tbody tr.current').waitFor();
    await page.click('#logout');
    await page.locator('#login-form').waitFor();
    expect(await server.core.sessions.list({ door: 'console', alive: true })).toEqual([]);

    await logIn(ROOT.username, ROOT.password);
    await page.locator('#session-table tbody tr.current').waitFor();
    const [own] = await server.core.sessions.list({ door: 'console', alive: true });
    await server.core.sessions.revoke(own!.id, 'test', { cid: null, door: 'cli' });
    await page.locator('#login-form').waitFor({ timeout: 15_000 });
    await waitForText('#login-error', 'Your console session has ended. Log in again.');
  });
});
