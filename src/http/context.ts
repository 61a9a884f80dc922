import type { Request, Response } from 'express';
import type { RequestContext } from '../core';
import { clientIpOf } from './client';

/** The core's view of this request; also marks the door for the request log line. */
export function requestContext(req: Request, res: Response, door: string): RequestContext {
  res.locals.door = door;
  return {
    cid: res.locals.cid as string,
    door,
    clientIp: clientIpOf(req),
    userAgent: req.get('user-agent')?.slice(0, 256) ?? null,
  };
}
