import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setHeaders } from '../../http/reply';
import type { SoapCall, SoapDoor } from '../../http/soap/endpoint';
import { SOAP11_NS, type SoapRequest } from '../../http/soap/envelope';
import { child, type XmlElement } from '../../http/soap/guard';
import { textElement } from '../../http/soap/markup';
import { describeError } from './errors';
import type { Caller } from './integrator';
import { findOperation, OPERATIONS, perform, XWEB_DOOR, XWEB_NS, type Params, type Performed, type XwebDeps, type XwebOperation } from './operations';

export const XWEB_SOAP_PATH = '/xweb/secure/netForumXML.asmx';
const WSDL_FILE = join(__dirname, '..', '..', '..', 'wsdl', 'xweb.wsdl');

const WSA_NS = 'http://schemas.xmlsoap.org/ws/2004/03/addressing';
/** WS-Addressing versions whose MessageID a request may carry; the answer speaks 2004/03, as xWeb does. */
const WSA_REQUEST_NS = new Set([WSA_NS, 'http://schemas.xmlsoap.org/ws/2004/08/addressing', 'http://www.w3.org/2005/08/addressing']);
const WSA_ANONYMOUS = `${WSA_NS}/role/anonymous`;
const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const XSD_NS = 'http://www.w3.org/2001/XMLSchema';
/** A wsu:Timestamp's life, as in xWeb's answers. */
const TIMESTAMP_MS = 5 * 60_000;
/** A request MessageID longer than this is not echoed. */
const MESSAGE_ID_MAX = 256;

const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

/** The xWeb SOAP door for the shared codec: each operation answers its whole envelope, token header included. */
export function xwebSoapDoor(deps: XwebDeps, xmlLimit: number): SoapDoor {
  return {
    door: XWEB_DOOR,
    namespace: XWEB_NS,
    path: XWEB_SOAP_PATH,
    wsdlFile: WSDL_FILE,
    xmlLimit,
    operations: OPERATIONS.map((op) => ({
      name: op.name,
      soapAction: op.soapAction,
      requestElement: op.name,
      handle: async (request: SoapRequest, call: SoapCall) => {
        const performed = await perform(deps, op, paramsOf(op, request.body), callerOf(request.headers), call.ctx);
        return successEnvelope(op, performed, request.headers, deps);
      },
    })),
    fault(err, call) {
      const operation = call.operation === undefined ? undefined : findOperation(call.operation);
      const wire = describeError(err, operation, call.cid);
      setHeaders(call.res, wire.headers);
      return {
        status: wire.status === 413 ? 413 : 500,
        xml: faultEnvelope(wire.faultcode, wire.kind, wire.message, operation?.name ?? 'netForumXML', call.endpointUrl),
      };
    },
  };
}

/** The request's fields by their local names (clients differ on qualifying them); `xsi:nil` counts as absent. */
function paramsOf(op: XwebOperation, body: XmlElement): Params {
  const params: Record<string, string | undefined> = {};
  for (const field of op.fields) {
    const element = child(body, field.name);
    params[field.name] = element === undefined || isNil(element) ? undefined : element.text;
  }
  return params;
}

function isNil(element: XmlElement): boolean {
  return Object.entries(element.attrs).some(([name, value]) => /(^|:)nil$/.test(name) && /^(true|1)$/.test(value.trim()));
}

/**
 * The integrator token from the `AuthorizationToken` header entry, whatever its prefix, `mustUnderstand` or
 * `actor`. Qualified with xWeb's namespace or not at all; every other header entry is ignored.
 */
function callerOf(headers: readonly XmlElement[]): Caller {
  const header = headers.find((h) => h.name === 'AuthorizationToken' && (h.ns === XWEB_NS || h.ns === ''));
  const token = header && child(header, 'Token')?.text.trim();
  return { scheme: 'token', token: token || undefined };
}

