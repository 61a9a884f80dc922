import type { ServerResponse } from 'node:http';
import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { cookieScopeOf } from '../../http/client';
import { requestContext } from '../../http/context';
import type { Exchange } from '../../http/exchange';
import { NO_STORE, replyJson } from '../../http/reply';
import { RequestError } from '../../http/request-errors';
import type { Door, Route } from '../../http/routes';
import { CookieWriter, readCookies } from './cookies';
import { newXsrfValue, requireXsrfPair, XSRF_HEADER } from './csrf';
import { sendError } from './errors';
import { studioOperations, type StudioOperation } from './operations';

const XSRF_HEADER_NAME = XSRF_HEADER.toLowerCase();

/**
 * Crafter Studio's security API v1 under `config.crafterPrefix`: login.json, logout.json, validate-session.json
 * (any method reaches each, so that a wrong one gets Studio's 405); any other file under the API answers
 * Studio's 404.
 */
export function crafterDoor(config: DoorSettings['crafter'], core: Core): Door {
  const base = `${config.crafterPrefix}/api/1/services/api/1/security`;
  // Behind a proxy that strips DUALGATE_PUBLIC_URL's path prefix, or mounted, the browser sees the door under
  // that prefix: the exchange's mount path (cookieScopeOf) puts it in front of every cookie's Path.
  const cookies = new CookieWriter(config.crafterPrefix);
  const routes: Route[] = studioOperations(core, config, cookies).map((operation) => ({
    methods: 'any',
    path: `${base}/${operation.file}`,
    operation: operation.name,
    handle: (x) => answer(operation, cookies, x),
  }));
  routes.push({
    methods: 'any',
    path: `${base}/*`,
    handle: async (x) => {
      throw new RequestError('UnknownOperation', `No such operation: ${x.path}`);
    },
  });
  // Every answer sets a token or describes a session.
  return { name: 'crafter', headers: NO_STORE, routes, fail: sendError };
}

/** What every call goes through: method, XSRF cookie and pair, the operation, then the answer. */
async function answer(operation: StudioOperation, cookies: CookieWriter, x: Exchange): Promise<void> {
  const { req, res } = x;
  const scope = cookieScopeOf(x);
  if (req.method !== operation.method && !(operation.method === 'GET' && req.method === 'HEAD')) {
    res.setHeader('Allow', operation.method === 'GET' ? 'GET, HEAD' : operation.method);
    throw new RequestError('MethodNotAllowed', `${operation.file} takes ${operation.method}`);
  }
  const sent = readCookies(req);
  // Set at once, so that an error answer still hands the browser its XSRF cookie.
  if (operation.issuesXsrf && sent.xsrf === undefined) addCookies(res, [cookies.xsrf(newXsrfValue(), scope)]);
  if (operation.csrf) requireXsrfPair(sent.xsrf, req.headers[XSRF_HEADER_NAME] as string | undefined);
  const { body, setCookies = [] } = await operation.run({ req, res, ctx: requestContext(x), cookies: sent, scope });
  addCookies(res, setCookies);
  replyJson(res, 200, body);
}

function addCookies(res: ServerResponse, lines: string[]): void {
  if (lines.length === 0) return;
  const set = res.getHeader('Set-Cookie');
  res.setHeader('Set-Cookie', [...(set === undefined ? [] : Array.isArray(set) ? set : [String(set)]), ...lines]);
}
