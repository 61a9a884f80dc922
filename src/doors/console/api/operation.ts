import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import type { RequestContext } from '../../../core';
import { readJsonObject } from '../../../http/body';
import type { CookieScope } from '../../../http/client';
import type { Exchange } from '../../../http/exchange';
import { RequestError } from '../../../http/request-errors';
import type { Operator } from '../auth';

/** One call as an operation sees it. */
export interface ConsoleCall {
  /** The request (its query: `queryOf(x)`; its path's parameters: `x.params`). */
  x: Exchange;
  /** The request's context; for an admin operation it names the admin (`actor`), for the audit rows. */
  ctx: RequestContext;
  /** The console session cookie's token, if the request carried one. */
  token: string | undefined;
  /** Set for admin operations: the admin behind the session. */
  operator: Operator | undefined;
  /** `Secure` for the cookie when the request came over HTTPS, and the mount path its `Path` starts with. */
  scope: CookieScope;
}

export interface ConsoleAnswer {
  status?: number;
  body: object;
  setCookies?: string[];
  /** Instead of `body` as JSON: a file the browser saves, written to the response as it is read. */
  download?: { filename: string; type: string; write(to: Writable): Promise<void> };
}

/** One call of the console's JSON API: where it is, who may make it, and what it does over the core. */
export interface ConsoleOperation {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Under /console/api. */
  path: string;
  /**
   * `admin`: a live console session of an active admin account, and for anything but GET the CSRF header.
   * `public`: log-in and log-out, which check what they need themselves.
   */
  access: 'public' | 'admin';
  run(call: ConsoleCall): Promise<ConsoleAnswer>;
}

/**
 * A body of this API: JSON, said to be JSON. The Content-Type matters here because it keeps other sites out
 * of the log-in, the one call no session protects: a form can post `text/plain` that parses as JSON, but
 * only a script can send `application/json`, and a browser lets a script do that cross-site only after a
 * CORS preflight this server never grants.
 */
export async function jsonBody(call: ConsoleCall, limit: number): Promise<Record<string, unknown>> {
  if (!saysJson(call.x.req)) {
    throw new RequestError('MalformedJson', 'The request body must be JSON, sent as Content-Type: application/json');
  }
  return readJsonObject(call.x.req, limit);
}

/** A body is announced (`Content-Length` or `Transfer-Encoding`) as `application/json`, parameters aside. */
function saysJson(req: IncomingMessage): boolean {
  const announced = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  return announced && (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** The admin behind an admin operation (the dispatcher has checked the session before the operation runs). */
export function operatorOf(call: ConsoleCall): Operator {
  if (!call.operator) throw new Error('admin operation without an operator');
  return call.operator;
}
