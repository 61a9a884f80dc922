import type { IncomingMessage, ServerResponse } from 'node:http';
import { exchangeOf } from './exchange';

/** The scheme, host and port the client used, for addresses we hand back (a WSDL's soap:address). */
export function baseUrlOf(req: IncomingMessage, res: ServerResponse): string {
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  return `${exchangeOf(res).protocol}://${host}`;
}
