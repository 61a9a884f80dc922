import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const XML_TYPE = 'text/xml; charset=utf-8';
/** SOAP 1.2's media type (RFC 3902). */
export const SOAP12_TYPE = 'application/soap+xml; charset=utf-8';

/** On every answer that carries or concerns a token, a session or an account: no cache may keep it. */
export const NO_STORE = { 'Cache-Control': 'no-store' } as const;

export function setHeaders(res: ServerResponse, headers: OutgoingHttpHeaders): void {
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined) res.setHeader(name, value);
  }
}

/** Sends a whole answer at once; headers set earlier on `res` are kept, `headers` are added. */
export function reply(res: ServerResponse, status: number, contentType: string, body: string, headers?: OutgoingHttpHeaders): void {
  if (headers) setHeaders(res, headers);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** `value` as JSON, byte for byte what Express's `res.json` sends. */
export function replyJson(res: ServerResponse, status: number, value: unknown, headers?: OutgoingHttpHeaders): void {
  reply(res, status, JSON_TYPE, JSON.stringify(value), headers);
}