/** The request's WS-Addressing MessageID, to answer as RelatesTo. */
function messageIdOf(headers: readonly XmlElement[]): string | undefined {
  const id = headers.find((h) => h.name === 'MessageID' && WSA_REQUEST_NS.has(h.ns))?.text.trim();
  return id && id.length <= MESSAGE_ID_MAX ? id : undefined;
}

/** `2006-09-26T13:52:58Z`: whole seconds, as xWeb writes them. */
function wsuTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function successEnvelope(op: XwebOperation, performed: Performed, requestHeaders: readonly XmlElement[], { core, xweb }: XwebDeps): string {
  const header = [`<AuthorizationToken xmlns="${XWEB_NS}">`, textElement('Token', performed.token), '</AuthorizationToken>'];
  const namespaces = [`xmlns:soap="${SOAP11_NS}"`, `xmlns:xsi="${XSI_NS}"`, `xmlns:xsd="${XSD_NS}"`];
  if (xweb.wsAddressing) {
    namespaces.push(`xmlns:wsa="${WSA_NS}"`, `xmlns:wsse="${WSSE_NS}"`, `xmlns:wsu="${WSU_NS}"`);
    const now = core.clock.now();
    // The seed answers RelatesTo also to a request without a MessageID; then it relates to a fresh id.
    const relatesTo = messageIdOf(requestHeaders) ?? `uuid:${randomUUID()}`;
    header.push(
      textElement('wsa:Action', `${XWEB_NS}${op.name}Response`),
      textElement('wsa:MessageID', `uuid:${randomUUID()}`),
      textElement('wsa:RelatesTo', relatesTo),
      textElement('wsa:To', WSA_ANONYMOUS),
      '<wsse:Security>',
      `<wsu:Timestamp wsu:Id="Timestamp-${randomUUID()}">`,
      textElement('wsu:Created', wsuTime(now)),
      textElement('wsu:Expires', wsuTime(now + TIMESTAMP_MS)),
      '</wsu:Timestamp>',
      '</wsse:Security>',
    );
  }
  const body =
    performed.result === undefined
      ? [`<${op.name}Response xmlns="${XWEB_NS}"/>`]
      : [`<${op.name}Response xmlns="${XWEB_NS}">`, textElement(`${op.name}Result`, performed.result), `</${op.name}Response>`];
  return [
    XML_DECLARATION,
    `<soap:Envelope ${namespaces.join(' ')}>`,
    '<soap:Header>',
    ...header,
    '</soap:Header>',
    '<soap:Body>',
    ...body,
    '</soap:Body>',
    '</soap:Envelope>',
  ].join('\n');
}

/** A fault in the shape of xWeb's: a .NET SoapException text, the endpoint as actor, an XWebException detail. */
function faultEnvelope(faultcode: string, kind: string, message: string, operation: string, endpointUrl: string): string {
  const trace = `   at ${operation}`;
  return [
    XML_DECLARATION,
    `<soap:Envelope xmlns:soap="${SOAP11_NS}" xmlns:xsi="${XSI_NS}" xmlns:xsd="${XSD_NS}">`,
    '<soap:Body>',
    '<soap:Fault>',
    textElement('faultcode', `soap:${faultcode}`),
    textElement('faultstring', `System.Web.Services.Protocols.SoapException: ${message}\n${trace}`),
    textElement('faultactor', endpointUrl),
    '<detail>',
    `<${kind}ExceptionInfo xmlns="${XWEB_NS}">`,
    `<XWebException xmlns="${XWEB_NS}">`,
    textElement('Message', message),
    textElement('Number', '0'),
    textElement('Source', 'xWeb'),
    textElement('Line', '0'),
    textElement('StackTrace', trace),
    textElement('ErrorType', 'GeneralError'),
    '<Errors />',
    '</XWebException>',
    `</${kind}ExceptionInfo>`,
    '</detail>',
    '</soap:Fault>',
    '</soap:Body>',
    '</soap:Envelope>',
  ].join('\n');
}
