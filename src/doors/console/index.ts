import express, { Router, type Request, type Response } from 'express';
import type { DoorSettings } from '../../config';
import { Forbidden, type Core } from '../../core';
import { cookieScopeOf } from '../../http/client';
import { requestContext } from '../../http/context';
import type { Exchange } from '../../http/exchange';
import type { Door } from '../../http/routes';
import { NO_STORE, setHeaders } from '../../http/reply';
import { RequestError } from '../../http/request-errors';
import { consoleOperations, type ConsoleOperation } from './api';
import { ConsoleAssets, pageWithBase } from './assets';
import { CONSOLE_DOOR, CONSOLE_PATH, CSRF_HEADER, expiredCookieLine, requireCsrf, requireOperator, sessionCookie, type Operator } from './auth';
import { sendError } from './errors';
import { notFound } from '../../http/pipeline';

const API = `${CONSOLE_PATH}/api`;

/**
 * What the page may do: its own scripts, styles and images, calls to this server, and nothing else; no
 * inline script or style, no framing by another page, and a `<base>` on this server only (the page's own, which
 * places it under the prefix it is served at).
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

/**
 * The operator console at /console: a static page and its script, served from the package, over a small
 * JSON API under /console/api that calls only the core. Admin accounts only, with the console's own
 * cookie session and a per-session CSRF token.
 */
export function consoleDoor(config: DoorSettings['console'], core: Core): Door {
  // TEMPORARY bridge while the console moves to the one route shape: its Express router behind two routes.
  const host = express();
  host.disable('x-powered-by');
  host.disable('etag');
  host.set('query parser', 'simple');
  host.use(consoleRouter(config, core));
  host.use((_req, res) => notFound(res.locals as Exchange));
  const handle = (x: Exchange) =>
    new Promise<void>((resolve) => {
      (x.res as Response).locals = x as unknown as Response['locals'];
      x.res.once('finish', () => resolve()).once('close', () => resolve());
      host(x.req as Request, x.res as Response);
    });
  return {
    name: CONSOLE_DOOR,
    routes: [
      { methods: 'any', path: CONSOLE_PATH, handle },
      { methods: 'any', path: `${CONSOLE_PATH}/*`, handle },
    ],
    fail: (x, err) => sendError(x.res as Response, err),
  };
}

function consoleRouter(config: DoorSettings['console'], core: Core): Router {
  const router = Router();
  const assets = new ConsoleAssets();

  router.use(CONSOLE_PATH, (_req, res, next) => {
    res.set('X-Frame-Options', 'DENY');
    res.set('Referrer-Policy', 'no-referrer');
    next();
  });

  // The API first, so that a file name can never shadow it.
  const byPath = new Map<string, ConsoleOperation[]>();
  for (const operation of consoleOperations(core, config)) {
    byPath.set(operation.path, [...(byPath.get(operation.path) ?? []), operation]);
  }
  for (const [path, operations] of byPath) {
    router.all(`${API}${path}`, (req, res) => {
      const operation = operations.find((op) => op.method === req.method || (op.method === 'GET' && req.method === 'HEAD'));
      if (operation) return answer(core, operation, req, res);
      requestContext(res.locals as Exchange);
      setHeaders(res, NO_STORE);
      const allowed = operations.map((op) => op.method).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
      res.set('Allow', allowed.join(', '));
      sendError(res, new RequestError('MethodNotAllowed', `${API}${path} takes ${allowed.join(', ')}`));
    });
  }
  router.all(`${API}/*rest`, (_req, res) => {
    requestContext(res.locals as Exchange);
    setHeaders(res, NO_STORE);
    sendError(res, new RequestError('UnknownOperation', 'No such console API call'));
  });

  const page = (req: Request, res: Response, name: string): void => {
    res.locals.door = CONSOLE_DOOR;
    res.locals.operation = 'page';
    const asset = assets.get(name);
    if (!asset) {
      res.status(404).type('text/plain').send('Not found\n');
      return;
    }
    const isPage = name === 'index.html';
    if (isPage) res.set('Content-Security-Policy', PAGE_POLICY);
    res.set('Cache-Control', 'no-cache');
    const body = isPage ? pageWithBase(asset.body, cookieScopeOf(res.locals as Exchange).mountPath) : asset.body;
    res.status(200).type(asset.type).send(req.method === 'HEAD' ? undefined : body);
  };
  router.get([CONSOLE_PATH, `${CONSOLE_PATH}/`, `${CONSOLE_PATH}/index.html`], (req, res) => page(req, res, 'index.html'));
  router.get(`${CONSOLE_PATH}/:file`, (req, res, next) => {
    const name = String(req.params.file);
    if (name === 'index.html' || !assets.get(name)) return next();
    page(req, res, name);
  });
  return router;
}

/** Every API call: authenticate (admin operations), check CSRF (admin operations that change something), run, answer. */
async function answer(core: Core, operation: ConsoleOperation, req: Request, res: Response): Promise<void> {
  res.locals.operation = operation.name;
  setHeaders(res, NO_STORE);
  const base = requestContext(res.locals as Exchange);
  const token = sessionCookie(req);
  try {
    let operator: Operator | undefined;
    if (operation.access === 'admin') {
      try {
        operator = await requireOperator(core, token, base);
      } catch (err) {
        // A cookie that no longer opens the console is dropped, so the browser stops sending it.
        const refused = err instanceof Forbidden || (err instanceof RequestError && err.code === 'Unauthenticated');
        if (refused && token !== undefined) res.append('Set-Cookie', expiredCookieLine(cookieScopeOf(res.locals as Exchange)));
        throw err;
      }
      if (operation.method !== 'GET') requireCsrf(operator.token, req.get(CSRF_HEADER));
    }
    const result = await operation.run({ req, res, ctx: operator?.ctx ?? base, token, operator, scope: cookieScopeOf(res.locals as Exchange) });
    for (const line of result.setCookies ?? []) res.append('Set-Cookie', line);
    if (result.download) {
      res.status(result.status ?? 200).type(result.download.type).attachment(result.download.filename);
      // HEAD: the headers alone, without reading the rows.
      if (req.method === 'HEAD') res.end();
      else await result.download.write(res);
      return;
    }
    res.status(result.status ?? 200).json(result.body);
  } catch (err) {
    // A download that fails half-way can no longer say so: the connection is cut, so the file is visibly
    // incomplete rather than silently short.
    if (res.headersSent) {
      res.locals.error = err;
      res.destroy();
      return;
    }
    sendError(res, err);
  }
}
