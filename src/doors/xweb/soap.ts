import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setHeaders } from '../../http/reply';
import type { SoapCall, SoapDoor } from '../../http/soap/endpoint';
import { ENVELOPE_NS, type SoapRequest, type SoapVersion } from '../../http/soap/envelope';
import type { XmlElement } from '../../http/soap/guard';
import { escapeXml, textElement } from '../../http/soap/markup';
import { RequestError } from '../../http/request-errors';
import { isNil, readFields, schemaRules, type ElementRule } from '../../http/soap/schema';
import type { WireError } from './errors';
import { describeError } from './errors';
import type { Caller } from './integrator';
import { findOperation, OPERATIONS, perform, XWEB_NS, type Params, type Performed, type XwebDeps, type XwebOperation } from './operations';

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

/**
 * The xWeb SOAP door for the shared codec: SOAP 1.1 and 1.2 on one URL, as ASMX serves them; each operation
 * answers its whole envelope, token header included, in the version it was asked in.
 */
export function xwebSoapDoor(deps: XwebDeps, xmlLimit: number): SoapDoor {
  const rules = schemaRules(WSDL_FILE);
  const ruleOf = (name: string): ElementRule => {
    const rule = rules.get(name);
    if (!rule) throw new Error(`wsdl/xweb.wsdl declares no element ${name}`);
    return rule;
  };
  const tokenRule = ruleOf('AuthorizationToken');
  return {
    namespace: XWEB_NS,
    path: XWEB_SOAP_PATH,
    wsdlFile: WSDL_FILE,
    xmlLimit,
    versions: ['1.1', '1.2'],
    operations: OPERATIONS.map((op) => {
      const rule = ruleOf(op.name);
      return {
        name: op.name,
        soapAction: op.soapAction,
        requestElement: op.name,
        handle: async (request: SoapRequest, call: SoapCall) => {
          const params = paramsOf(op, request.body, rule);
          const performed = await perform(deps, op, params, callerOf(request.headers, tokenRule), call.ctx);
          return successEnvelope(op, performed, request, deps);
        },
      };
    }),
    fault(err, call) {
      const operation = call.operation === undefined ? undefined : findOperation(call.operation);
      const wire = describeError(err, operation, call.cid);
      setHeaders(call.res, wire.headers);
      return {
        status: faultStatus(wire, call.version),
        xml: faultEnvelope(call.version, wire, operation?.name ?? 'netForumXML', call.endpointUrl),
      };
    },
  };
}

/**
 * SOAP 1.1 faults are HTTP 500 (WS-I). SOAP 1.2's HTTP binding answers a Sender fault 400 and any other 500.
 * A body over the limit is 413 in both.
 */
function faultStatus(wire: WireError, version: SoapVersion): number {
  if (wire.status === 413) return 413;
  return version === '1.2' && wire.faultcode === 'Client' ? 400 : 500;
}

/**
 * The request's fields by the WSDL's schema: in xWeb's namespace, each once at most, text only (see
 * `readFields`); `xsi:nil` counts as absent.
 */
function paramsOf(op: XwebOperation, body: XmlElement, rule: ElementRule): Params {
  const fields = readFields(body, rule);
  const params: Record<string, string | undefined> = {};
  for (const field of op.fields) {
    const element = fields.get(field.name);
    params[field.name] = element === undefined || isNil(element) ? undefined : element.text;
  }
  return params;
}

/**
 * The integrator token from the `AuthorizationToken` header entry in xWeb's namespace, whatever its prefix,
 * `mustUnderstand` or `actor`; every other header entry is ignored. Two of them, or two `Token`s, are refused.
 */
function callerOf(headers: readonly XmlElement[], rule: ElementRule): Caller {
  const entries = headers.filter((h) => h.name === 'AuthorizationToken' && h.ns === XWEB_NS);
  if (entries.length > 1) throw new RequestError('Ambiguous', `${entries.length} AuthorizationToken headers; one at most is allowed`);
  const token = entries[0] && readFields(entries[0], rule).get('Token')?.text.trim();
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

function successEnvelope(op: XwebOperation, performed: Performed, request: SoapRequest, { core, xweb }: XwebDeps): string {
  const requestHeaders = request.headers;
  const header = [`<AuthorizationToken xmlns="${XWEB_NS}">`, textElement('Token', performed.token), '</AuthorizationToken>'];
  const namespaces = [`xmlns:soap="${ENVELOPE_NS[request.version]}"`, `xmlns:xsi="${XSI_NS}"`, `xmlns:xsd="${XSD_NS}"`];
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

/** SOAP 1.2's names for SOAP 1.1's fault codes. */
const SOAP12_CODES: Record<WireError['faultcode'], string> = {
  Client: 'Sender',
  Server: 'Receiver',
  VersionMismatch: 'VersionMismatch',
  MustUnderstand: 'MustUnderstand',
};

/**
 * A fault in the shape of xWeb's: a .NET SoapException text, the endpoint as actor (SOAP 1.2: Node), an
 * XWebException detail. SOAP 1.2 has ASMX's 1.2 shape: Code/Value, Reason/Text, Node, Detail; a version
 * mismatch there names the envelope understood in an Upgrade header (SOAP 1.2 part 1, §5.4.7).
 */
function faultEnvelope(version: SoapVersion, wire: WireError, operation: string, endpointUrl: string): string {
  const { faultcode, kind, message } = wire;
  const trace = `   at ${operation}`;
  const reason = `System.Web.Services.Protocols.SoapException: ${message}\n${trace}`;
  const soap12 = version === '1.2';
  const head = soap12
    ? [
        ...(faultcode === 'VersionMismatch'
          ? ['<soap:Header>', '<soap:Upgrade>', '<soap:SupportedEnvelope qname="soap:Envelope" />', '</soap:Upgrade>', '</soap:Header>']
          : []),
        '<soap:Body>',
        '<soap:Fault>',
        '<soap:Code>',
        textElement('soap:Value', `soap:${SOAP12_CODES[faultcode]}`),
        '</soap:Code>',
        '<soap:Reason>',
        `<soap:Text xml:lang="en">${escapeXml(reason)}</soap:Text>`,
        '</soap:Reason>',
        textElement('soap:Node', endpointUrl),
        '<soap:Detail>',
      ]
    : [
        '<soap:Body>',
        '<soap:Fault>',
        textElement('faultcode', `soap:${faultcode}`),
        textElement('faultstring', reason),
        textElement('faultactor', endpointUrl),
        '<detail>',
      ];
  return [
    XML_DECLARATION,
    `<soap:Envelope xmlns:soap="${ENVELOPE_NS[version]}" xmlns:xsi="${XSI_NS}" xmlns:xsd="${XSD_NS}">`,
    ...head,
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
    soap12 ? '</soap:Detail>' : '</detail>',
    '</soap:Fault>',
    '</soap:Body>',
    '</soap:Envelope>',
  ].join('\n');
}
