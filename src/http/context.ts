import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../core';
import { exchangeOf } from './exchange';

/** The core's view of this request; also marks the door for the request log line. */
export function requestContext(req: IncomingMessage, res: ServerResponse, door: string): RequestContext {
  const exchange = exchangeOf(res);
  exchange.door = door;
  return {
    cid: exchange.cid,
    door,
    clientIp: exchange.clientIp,
    userAgent: req.headers['user-agent']?.slice(0, 256) ?? null,
  };
}
