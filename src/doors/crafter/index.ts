import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { DoorSettings } from '../../config';
import type { Core, RequestContext } from '../../core';
import { cookieScopeOf } from '../../http/client';
import { requestContext } from '../../http/context';
import { exchangeOf } from '../../http/exchange';
import type { DoorRoutes } from '../../http/front';
import { NO_STORE, replyJson, setHeaders } from '../../http/reply';
import { RequestError } from '../../http/request-errors';
import { CookieWriter, readCookies } from './cookies';
import { newXsrfValue, requireXsrfPair, XSRF_HEADER } from './csrf';
import { sendError } from './errors';
import { studioOperations, type StudioOperation } from './operations';

const DOOR = 'crafter';
const XSRF_HEADER_NAME = XSRF_HEADER.toLowerCase();

/**
 * Crafter Studio's security API v1 under `config.crafterPrefix`: login.json, logout.json, validate-session.json,
 * each a direct route (any method reaches it, so that a wrong one gets Studio's 405); any other file under
 * the API is an Express route answering Studio's 404.
 */
export function crafterDoor(config: DoorSettings['crafter'], core: Core): DoorRoutes {
  const base = `${config.crafterPrefix}/api/1/services/api/1/security`;
  // Behind a proxy that strips DUALGATE_PUBLIC_URL's path prefix, or mounted, the browser sees the door under
  // that prefix: the exchange's mount path (cookieScopeOf) puts it in front of every cookie's Path.
  const cookies = new CookieWriter(config.crafterPrefix);
  const direct = studioOperations(core, config, cookies).map((operation) => ({
    path: `${base}/${operation.file}`,
    handle: (req: IncomingMessage, res: ServerResponse) => answer(operation, cookies, req, res),
  }));
  const router = Router();
  router.all(`${base}/*rest`, (req, res) => {
    begin(req, res);
    sendError(res, new RequestError('UnknownOperation', `No such operation: ${req.path}`));
  });
  return { router, direct };
}

/** Marks the request as this door's, and keeps every answer out of caches: each sets a token or describes a session. */
function begin(req: IncomingMessage, res: ServerResponse): RequestContext {
  setHeaders(res, NO_STORE);
  return requestContext(req, res, DOOR);
}

/** What every call goes through: method, XSRF cookie and pair, the operation, then the answer or the error. */
async function answer(operation: StudioOperation, cookies: CookieWriter, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const exchange = exchangeOf(res);
  exchange.operation = operation.name;
  const ctx = begin(req, res);
  const scope = cookieScopeOf(res);
  try {
    if (req.method !== operation.method && !(operation.method === 'GET' && req.method === 'HEAD')) {
      res.setHeader('Allow', operation.method === 'GET' ? 'GET, HEAD' : operation.method);
      throw new RequestError('MethodNotAllowed', `${operation.file} takes ${operation.method}`);
    }
    const sent = readCookies(req);
    // Set at once, so that an error answer below still hands the browser its XSRF cookie.
    if (operation.issuesXsrf && sent.xsrf === undefined) addCookies(res, [cookies.xsrf(newXsrfValue(), scope)]);
    if (operation.csrf) requireXsrfPair(sent.xsrf, req.headers[XSRF_HEADER_NAME] as string | undefined);
    const { body, setCookies = [] } = await operation.run({ req, res, ctx, cookies: sent, scope });
    addCookies(res, setCookies);
    replyJson(res, 200, body);
  } catch (err) {
    sendError(res, err);
  }
}

function addCookies(res: ServerResponse, lines: string[]): void {
  if (lines.length === 0) return;
  const set = res.getHeader('Set-Cookie');
  res.setHeader('Set-Cookie', [...(set === undefined ? [] : Array.isArray(set) ? set : [String(set)]), ...lines]);
}
