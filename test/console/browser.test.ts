import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { TokenExpired } from '../../src/core';
import { StudioBrowser } from '../crafter/studio-browser';
import { startTestServer, type TestServer } from '../support/server';
import { jsonLogIn, postJson } from '../zato/support';
import { describeWithChromium, launchChromium } from './chromium';
import { CAROL, ROOT, sidOf, zatoRenewalSid } from './support';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
/** The browser's local zone: half an hour off any whole-hour zone, and no daylight saving to move it. */
const LOCAL_ZONE = 'Asia/Kolkata';

describeWithChromium('operator console in headless Chromium', () => {
  jest.setTimeout(90_000);

  let browser: Browser;
  let server: TestServer;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  beforeEach(async () => {
    server = await startTestServer();
    await server.addUser(ROOT.username, ROOT.password, 'admin');
    await server.addUser(CAROL.username, CAROL.password, 'user', { firstName: 'Carol', lastName: 'Danvers', email: 'carol@example.com' });
    await server.addUser('dave', 'pw-dave-1', 'user');
    page = await browser.newPage({ viewport: { width: 1280, height: 760 }, timezoneId: LOCAL_ZONE, acceptDownloads: true });
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
    await page.screenshot({ path: join(ARTIFACTS, 'console-activity.png'), fullPage: true });
    await page.click('#activity-view a[href="#audit"]');
    const newest = page.locator('#audit-table tbody tr').first().locator('td');
    await newest.first().waitFor();
    await expect(newest.nth(1).textContent()).resolves.toBe('revoke');
    await expect(newest.nth(6).textContent()).resolves.toBe('account deactivated by root');
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

  /** `ms` as the page shows it in UTC, and in the browser's zone (UTC+05:30). */
  const inUtc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  const inLocal = (ms: number) => `${new Date(ms + 5.5 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')} UTC+05:30`;

  /** Waits until the element at `selector` reads `text` at its start. */
  async function waitForStart(selector: string, text: string): Promise<void> {
    await page.locator(selector).first().filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).waitFor({ timeout: 10_000 });
  }

  it('finds sessions by part of a name, says what it filtered when nothing matches, and shows every time with its date and zone', async () => {
    await jsonLogIn(server.url, CAROL.username, CAROL.password);
    await jsonLogIn(server.url, 'dave', 'pw-dave-1');
    const [carol] = await server.core.sessions.list({ username: 'carol', alive: true });

    await logIn(ROOT.username, ROOT.password);
    const carolRow = page.locator('#session-table tbody tr[data-user="carol"]');
    await carolRow.waitFor();
    await page.fill('#session-filter input[name="user"]', 'ARO');
    await page.locator('#session-table tbody tr[data-user="dave"]').waitFor({ state: 'detached' });
    await expect(page.locator('#session-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user')))).resolves.toEqual(['carol']);

    // UTC by default, with the date; the relative time under it.
    const opened = '#session-table tbody tr[data-user="carol"] td:nth-child(3)';
    const expires = '#session-table tbody tr[data-user="carol"] td:nth-child(5)';
    await waitForStart(opened, inUtc(carol!.createdAt));
    await waitForStart(expires, inUtc(Math.min(carol!.idleExpiresAt, carol!.absoluteExpiresAt)));
    await expect(page.locator('#zone-utc').getAttribute('aria-pressed')).resolves.toBe('true');
    await page.screenshot({ path: join(ARTIFACTS, 'console-sessions-utc.png'), fullPage: true });

    // Local on the toggle, remembered by this browser across a reload.
    await page.click('#zone-local');
    await waitForStart(opened, inLocal(carol!.createdAt));
    await waitForStart(expires, inLocal(Math.min(carol!.idleExpiresAt, carol!.absoluteExpiresAt)));
    await page.screenshot({ path: join(ARTIFACTS, 'console-sessions-local.png'), fullPage: true });
    await page.reload();
    await page.locator('#session-table tbody tr[data-user="carol"]').waitFor();
    await waitForStart(opened, inLocal(carol!.createdAt));
    await expect(page.locator('#zone-local').getAttribute('aria-pressed')).resolves.toBe('true');
    await page.click('#zone-utc');
    await waitForStart(opened, inUtc(carol!.createdAt));

    // Nothing matches: the empty state says what was filtered, and the table goes.
    await page.fill('#session-filter input[name="user"]', 'zz');
    await waitForText('#session-empty', 'No live sessions of users whose name contains “zz”.');
    expect(await page.locator('#session-table').isHidden()).toBe(true);
    await page.selectOption('#session-filter select[name="door"]', 'xweb');
    await waitForText('#session-empty', 'No live sessions of users whose name contains “zz” at the xweb door.');
    await page.fill('#session-filter input[name="user"]', '');
    await waitForText('#session-empty', 'No live sessions at the xweb door.');
    await page.screenshot({ path: join(ARTIFACTS, 'console-sessions-empty.png'), fullPage: true });
  });

  it('holds its layout at 360 px: nothing spills out of the header bar or off the page, in any view', async () => {
    await jsonLogIn(server.url, CAROL.username, CAROL.password);
    await jsonLogIn(server.url, 'dave', 'wrong').catch(() => undefined);
    /** What of the header bar lies outside it, how wide the page is (wider than the window: it scrolls sideways), the bar's height. */
    const spills = () =>
      page.locator('header.bar').evaluate((bar) => {
        const box = bar.getBoundingClientRect();
        const outside = [...bar.querySelectorAll('*')].filter((e) => {
          const r = e.getBoundingClientRect();
          if (r.width === 0 && r.height === 0) return false;
          return r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
        });
        const names = outside.map((e) => e.id || e.getAttribute('class') || e.tagName);
        const doc = bar.ownerDocument;
        // A table wider than its box would have to be scrolled sideways: on a phone its rows are cards instead.
        const wide = [...doc.querySelectorAll('.scroll')].filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.querySelector('table')?.id);
        return { outside: names, wide, pageWidth: doc.documentElement.scrollWidth, barHeight: Math.round(box.height) };
      });
    const content: Record<string, string> = {
      sessions: '#session-table tbody tr[data-user="carol"]',
      accounts: '#account-table tbody tr[data-user="dave"]',
      activity: '#activity-chart svg',
      audit: '#audit-table tbody tr',
    };

    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 740 });
      if (width === 360) await logIn(ROOT.username, ROOT.password);
      for (const [view, selector] of Object.entries(content)) {
        await page.click(`#tabs a[data-view="${view}"]`);
        await page.locator(`#${view}-view ${selector.replace(/^#[\w-]+-view /, '')}`).first().waitFor();
        await page.screenshot({ path: join(ARTIFACTS, `console-${width}-${view}.png`), fullPage: true });
        const found = await spills();
        expect([view, width, found.outside, found.wide, found.pageWidth]).toEqual([view, width, [], [], width]);
        // One row of 52 px at desktop width; on a phone the tabs take a row of their own (48 + 40 px).
        expect([view, width, found.barHeight]).toEqual([view, width, width === 360 ? 88 : 52]);
      }
    }
    // The dialogs fit too.
    await page.setViewportSize({ width: 360, height: 740 });
    await page.click('#tabs a[data-view="accounts"]');
    await page.click('#new-account');
    const dialog = await page.locator('#account-dialog').boundingBox();
    expect(dialog!.x).toBeGreaterThanOrEqual(0);
    expect(dialog!.x + dialog!.width).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(ARTIFACTS, 'console-360-new-account.png') });
  });

  it('pages the audit log, filters it by user, event, outcome and time, and exports what it shows as CSV', async () => {
    // Two hours of history on 1 December: alpha and beta take turns, every fourth a failure (all betas).
    const now = server.clock.now();
    const start = Date.UTC(2026, 11, 1, 9, 0);
    for (let i = 0; i < 120; i++) {
      server.clock.set(start + i * 60_000);
      await server.core.audit.record(
        { cid: null, door: 'zato', clientIp: '127.0.0.5' },
        { event: i % 3 === 0 ? 'logout' : 'login', outcome: i % 4 === 0 ? 'failed' : 'ok', username: i % 2 ? `alpha${i}` : `beta${i}` },
      );
    }
    server.clock.set(now);
    await logIn(ROOT.username, ROOT.password);
    await page.locator('#session-table tbody tr.current').waitFor();
    await page.click('#tabs a[data-view="audit"]');
    const total = await server.core.audit.count({});
    await waitForText('#audit-range', `1–50 of ${total}`);
    expect(await page.locator('#audit-newer').isDisabled()).toBe(true);
    await page.click('#audit-older');
    await waitForText('#audit-range', `51–100 of ${total}`);
    await page.click('#audit-older');
    await waitForText('#audit-range', `101–${total} of ${total}`);
    expect(await page.locator('#audit-older').isDisabled()).toBe(true);
    await page.click('#audit-newer');
    await waitForText('#audit-range', `51–100 of ${total}`);

    // A filter starts again at the newest rows.
    await page.fill('#audit-filter input[name="user"]', 'ALPHA');
    await waitForText('#audit-range', '1–50 of 60');
    await page.selectOption('#audit-filter select[name="outcome"]', 'failed');
    await waitForText('#audit-empty', 'No audit rows match: user contains “ALPHA”, outcome failed.');
    expect(await page.locator('#audit-table').isHidden()).toBe(true);

    // Betas that failed to log in between 09:00 and 09:20 UTC: 09:04, 09:08 and 09:16 (09:00 and 09:12 were log-outs).
    await page.fill('#audit-filter input[name="user"]', 'beta');
    await page.selectOption('#audit-filter select[name="event"]', 'login');
    await page.fill('#audit-filter input[name="from"]', '2026-12-01T09:00');
    await page.fill('#audit-filter input[name="to"]', '2026-12-01T09:20');
    await waitForText('#audit-range', '1–3 of 3');
    const times = () => page.locator('#audit-table tbody tr td.time').allTextContents();
    await expect(times()).resolves.toEqual([16, 8, 4].map((m) => inUtc(start + m * 60_000)));
    await expect(page.locator('#audit-table tbody tr td:nth-child(4)').allTextContents()).resolves.toEqual(['beta16', 'beta8', 'beta4']);
    await page.screenshot({ path: join(ARTIFACTS, 'console-audit.png'), fullPage: true });

    // In local time the range keeps its moments: 14:30 to 14:50 in UTC+05:30, the same three rows.
    await page.click('#zone-local');
    await waitForStart('#audit-table tbody tr td.time', inLocal(start + 16 * 60_000));
    await expect(page.locator('#audit-filter input[name="from"]').inputValue()).resolves.toMatch(/^2026-12-01T14:30(:00)?$/);
    await expect(times()).resolves.toEqual([16, 8, 4].map((m) => inLocal(start + m * 60_000)));
    await expect(page.locator('#audit-filter .zone-name').first().textContent()).resolves.toBe('UTC+05:30');
    await page.screenshot({ path: join(ARTIFACTS, 'console-audit-local.png'), fullPage: true });

    // The export is what the filter shows.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-export')]);
    expect(download.suggestedFilename()).toMatch(/^dualgate-audit-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8').split('\r\n');
    expect(csv[0]).toBe('id,time,event,outcome,username,door,client_ip,session_id,cid,detail,count');
    expect(csv.slice(1, -1).map((line) => line.split(',').slice(1, 6).join(','))).toEqual(
      [16, 8, 4].map((m) => `${new Date(start + m * 60_000).toISOString()},login,failed,beta${m},zato`),
    );

    await page.click('#audit-filter button[type="reset"]');
    await waitForText('#audit-range', `1–50 of ${total}`);
  });

  it('shows /metrics right after start without nonsense values, even to scrapes at once', async () => {
    await server.stop();
    server = await startTestServer({ DUALGATE_METRICS: 'true' });
    await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
    await page.goto(`${server.url}/metrics`);
    const scrapes = await page.evaluate((url) => Promise.all([1, 2, 3].map(() => fetch(url).then((res) => res.text()))), `${server.url}/metrics`);
    for (const text of [await page.locator('body').innerText(), ...scrapes]) {
      const samples = text.split('\n').filter((line) => line && !line.startsWith('#'));
      expect(samples.length).toBeGreaterThan(20);
      expect(samples.filter((line) => !/ -?\d+(\.\d+)?(e[+-]?\d+)?$/.test(line))).toEqual([]);
      const lag = samples.filter((line) => line.startsWith('dualgate_nodejs_eventloop_lag_')).map((line) => Number(line.split(' ')[1]));
      expect(lag).toHaveLength(8);
      for (const seconds of lag) expect(seconds).toBeLessThan(10);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'metrics.png') });
  });
});
