import { Router, type Request, type Response } from 'express';
import { BadInput } from '../../core';
import { readJsonObject } from '../../http/body';
import { basicCredentials } from '../../http/credentials';
import { requestContext } from '../../http/context';
import { RequestError } from '../../http/request-errors';
import { describeError } from './errors';
import type { Caller } from './integrator';
import { findOperation, perform, XWEB_DOOR, type Params, type XwebDeps, type XwebOperation } from './operations';

export const XWEB_JSON_PATH = '/xweb/JSON/:method';

/** JSON over xWeb: `POST {"<Method>": {...}}` or `GET ?field=...`, the integrator by Bearer token or Basic. */
export function xwebJsonRoutes(deps: XwebDeps, jsonLimit: number): Router {
  const router = Router();
  router.all(XWEB_JSON_PATH, async (req: Request<{ method: string }>, res: Response) => {
    const ctx = requestContext(req, res, XWEB_DOOR);
    const op = findOperation(req.params.method);
    res.locals.operation = op?.name ?? null;
    try {
      if (!op) throw new RequestError('UnknownOperation', `Unknown method: ${req.params.method.slice(0, 128)}`);
      const params = await paramsOf(op, req, jsonLimit);
      const performed = await perform(deps, op, params, callerOf(req), ctx);
      const body = op.integrator ? {} : { Token: performed.token };
      res
        .status(200)
        .set('WWW-Authenticate', `Bearer token = ${performed.token}`)
        .json(performed.result === undefined ? body : { ...body, [`${op.name}Result`]: performed.result });
    } catch (err) {
      const wire = describeError(err, op, ctx.cid!);
      res.locals.outcome = 'error';
      res.locals.error = err;
      if (wire.status === 405 && op) res.set('Allow', op.get ? 'GET, POST' : 'POST');
      if (wire.status === 401) res.set('WWW-Authenticate', 'Bearer realm="xWeb"');
      res.set(wire.headers);
      res.status(wire.status).json({ Message: wire.message, ExceptionType: `${wire.kind}Exception` });
    }
  });
  return router;
}

/** The fields from the query string (GET) or from the body's `{"<Method>": {...}}` (POST). */
async function paramsOf(op: XwebOperation, req: Request, jsonLimit: number): Promise<Params> {
  if (req.method === 'GET' && op.get) return pick(op, req.query as Record<string, unknown>, 'query parameter');
  if (req.method !== 'POST') {
    throw new RequestError('MethodNotAllowed', `${op.name} accepts ${op.get ? 'GET and POST' : 'POST only'}`);
  }
  const body = await readJsonObject(req, jsonLimit);
  const inner = body[op.name];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    throw new RequestError('MalformedJson', `The request body must be {"${op.name}": {...}}`);
  }
  return pick(op, inner as Record<string, unknown>, 'field');
}

/** The operation's fields out of `source`; each a string when given (null counts as absent), others ignored. */
function pick(op: XwebOperation, source: Record<string, unknown>, what: string): Params {
  const params: Record<string, string | undefined> = {};
  for (const { name } of op.fields) {
    const value = Object.hasOwn(source, name) ? source[name] : undefined;
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw new BadInput(name, 'invalid', `Invalid ${name}: the ${what} must be given once, as a string`);
    }
    params[name] = typeof value === 'string' ? value : undefined;
  }
  return params;
}

/** `Authorization: Bearer <token>` or HTTP Basic; anything else (a malformed Basic too) is no credential at all. */
function callerOf(req: Request): Caller {
  const header = req.get('authorization');
  const basic = basicCredentials(header);
  if (basic) return { scheme: 'basic', ...basic };
  const [scheme, credentials = ''] = (header ?? '').trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme ?? '') && credentials !== '') return { scheme: 'token', token: credentials };
  return { scheme: 'token', token: undefined };
}
