import type { IncomingMessage } from 'node:http';
import { parse, serialize, type SerializeOptions } from 'cookie';
import type { CookieScope } from '../../http/client';

export const SESSION_COOKIE = 'JSESSIONID';
export const XSRF_COOKIE = 'XSRF-TOKEN';

/** The door's two cookies as a request carries them; an empty value counts as absent. */
export interface RequestCookies {
  session?: string;
  xsrf?: string;
}

export function readCookies(req: IncomingMessage): RequestCookies {
  const header = req.headers.cookie;
  if (!header) return {};
  const jar = parse(header);
  return { session: jar[SESSION_COOKIE] || undefined, xsrf: jar[XSRF_COOKIE] || undefined };
}

/**
 * Writes the door's `Set-Cookie` values. Every cookie is scoped to the prefix, as a real Studio scopes its
 * own to its context path, and is `Secure` when the request came over HTTPS (the exchange's protocol honours the
 * trust proxy setting).
 */
export class CookieWriter {
  constructor(private readonly path: string) {}

  /** The session: out of reach of page scripts, and not sent on cross-site subrequests. */
  session(token: string, scope: CookieScope): string {
    return serialize(SESSION_COOKIE, token, this.sessionOptions(scope));
  }

  /** The XSRF value: readable by the page's scripts, which echo it in `X-XSRF-TOKEN`. */
  xsrf(value: string, scope: CookieScope): string {
    return serialize(XSRF_COOKIE, value, this.xsrfOptions(scope));
  }

  /** Both cookies expired at once (logout), with the attributes they were set with. */
  expireAll(scope: CookieScope): string[] {
    return [
      serialize(SESSION_COOKIE, '', { ...this.sessionOptions(scope), maxAge: 0 }),
      serialize(XSRF_COOKIE, '', { ...this.xsrfOptions(scope), maxAge: 0 }),
    ];
  }

  private sessionOptions({ secure, mountPath }: CookieScope): SerializeOptions {
    return { path: mountPath + this.path, httpOnly: true, secure, sameSite: 'lax' };
  }

  private xsrfOptions({ secure, mountPath }: CookieScope): SerializeOptions {
    return { path: mountPath + this.path, secure };
  }
}
