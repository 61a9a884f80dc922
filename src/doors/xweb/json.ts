import type { IncomingMessage } from 'node:http';
import { BadInput } from '../../core';
import { readJsonObject } from '../../http/body';
import { basicCredentials } from '../../http/credentials';
import { requestContext } from '../../http/context';
import { queryOf, type Exchange } from '../../http/exchange';
import { replyJson } from '../../http/reply';
import { RequestError } from '../../http/request-errors';
import type { Route } from '../../http/routes';
import { describeError } from './errors';
import type { Caller } from './integrator';
import { findOperation, perform, type Params, type XwebDeps, type XwebOperation } from './operations';

/** JSON over xWeb: `POST {"<Method>": {...}}` or `GET ?field=...`, the integrator by Bearer token or Basic. */
export function xwebJsonRoute(deps: XwebDeps, jsonLimit: number): Route {
  return {
    // Every method reaches it: a wrong one is the method's own 405, with its Allow.
    methods: 'any',
    path: '/xweb/JSON/:method',
    async handle(x) {
      const method = x.params.method ?? '';
      const op = findOperation(method);
      if (!op) throw new RequestError('UnknownOperation', `Unknown method: ${method.slice(0, 128)}`);
      x.operation = op.name;
      const params = await paramsOf(op, x, jsonLimit);
      const performed = await perform(deps, op, params, callerOf(x.req), requestContext(x));
      const body = op.integrator ? {} : { Token: performed.token };
      replyJson(x.res, 200, performed.result === undefined ? body : { ...body, [`${op.name}Result`]: performed.result }, {
        'WWW-Authenticate': `Bearer token = ${performed.token}`,
      });
    },
  };
}

/** The door's JSON error (`{"Message", "ExceptionType"}`), from the one table, with the headers it calls for. */
export function sendJsonError(x: Exchange, err: unknown): void {
  const op = findOperation(x.params.method ?? '');
  const wire = describeError(err, op, x.cid);
  const headers: Record<string, string> = { ...wire.headers };
  if (wire.status === 405 && op) headers.Allow = op.get ? 'GET, POST' : 'POST';
  if (wire.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="xWeb"';
  replyJson(x.res, wire.status, { Message: wire.message, ExceptionType: `${wire.kind}Exception` }, headers);
}

/** The fields from the query string (GET) or from the body's `{"<Method>": {...}}` (POST). */
async function paramsOf(op: XwebOperation, x: Exchange, jsonLimit: number): Promise<Params> {
  const { req } = x;
  if (req.method === 'GET' && op.get) return pick(op, queryOf(x), 'query parameter');
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
function callerOf(req: IncomingMessage): Caller {
  const header = req.headers.authorization;
  const basic = basicCredentials(header);
  if (basic) return { scheme: 'basic', ...basic };
  const [scheme, credentials = ''] = (header ?? '').trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme ?? '') && credentials !== '') return { scheme: 'token', token: credentials };
  return { scheme: 'token', token: undefined };
}
