import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { cliContext } from '../../src/core/context';
import { createLogger } from '../../src/logger';
import { createGateway, type Gateway } from '../../src/server';
import { startTestServer } from '../support/server';
import { tempDir } from '../support/temp';
import { describeWithChromium, launchChromium } from './chromium';
import { ConsoleClient, ROOT } from './support';

/** The page's `<base href>` values, and every other address it names. */
function addressesOf(html: string): { bases: string[]; references: string[] } {
  return {
    bases: [...html.matchAll(/<base href="([^"]*)">/g)].map((m) => m[1]!),
    references: [...html.matchAll(/<(?!base)[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!),
  };
}

/** The console where dualgate is not at the root: mounted in another Express app, or behind a path prefix. */
describe('the console under a prefix', () => {
  let gateway: Gateway;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    gateway = await createGateway(
      { DUALGATE_DB: join(tempDir(), 'mounted.db'), DUALGATE_BCRYPT_COST: 4, DUALGATE_PURGE_INTERVAL: 0, DUALGATE_LOGIN_RATE: 0 },
      { log: createLogger('silent') },
    );
    await gateway.core.accounts.create({ ...ROOT, role: 'admin' }, cliContext);
    const parent = express();
    parent.use('/auth', gateway.app);
    server = await new Promise<Server>((resolve) => {
      const s = parent.listen(0, '127.0.0.1', () => resolve(s));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.close();
  });

  describe('mounted with parent.use("/auth", app), over HTTP', () => {
    it('serves the page with its base under the mount path, and every file and API call it names resolves there', async () => {
      for (const path of ['/auth/console', '/auth/console/', '/auth/console/index.html']) {
        const res = await fetch(origin + path);
        expect([path, res.status]).toEqual([path, 200]);
        expect(res.headers.get('content-security-policy')).toContain("base-uri 'self'");
        expect(addressesOf(await res.text()).bases).toEqual(['/auth/console/']);
      }
      const { references } = addressesOf(await (await fetch(`${origin}/auth/console/`)).text());
      const base = `${origin}/auth/console/`;
      const files = references.filter((ref) => !ref.startsWith('#'));
      expect(files).toEqual(expect.arrayContaining(['console.css', 'icon.svg', 'app.js', 'api/audit.csv']));
      for (const ref of files) {
        const res = await fetch(new URL(ref, base));
        // The files are public; the audit export is the console's API, which wants a console session.
        expect([ref, res.status]).toEqual([ref, ref.startsWith('api/') ? 401 : 200]);
      }
      // The script's modules import each other by relative name, and call the API relative to the base.
      const script = await (await fetch(`${base}app.js`)).text();
      for (const [, file] of script.matchAll(/from '\.\/([^']+)'/g)) expect((await fetch(`${base}${file}`)).status).toBe(200);
      const api = await (await fetch(`${base}api.js`)).text();
      expect(api).not.toMatch(/['"`]\/console/);
      // Nothing of dualgate's answers outside the mount path: that is the parent's.
      expect((await fetch(`${origin}/console/`)).status).toBe(404);
    });

    it('logs an admin in through the prefixed API, with the cookie on the prefixed path', async () => {
      const admin = new ConsoleClient(`${origin}/auth`);
      const login = await admin.login();
      expect(login.status).toBe(200);
      expect(login.setCookies[0]).toMatch(/^dualgate_console=[^;]+; Path=\/auth\/console; HttpOnly; SameSite=Strict$/);
      const me = await admin.call('GET', '/me');
      expect([me.status, me.body.user.username]).toEqual([200, ROOT.username]);
      expect((await admin.call('POST', '/logout')).status).toBe(200);
    });
  });

  it('writes the base under DUALGATE_PUBLIC_URL\'s path prefix, where the proxy serves the page', async () => {
    const behind = await startTestServer({ DUALGATE_PUBLIC_URL: 'https://example.com/sso' });
    try {
      for (const path of ['/console', '/console/index.html']) {
        const html = await (await fetch(behind.url + path)).text();
        expect([path, addressesOf(html).bases]).toEqual([path, ['/sso/console/']]);
      }
    } finally {
      await behind.stop();
    }
  });

  describeWithChromium('mounted, in headless Chromium', () => {
    jest.setTimeout(90_000);
    let browser: Browser;
    let page: Page;
    let pageErrors: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(() => browser?.close());

    beforeEach(async () => {
      page = await browser.newPage({ viewport: { width: 1280, height: 760 }, acceptDownloads: true });
      pageErrors = [];
      page.on('console', (message) => {
        if (message.type() === 'error') pageErrors.push(message.text());
      });
      page.on('pageerror', (err) => pageErrors.push(err.message));
    });
    afterEach(async () => {
      await page.close();
      // The 401 of `me` before the log-in is expected; nothing else: no file missing, no CSP violation.
      expect(pageErrors.filter((text) => !/status of 401 /.test(text))).toEqual([]);
    });

    it('loads the page at /auth/console, logs in, switches views without reloading, and exports the audit', async () => {
      await page.goto(`${origin}/auth/console`);
      await page.locator('#login-form').waitFor();
      // The address settles at the base, so the tabs' #links stay on this page.
      expect(page.url()).toBe(`${origin}/auth/console/`);
      await page.fill('#login-form input[name="username"]', ROOT.username);
      await page.fill('#login-form input[name="password"]', ROOT.password);
      await page.click('#login-form button[type="submit"]');
      await page.locator('#session-table tbody tr[data-user="root"]').waitFor();
      await expect(page.locator('#who-name').textContent()).resolves.toBe(ROOT.username);

      // A mark on this document: a tab that loaded the page again would lose it.
      await page.evaluate(() => ((globalThis as unknown as { mark: number }).mark = 1));
      await page.click('#tabs a[data-view="accounts"]');
      await page.locator('#account-table tbody tr[data-user="root"]').waitFor();
      expect(page.url()).toBe(`${origin}/auth/console/#accounts`);
      await page.click('#tabs a[data-view="audit"]');
      await page.locator('#audit-table tbody tr').first().waitFor();
      expect(await page.evaluate(() => (globalThis as unknown as { mark?: number }).mark)).toBe(1);

      expect(await page.locator('#audit-export').evaluate((a) => (a as unknown as { href: string }).href)).toBe(`${origin}/auth/console/api/audit.csv`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-export')]);
      const csv = readFileSync((await download.path())!, 'utf8').split('\r\n');
      expect(csv[0]).toBe('id,time,event,outcome,username,door,client_ip,session_id,cid,detail,count');
      expect(csv.some((line) => /,login,ok,root,console,/.test(line))).toBe(true);

      await page.click('#logout');
      await page.locator('#login-form').waitFor();
      expect(await gateway.core.sessions.list({ door: 'console', alive: true })).toEqual([]);
    });
  });
});
