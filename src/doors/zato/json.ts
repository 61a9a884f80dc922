import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router, type Request } from 'express';
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
  const input = (req: Request) => async (): Promise<FieldSource> => {
    const body = await readJsonObject(req, config.jsonLimit);
    return (name) => (Object.hasOwn(body, name) ? body[name] : undefined);
  };

  router.post('/zato/json/:service', async (req, res) => {
    const ctx = requestContext(req, res, door);
    try {
      const name = req.params.service as string;
      const service = byName.get(name);
      if (!service) throw new RequestError('UnknownOperation', `Unknown service: ${name.slice(0, 128)}`);
      res.locals.operation = service.name;
      const reply = await callService(service, core, { ctx, authorization: req.get('authorization'), input: input(req) });
      replyJson(res, 200, responseBody(service, ctx.cid!, reply));
    } catch (err) {
      sendError(res, err);
    }
  });

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
    if (token === undefined) {
      exchange.outcome = 'error';
      replyJson(res, 400, { result: 'No JWT found' });
      return;
    }
    try {
      await callService(LOG_OUT, core, { ctx, authorization: undefined, input: async () => (name) => (name === 'token' ? token : undefined) });
      replyJson(res, 200, {});
    } catch (err) {
      sendError(res, err);
    }
  };

  return { router, direct: [{ path: '/zato/jwt/log-out', methods: ['POST'], handle: logOut }] };
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
  replyJson(res, error.status, { zato_env: { result: 'ZATO_ERROR', cid: exchange.cid, details: error.message } }, error.headers);
}
