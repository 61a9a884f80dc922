import { postJson } from '../zato/support';

export const ROOT = { username: 'root', password: 'pw-root-1' };
export const CAROL = { username: 'carol', password: 'pw-carol-1' };

export interface ConsoleAnswer {
  status: number;
  headers: Headers;
  setCookies: string[];
  body: any;
}

export interface CallOptions {
  body?: unknown;
  /** `X-CSRF-Token`: by default the one the log-in handed out (none before); null: none at all. */
  csrf?: string | null;
  headers?: Record<string, string>;
}

/**
 * A client of the console's API as its page is: it keeps the session cookie (dropping it when the server
 * expires it) and sends the CSRF token it was given on every call but GET.
 */
export class ConsoleClient {
  cookie: string | undefined;
  csrfToken: string | undefined;

  constructor(readonly url: string) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<ConsoleAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie !== undefined) headers.cookie = `dualgate_console=${this.cookie}`;
    const csrf = options.csrf === undefined ? this.csrfToken : options.csrf;
    if (method !== 'GET' && csrf !== null && csrf !== undefined) headers['x-csrf-token'] = csrf;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.url}/console/api${path}`, { method, headers, body, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const match = /^dualgate_console=([^;]*)/.exec(line);
      if (!match) continue;
      this.cookie = /Max-Age=0/i.test(line) || match[1] === '' ? undefined : match[1];
    }
    const text = await res.text();
    return { status: res.status, headers: res.headers, setCookies, body: text === '' ? undefined : JSON.parse(text) };
  }

  async login(username = ROOT.username, password = ROOT.password): Promise<ConsoleAnswer> {
    const answer = await this.call('POST', '/login', { body: { username, password } });
    if (answer.status === 200) this.csrfToken = answer.body.csrfToken as string;
    return answer;
  }
}

/** The session id a JWT from the Zato door carries in its `sid` claim. */
export function sidOf(jwt: string): string {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')).sid as string;
}

/**
 * Asks the Zato door to renew `token`'s session (`log-in` with `token`): it renews a live session (same sid)
 * and opens a new one for a dead token. Answers the session id of the token it hands back.
 */
export async function zatoRenewalSid(url: string, username: string, password: string, token: string): Promise<string> {
  const res = await postJson(url, '/zato/json/zato.security.jwt.log-in', { username, password, token });
  if (res.status !== 200) throw new Error(`log-in failed: ${res.status} ${res.text}`);
  return sidOf(res.body.zato_security_jwt_log_in_response.token as string);
}
