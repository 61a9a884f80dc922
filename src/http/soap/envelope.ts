import { RequestError } from '../request-errors';
import type { XmlElement } from './guard';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';

export type SoapVersion = '1.1' | '1.2';

export const ENVELOPE_NS: Record<SoapVersion, string> = { '1.1': SOAP11_NS, '1.2': SOAP12_NS };

export interface SoapRequest {
  version: SoapVersion;
  headers: XmlElement[];
  body: XmlElement;
}

/**
 * Takes an envelope apart: its header entries and the one element of its body. `expected` is the version the
 * request's media type announced (`text/xml`: 1.1, `application/soap+xml`: 1.2, as ASMX tells them); an
 * envelope of another namespace is a version mismatch, and so is one of a version the door does not speak.
 * What two readers could read differently (a second Header or Body) is refused rather than guessed at.
 */
export function readEnvelope(root: XmlElement, expected: SoapVersion, accepted: readonly SoapVersion[]): SoapRequest {
  if (root.name !== 'Envelope') throw new RequestError('NotSoap', 'The request is not a SOAP envelope');
  const ns = ENVELOPE_NS[expected];
  if (root.ns !== ns || !accepted.includes(expected)) {
    throw new RequestError('VersionMismatch', versionMessage(expected, accepted));
  }
  let header: XmlElement | undefined;
  let body: XmlElement | undefined;
  let headers = 0;
  let bodies = 0;
  for (const part of root.children) {
    if (part.ns !== ns) continue;
    if (part.name === 'Header') {
      header = part;
      headers++;
    } else if (part.name === 'Body') {
      body = part;
      bodies++;
    }
  }
  if (headers > 1) throw new RequestError('Ambiguous', `The SOAP envelope has ${headers} Header elements; one at most is allowed`);
  if (bodies > 1) throw new RequestError('Ambiguous', `The SOAP envelope has ${bodies} Body elements; exactly one is allowed`);
  if (!body) throw new RequestError('NotSoap', 'The SOAP envelope has no Body');
  if (body.children.length !== 1) {
    throw new RequestError('NotSoap', `The SOAP Body must hold exactly one element, not ${body.children.length}`);
  }
  return { version: expected, headers: header?.children ?? [], body: body.children[0]! };
}

function versionMessage(expected: SoapVersion, accepted: readonly SoapVersion[]): string {
  if (!accepted.includes(expected)) {
    // SOAP 1.1 §4.4.1: an envelope of another namespace is a version mismatch, SOAP 1.2's included.
    const only = accepted[0]!;
    return `Only SOAP ${only} envelopes (${ENVELOPE_NS[only]}) are accepted`;
  }
  if (accepted.length === 1) return `Only SOAP ${expected} envelopes (${ENVELOPE_NS[expected]}) are accepted`;
  return expected === '1.1'
    ? `Only SOAP 1.1 envelopes (${SOAP11_NS}) are accepted as text/xml; send SOAP 1.2 as application/soap+xml`
    : `Only SOAP 1.2 envelopes (${SOAP12_NS}) are accepted as application/soap+xml; send SOAP 1.1 as text/xml`;
}
