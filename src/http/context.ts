import type { RequestContext } from '../core';
import type { Exchange } from './exchange';

/** The core's view of this request: who asks, through which door, from where. */
export function requestContext(x: Exchange): RequestContext {
  return {
    cid: x.cid,
    door: x.door ?? 'gateway',
    clientIp: x.clientIp,
    userAgent: x.req.headers['user-agent']?.slice(0, 256) ?? null,
  };
}
