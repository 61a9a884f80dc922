import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { readJsonObject } from '../../http/body';
import { requestContext } from '../../http/context';
import { exchangeOf } from '../../http/exchange';
import type { DoorRoutes } from '../../http/front';
import { replyJson } from '../../http/reply';
import { RequestError } from '../../http/request-errors';
import { zatoError } from './errors';
import { callService, elementOf, SERVICES, type FieldSource, type Reply, type ZatoService } from './services';

const byName = new Map(SERVICES.map((service) => [service.name, service]));
const LOG_IN = byName.get('zato.security.jwt.log-in')!;
const LOG_OUT = byName.get('zato.security.jwt.log-out')!;

/**
 * `POST /zato/json/<service>` for every service of the table, and the Zato 3 style aliases
 * `POST /zato/jwt/log-in` and `POST /zato/jwt/log-out` (a direct route: the hot path of the door).
 */
export function zatoJson(config: DoorSettings['zato'], core: Core, door: string): DoorRoutes {
  const router = Router();
  const input = (req: IncomingMessage) => async (): Promise<FieldSource> => {
    const body = await readJsonObject(req, config.jsonLimit);
    return (name) => (Object.hasOwn(body, name) ? body[name] : undefined);
  };

  /** One call of `/zato/json/<name>`: the service of that name, or the unknown service's error. */
  const serve = async (name: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const ctx = requestContext(req, res, door);
    try {
      const service = byName.get(name);
      if (!service) throw new RequestError('UnknownOperation', `Unknown service: ${name.slice(0, 128)}`);
      exchangeOf(res).operation = service.name;
      const reply = await callService(service, core, { ctx, authorization: req.headers.authorization, input: input(req) });
      replyJson(res, 200, responseBody(service, ctx.cid!, reply));
    } catch (err) {
      sendError(res, err);
    }
  };
  router.post('/zato/json/:service', (req, res) => serve(req.params.service as string, req, res));
  // Each service's own path is also a direct route (the seeds' log-out first among them). The front matches a
  // path in any case, as Express does, but a service name is matched exactly: another spelling is unknown.
  const direct = SERVICES.map((service) => ({
    path: `/zato/json/${service.name}`,
    methods: ['POST'],
    handle: (req: IncomingMessage, res: ServerResponse) => serve(lastSegment(req.url ?? ''), req, res),
  }));

  router.post('/zato/jwt/log-in', async (req, res) => {
    const ctx = requestContext(req, res, door);
    res.locals.operation = LOG_IN.name;
    try {
      const reply = await callService(LOG_IN, core, { ctx, authorization: undefined, input: input(req) });
      const token = reply.kind === 'item' ? String(reply.item.token) : '';
      replyJson(res, 200, { token }, { Authorization: token });
    } catch (err) {
      sendError(res, err);
    }
  });

  const logOut = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const ctx = requestContext(req, res, door);
    const exchange = exchangeOf(res);
    exchange.operation = LOG_OUT.name;
    const token = bearerToken(req.headers.authorization);
    try {
      if (token === undefined) throw new RequestError('MissingToken', 'No JWT found');
      await callService(LOG_OUT, core, { ctx, authorization: undefined, input: async () => (name) => (name === 'token' ? token : undefined) });
      replyJson(res, 200, {});
    } catch (err) {
      sendError(res, err);
    }
  };

  return { router, direct: [{ path: '/zato/jwt/log-out', methods: ['POST'], handle: logOut }, ...direct] };
}

/** The last segment of a request's path (a trailing slash and the query left out), as Express's `:service` has it. */
function lastSegment(url: string): string {
  const query = url.indexOf('?');
  const path = (query === -1 ? url : url.slice(0, query)).replace(/\/$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The token of `Authorization: Bearer <token>`, or of a bare `Authorization: <token>` (what log-in hands out). */
function bearerToken(header: string | undefined): string | undefined {
  const value = (header ?? '').trim();
  return (/^Bearer +(\S+)$/i.exec(value) ?? /^(?!Bearer$)(\S+)$/i.exec(value))?.[1];
}

/** The seeds' success body: `zato_env` (details, result, cid, in that order), then the reply under the response key. */
export function responseBody(service: ZatoService, cid: string, reply: Reply): Record<string, unknown> {
  const payload = reply.kind === 'item' ? reply.item : reply.kind === 'list' ? reply.items : reply.json;
  return { zato_env: { details: '', result: 'ZATO_OK', cid }, [`${elementOf(service)}_response`]: payload };
}

function sendError(res: ServerResponse, err: unknown): void {
  const error = zatoError(err);
  const exchange = exchangeOf(res);
  exchange.error = err;
  exchange.outcome = 'error';
  const body = error.bare ? { result: error.message } : { zato_env: { result: 'ZATO_ERROR', cid: exchange.cid, details: error.message } };
  replyJson(res, error.status, body, error.headers);
}
