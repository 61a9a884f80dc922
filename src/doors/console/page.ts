import { notFound } from '../../http/pipeline';
import { reply } from '../../http/reply';
import type { Exchange } from '../../http/exchange';
import type { Route } from '../../http/routes';
import { cookieScopeOf } from '../../http/client';
import { ConsoleAssets, pageWithBase } from './assets';
import { CONSOLE_PATH } from './auth';

/**
 * What the page may do: its own scripts, styles and images, calls to this server, and nothing else; no
 * inline script or style, no framing by another page, and a `<base>` on this server only (the page's own,
 * which places it under the prefix it is served at).
 */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
].join('; ');

/** The page at /console (with or without its slash) and /console/index.html, and its files at /console/<file>. */
export function pageRoutes(): Route[] {
  const assets = new ConsoleAssets();

  /** A file of the console, or the gateway's 404 for any name it does not have. */
  async function serve(x: Exchange, name: string): Promise<void> {
    const asset = assets.get(name);
    if (!asset) return notFound(x);
    // Revalidated on every load, so a new release's page never runs an old script.
    const headers: Record<string, string> = { 'Cache-Control': 'no-cache' };
    let body = asset.body;
    if (name === 'index.html') {
      headers['Content-Security-Policy'] = PAGE_POLICY;
      body = pageWithBase(body, cookieScopeOf(x).mountPath);
    }
    reply(x.res, 200, asset.type, body, headers);
  }

  return [
    { methods: ['GET'], path: CONSOLE_PATH, operation: 'page', handle: (x) => serve(x, 'index.html') },
    { methods: ['GET'], path: `${CONSOLE_PATH}/index.html`, operation: 'page', handle: (x) => serve(x, 'index.html') },
    { methods: ['GET'], path: `${CONSOLE_PATH}/:file`, operation: 'page', handle: (x) => serve(x, x.params.file ?? '') },
  ];
}
