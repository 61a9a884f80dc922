import type { Exchange } from './exchange';

/** A host name or address with an optional port, as `Host` carries it; anything else is never echoed. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/;

/** The first value of a header a proxy may have appended to, if it is a host. */
function hostFrom(header: string | string[] | undefined): string | undefined {
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
  return first !== undefined && HOST.test(first) ? first : undefined;
}

/**
 * The scheme, host, port and path prefix of the addresses we hand back (a WSDL's soap:address, OpenAPI's
 * servers, xWeb's faultactor): DUALGATE_PUBLIC_URL when set; else as a trusted proxy forwarded the request
 * (X-Forwarded-Host, X-Forwarded-Proto); else as the client reached us (`Host`).
 */
export function baseUrlOf(exchange: Exchange): string {
  const { req } = exchange;
  if (exchange.publicUrl !== undefined) return exchange.publicUrl;
  const host =
    (exchange.viaProxy ? hostFrom(req.headers['x-forwarded-host']) : undefined) ??
    hostFrom(req.headers.host) ??
    `${req.socket.localFamily === 'IPv6' ? `[${req.socket.localAddress}]` : req.socket.localAddress}:${req.socket.localPort}`;
  return `${exchange.protocol}://${host}${exchange.mountPath}`;
}

/** What a cookie set in answer to this request needs: `Secure` or not, and the path its `Path` starts with. */
export interface CookieScope {
  secure: boolean;
  /** The mount path, after DUALGATE_PUBLIC_URL's path prefix when there is one. */
  mountPath: string;
}

export function cookieScopeOf(exchange: Exchange): CookieScope {
  return { secure: exchange.protocol === 'https', mountPath: exchange.mountPath };
}
