import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config';
import type { Core, RequestContext } from '../../core';
import { requestContext } from '../../http/context';
import { RequestError } from '../../http/request-errors';
import { CookieWriter, readCookies } from './cookies';
import { newXsrfValue, requireXsrfPair, XSRF_HEADER } from './csrf';
import { sendError } from './errors';
import { studioOperations, type StudioOperation } from './operations';

const DOOR = 'crafter';

/** Crafter Studio's security API v1 under `config.crafterPrefix`: login.json, logout.json, validate-session.json. */
export function crafterDoor(config: Config, core: Core): Router {
  const base = `${config.crafterPrefix}/api/1/services/api/1/security`;
  const cookies = new CookieWriter(config.crafterPrefix);
  const router = Router();
  for (const operation of studioOperations(core, config, cookies)) {
    router.all(`${base}/${operation.file}`, (req, res) => answer(operation, cookies, req, res));
  }
  router.all(`${base}/*rest`, (req, res) => {
    begin(req, res);
    sendError(res, new RequestError('UnknownOperation', `No such operation: ${req.path}`));
  });
  return router;
}

/** Marks the request as this door's, and keeps every answer out of caches: each sets a token or describes a session. */
function begin(req: Request, res: Response): RequestContext {
  res.set('Cache-Control', 'no-store');
  return requestContext(req, res, DOOR);
}

/** What every call goes through: method, XSRF cookie and pair, the operation, then the answer or the error. */
async function answer(operation: StudioOperation, cookies: CookieWriter, req: Request, res: Response): Promise<void> {
  res.locals.operation = operation.name;
  const ctx = begin(req, res);
  try {
    if (req.method !== operation.method && !(operation.method === 'GET' && req.method === 'HEAD')) {
      res.set('Allow', operation.method === 'GET' ? 'GET, HEAD' : operation.method);
      throw new RequestError('MethodNotAllowed', `${operation.file} takes ${operation.method}`);
    }
    const sent = readCookies(req);
    if (operation.issuesXsrf && sent.xsrf === undefined) res.append('Set-Cookie', cookies.xsrf(newXsrfValue(), req.secure));
    if (operation.csrf) requireXsrfPair(sent.xsrf, req.get(XSRF_HEADER));
    const { body, setCookies = [] } = await operation.run({ req, res, ctx, cookies: sent, secure: req.secure });
    for (const cookie of setCookies) res.append('Set-Cookie', cookie);
    res.status(200).json(body);
  } catch (err) {
    sendError(res, err);
  }
}
