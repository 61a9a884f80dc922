import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CookieJar } from 'tough-cookie';
import { startTestServer, type TestServer } from '../support/server';

const SECURITY = '/api/1/services/api/1/security';
const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'crafter');

/** alice, as the fixtures expect her. */
export const ALICE = { username: 'alice', password: 'wonderland-1', firstName: 'Alice', lastName: 'Liddell', email: 'alice@example.com' };

export function addAlice(server: TestServer): Promise<void> {
  const { username, password, ...profile } = ALICE;
  return server.addUser(username, password, 'user', profile);
}

/** What a suite of the door's tests works with; both are new for every test. */
export interface Studio {
  server: TestServer;
  browser: StudioBrowser;
}

/** Registers, for the suite that calls it, a fresh server with alice and a browser before each test, stopped after it. */
export function studioForEachTest(): Studio {
  const studio = {} as Studio;
  beforeEach(async () => {
    studio.server = await startTestServer();
    await addAlice(studio.server);
    studio.browser = new StudioBrowser(studio.server.url);
  });
  afterEach(() => studio.server.stop());
  return studio;
}

export interface StudioResponse {
  status: number;
  headers: Headers;
  setCookies: string[];
  text: string;
}

export interface CallOptions {
  /** Sent as JSON unless it is text or bytes already. */
  body?: unknown;
  /** `X-XSRF-TOKEN`: by default the XSRF-TOKEN cookie's value, as Studio's page script sends it; null: none. */
  xsrfHeader?: string | null;
  headers?: Record<string, string>;
}

/**
 * A client that keeps cookies the way a browser does (tough-cookie: paths, expiry, `Max-Age=0` removal) and
 * echoes the XSRF-TOKEN cookie in the X-XSRF-TOKEN header, as Studio's own UI does.
 */
export class StudioBrowser {
  readonly jar = new CookieJar();

  constructor(
    private readonly origin: string,
    readonly prefix = '/studio',
  ) {}

  url(file: string): string {
    return `${this.origin}${this.prefix}${SECURITY}/${file}`;
  }

  async cookie(name: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(this.url('any.json'));
    return cookies.find((c) => c.key === name)?.value;
  }

  async call(method: string, file: string, options: CallOptions = {}): Promise<StudioResponse> {
    const url = this.url(file);
    const headers: Record<string, string> = { ...options.headers };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.cookie = cookie;
    const xsrf = options.xsrfHeader === undefined ? await this.cookie('XSRF-TOKEN') : options.xsrfHeader;
    if (xsrf !== null && xsrf !== undefined) headers['x-xsrf-token'] = xsrf;
    let body: string | Uint8Array | undefined;
    if (options.body !== undefined) {
      const raw = typeof options.body === 'string' || options.body instanceof Uint8Array;
      body = raw ? (options.body as string | Uint8Array) : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) await this.jar.setCookie(line, url);
    return { status: res.status, headers: res.headers, setCookies, text: await res.text() };
  }

  /** What a page does first: any call hands it an XSRF-TOKEN cookie. */
  async ensureXsrf(): Promise<void> {
    if ((await this.cookie('XSRF-TOKEN')) === undefined) await this.validate();
  }

  async login(username = ALICE.username, password = ALICE.password, options: CallOptions = {}): Promise<StudioResponse> {
    await this.ensureXsrf();
    return this.call('POST', 'login.json', { body: { username, password }, ...options });
  }

  logout(options: CallOptions = {}): Promise<StudioResponse> {
    return this.call('POST', 'logout.json', options);
  }

  validate(): Promise<StudioResponse> {
    return this.call('GET', 'validate-session.json');
  }
}

/** The compact JSON text of `fixtures/crafter/<name>.json`: what the wire must carry, byte for byte. */
export function fixture(name: string): string {
  return JSON.stringify(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')));
}

export function expectAnswer(res: StudioResponse, status: number, fixtureName: string): void {
  expect({ status: res.status, body: res.text }).toEqual({ status, body: fixture(fixtureName) });
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
}

/** The `Set-Cookie` line for cookie `name`, if the response had one. */
export function setCookie(res: StudioResponse, name: string): string | undefined {
  return res.setCookies.find((line) => line.startsWith(`${name}=`));
}
