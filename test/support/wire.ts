import { parseUntrustedXml, type XmlElement } from '../../src/http/soap/guard';

/** The nil GUID: xWeb's `WebValidate` answer for a dead session, and a token no server ever issued. */
export const NIL_GUID = '00000000-0000-0000-0000-000000000000';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

/** An `Authorization` header value for HTTP Basic (UTF-8, as RFC 7617's `charset="UTF-8"` asks). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** The headers a SOAP 1.1 client sends: text/xml, and the SOAPAction quoted (none when `action` is undefined). */
export function soapHeaders(action?: string): Record<string, string> {
  return { 'Content-Type': 'text/xml; charset=utf-8', ...(action === undefined ? {} : { SOAPAction: `"${action}"` }) };
}

export interface SoapReply {
  status: number;
  headers: Headers;
  text: string;
}

/** POSTs an envelope to `url` as a SOAP 1.1 client would; `headers` add to (or replace) the SOAP ones. */
export async function postSoap(url: string, xml: string | Buffer, action?: string, headers: Record<string, string> = {}): Promise<SoapReply> {
  const res = await fetch(url, { method: 'POST', headers: { ...soapHeaders(action), ...headers }, body: xml });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export interface SoapFault {
  faultcode: string;
  faultstring: string;
  /** Empty when the fault has none. */
  faultactor: string;
  /** The first element in `detail`, when there is one. */
  detail: XmlElement | undefined;
}

/** The `Fault` in an envelope's body (text or already read); fails the test when the body holds none. */
export function readFault(envelope: string | XmlElement): SoapFault {
  const root = typeof envelope === 'string' ? parseUntrustedXml(Buffer.from(envelope)) : envelope;
  const fault = root.children.find((c) => c.name === 'Body')?.children.find((c) => c.name === 'Fault');
  if (!fault) throw new Error(`not a fault: ${typeof envelope === 'string' ? envelope.slice(0, 300) : root.name}`);
  const child = (name: string) => fault.children.find((c) => c.name === name);
  return {
    faultcode: child('faultcode')?.text ?? '',
    faultstring: child('faultstring')?.text ?? '',
    faultactor: child('faultactor')?.text ?? '',
    detail: child('detail')?.children[0],
  };
}
