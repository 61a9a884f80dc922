import type { Request } from 'express';

/** The scheme, host and port the client used, for addresses we hand back (a WSDL's soap:address). */
export function baseUrlOf(req: Request): string {
  const host = req.get('host') ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  return `${req.protocol}://${host}`;
}

export function clientIpOf(req: Request): string | null {
  return req.ip ?? req.socket.remoteAddress ?? null;
}
