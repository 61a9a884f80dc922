import { create as attachmentHeader } from 'content-disposition';
import type { DoorSettings } from '../../../config';
import { Forbidden, type Core } from '../../../core';
import { cookieScopeOf } from '../../../http/client';
import { requestContext } from '../../../http/context';
import type { Exchange } from '../../../http/exchange';
import { NO_STORE, replyJson } from '../../../http/reply';
import { RequestError } from '../../../http/request-errors';
import type { Route } from '../../../http/routes';
import { CONSOLE_PATH, csrfHeaderOf, expiredCookieLine, requireCsrf, requireOperator, sessionCookie, type Operator } from '../auth';
import { consoleOperations } from './index';
import type { ConsoleOperation } from './operation';

const API = `${CONSOLE_PATH}/api`;

/**
 * The API as routes of the one table: one route for each path, which every method reaches, so that a verb
 * the path does not take gets the console's 405 with `Allow`; and any other path under /console/api the
 * console's 404. Every answer of the API, errors included, is `no-store`.
 */
export function apiRoutes(core: Core, config: DoorSettings['console']): Route[] {
  const byPath = new Map<string, ConsoleOperation[]>();
  for (const operation of consoleOperations(core, config)) {
    byPath.set(operation.path, [...(byPath.get(operation.path) ?? []), operation]);
  }
  const routes: Route[] = [...byPath].map(([path, operations]) => ({
    methods: 'any',
    path: `${API}${path}`,
    headers: NO_STORE,
    async handle(x) {
      const operation = operations.find((op) => op.method === x.req.method || (op.method === 'GET' && x.req.method === 'HEAD'));
      if (operation) return answer(core, operation, x);
      const allowed = operations.flatMap((op) => (op.method === 'GET' ? ['GET', 'HEAD'] : [op.method]));
      x.res.setHeader('Allow', allowed.join(', '));
      throw new RequestError('MethodNotAllowed', `${API}${path} takes ${allowed.join(', ')}`);
    },
  }));
  routes.push({
    methods: 'any',
    path: `${API}/*`,
    headers: NO_STORE,
    async handle() {
      throw new RequestError('UnknownOperation', 'No such console API call');
    },
  });
  return routes;
}

/**
 * Every API call: authenticate (admin operations), check CSRF (admin operations that change something), run,
 * answer. What it throws, the door's error table answers.
 */
async function answer(core: Core, operation: ConsoleOperation, x: Exchange): Promise<void> {
  x.operation = operation.name;
  const base = requestContext(x);
  const token = sessionCookie(x.req);
  const scope = cookieScopeOf(x);
  let operator: Operator | undefined;
  if (operation.access === 'admin') {
    try {
      operator = await requireOperator(core, token, base);
    } catch (err) {
      // A cookie that no longer opens the console is dropped, so the browser stops sending it.
      const refused = err instanceof Forbidden || (err instanceof RequestError && err.code === 'Unauthenticated');
      if (refused && token !== undefined) x.res.appendHeader('Set-Cookie', expiredCookieLine(scope));
      throw err;
    }
    if (operation.method !== 'GET') requireCsrf(operator.token, csrfHeaderOf(x.req));
  }
  const result = await operation.run({ x, ctx: operator?.ctx ?? base, token, operator, scope });
  for (const line of result.setCookies ?? []) x.res.appendHeader('Set-Cookie', line);
  if (!result.download) {
    replyJson(x.res, result.status ?? 200, result.body);
    return;
  }
  const { download } = result;
  x.res.statusCode = result.status ?? 200;
  x.res.setHeader('Content-Type', download.type);
  x.res.setHeader('Content-Disposition', attachmentHeader(download.filename));
  // HEAD: the headers alone, without reading the rows.
  if (x.req.method === 'HEAD') {
    x.res.end();
    return;
  }
  try {
    await download.write(x.res);
  } catch (err) {
    // Failed before the first byte: the error table answers, and it is no file to save. Once bytes are out,
    // the pipeline cuts the connection, so the file is visibly incomplete rather than silently short.
    if (!x.res.headersSent) x.res.removeHeader('Content-Disposition');
    throw err;
  }
}
