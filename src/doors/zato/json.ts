import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { readJsonObject } from '../../http/body';
import { requestContext } from '../../http/context';
import type { Exchange } from '../../http/exchange';
import { replyJson } from '../../http/reply';
import { RequestError } from '../../http/request-errors';
import type { Route } from '../../http/routes';
import { zatoError } from './errors';
import { callService, elementOf, SERVICES, type FieldSource, type Reply, type ZatoService } from './services';

const byName = new Map(SERVICES.map((service) => [service.name, service]));
const LOG_IN = byName.get('zato.security.jwt.log-in')!;
const LOG_OUT = byName.get('zato.security.jwt.log-out')!;

/**
 * `POST /zato/json/<service>` for every service of the table (the seeds' own paths), and the Zato 3 style
 * aliases `POST /zato/jwt/log-in` and `POST /zato/jwt/log-out`.
 */
export function zatoJson(config: DoorSettings['zato'], core: Core): Route[] {
  const input = (x: Exchange) => async (): Promise<FieldSource> => {
    const body = await readJsonObject(x.req, config.jsonLimit);
    return (name) => (Object.hasOwn(body, name) ? body[name] : undefined);
  };

  /** One call of `/zato/json/<name>`: the service of that name (matched exactly), or the unknown service's error. */
  const service: Route = {
    methods: ['POST'],
    path: '/zato/json/:service',
    async handle(x) {
      const name = x.params.service ?? '';
      const found = byName.get(name);
      if (!found) throw new RequestError('UnknownOperation', `Unknown service: ${name.slice(0, 128)}`);
      x.operation = found.name;
      const reply = await callService(found, core, { ctx: requestContext(x), authorization: x.req.headers.authorization, input: input(x) });
      replyJson(x.res, 200, responseBody(found, x.cid, reply));
    },
  };

  const logIn: Route = {
    methods: ['POST'],
    path: '/zato/jwt/log-in',
    operation: LOG_IN.name,
    async handle(x) {
      const reply = await callService(LOG_IN, core, { ctx: requestContext(x), authorization: undefined, input: input(x) });
      const token = reply.kind === 'item' ? String(reply.item.token) : '';
      replyJson(x.res, 200, { token }, { Authorization: token });
    },
  };

  const logOut: Route = {
    methods: ['POST'],
    path: '/zato/jwt/log-out',
    operation: LOG_OUT.name,
    async handle(x) {
      const token = bearerToken(x.req.headers.authorization);
      if (token === undefined) throw new RequestError('MissingToken', 'No JWT found');
      await callService(LOG_OUT, core, {
        ctx: requestContext(x),
        authorization: undefined,
        input: async () => (name) => (name === 'token' ? token : undefined),
      });
      replyJson(x.res, 200, {});
    },
  };

  return [service, logIn, logOut];
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

/** The door's JSON error: `zato_env` with ZATO_ERROR, or Zato 3's bare `{"result": ...}`, from the one table. */
export function sendJsonError(x: Exchange, err: unknown): void {
  const error = zatoError(err);
  const body = error.bare ? { result: error.message } : { zato_env: { result: 'ZATO_ERROR', cid: x.cid, details: error.message } };
  replyJson(x.res, error.status, body, error.headers);
}
