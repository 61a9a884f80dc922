import type { IncomingMessage, ServerResponse } from 'node:http';
import { exchangeOf } from './exchange';

/**
 * The scheme, host and port the client used, and the mount path, for addresses we hand back (a WSDL's
 * soap:address, OpenAPI's servers).
 */
export function baseUrlOf(req: IncomingMessage, res: ServerResponse): string {
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  const exchange = exchangeOf(res);
  return `${exchange.protocol}://${host}${exchange.mountPath}`;
}

/** What a cookie set in answer to this request needs: `Secure` or not, and the mount path its `Path` starts with. */
export interface CookieScope {
  secure: boolean;
  mountPath: string;
}

export function cookieScopeOf(res: ServerResponse): CookieScope {
  const exchange = exchangeOf(res);
  return { secure: exchange.protocol === 'https', mountPath: exchange.mountPath };
}
