import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config';
import type { Core } from '../../core';
import { readJsonObject } from '../../http/body';
import { requestContext } from '../../http/context';
import { RequestError } from '../../http/request-errors';
import { zatoError } from './errors';
import { callService, elementOf, SERVICES, type FieldSource, type Reply, type ZatoService } from './services';

const byName = new Map(SERVICES.map((service) => [service.name, service]));
const LOG_IN = byName.get('zato.security.jwt.log-in')!;
const LOG_OUT = byName.get('zato.security.jwt.log-out')!;

/**
 * `POST /zato/json/<service>` for every service of the table, and the Zato 3 style aliases
 * `POST /zato/jwt/log-in` and `POST /zato/jwt/log-out`.
 */
export function zatoJson(config: Config, core: Core, door: string): Router {
  const router = Router();
  const input = (req: Request, res: Response) => async (): Promise<FieldSource> => {
    const body = await readJsonObject(req, res, config.jsonLimit);
    return (name) => (Object.hasOwn(body, name) ? body[name] : undefined);
  };

  router.post('/zato/json/:service', async (req, res) => {
    const ctx = requestContext(req, res, door);
    try {
      const name = req.params.service as string;
      const service = byName.get(name);
      if (!service) throw new RequestError('UnknownOperation', `Unknown service: ${name.slice(0, 128)}`);
      res.locals.operation = service.name;
      const reply = await callService(service, core, { ctx, authorization: req.get('authorization'), input: input(req, res) });
      res.status(200).json(responseBody(service, res.locals.cid as string, reply));
    } catch (err) {
      sendError(res, err);
    }
  });

  router.post('/zato/jwt/log-in', async (req, res) => {
    const ctx = requestContext(req, res, door);
    res.locals.operation = LOG_IN.name;
    try {
      const reply = await callService(LOG_IN, core, { ctx, authorization: undefined, input: input(req, res) });
      const token = reply.kind === 'item' ? String(reply.item.token) : '';
      res.status(200).set('Authorization', token).json({ token });
    } catch (err) {
      sendError(res, err);
    }
  });

  router.post('/zato/jwt/log-out', async (req, res) => {
    const ctx = requestContext(req, res, door);
    res.locals.operation = LOG_OUT.name;
    const token = bearerToken(req.get('authorization'));
    if (token === undefined) {
      res.locals.outcome = 'error';
      res.status(400).json({ result: 'No JWT found' });
      return;
    }
    try {
      await callService(LOG_OUT, core, { ctx, authorization: undefined, input: async () => (name) => (name === 'token' ? token : undefined) });
      res.status(200).json({});
    } catch (err) {
      sendError(res, err);
    }
  });

  return router;
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

function sendError(res: Response, err: unknown): void {
  const error = zatoError(err);
  res.locals.error = err;
  res.locals.outcome = 'error';
  res
    .status(error.status)
    .set(error.headers)
    .json({ zato_env: { result: 'ZATO_ERROR', cid: res.locals.cid as string, details: error.message } });
}
