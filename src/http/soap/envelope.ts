import { RequestError } from '../request-errors';
import type { XmlElement } from './guard';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';

export interface SoapRequest {
  headers: XmlElement[];
  body: XmlElement;
}

/** Takes a SOAP 1.1 envelope apart: its header entries and the one element of its body. */
export function readEnvelope(root: XmlElement): SoapRequest {
  if (root.name !== 'Envelope') throw new RequestError('NotSoap', 'The request is not a SOAP envelope');
  if (root.ns !== SOAP11_NS) {
    // SOAP 1.1 §4.4.1: an envelope of another namespace is a version mismatch, SOAP 1.2's included.
    throw new RequestError('VersionMismatch', `Only SOAP 1.1 envelopes (${SOAP11_NS}) are accepted`);
  }
  const parts = root.children.filter((c) => c.ns === SOAP11_NS);
  const header = parts.find((c) => c.name === 'Header');
  const body = parts.find((c) => c.name === 'Body');
  if (!body) throw new RequestError('NotSoap', 'The SOAP envelope has no Body');
  if (body.children.length !== 1) {
    throw new RequestError('NotSoap', `The SOAP Body must hold exactly one element, not ${body.children.length}`);
  }
  return { headers: header?.children ?? [], body: body.children[0]! };
}
