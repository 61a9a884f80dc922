import * as soap from 'soap';
import { parseUntrustedXml, type XmlElement } from '../../src/http/soap/guard';
import type { TestServer } from '../support/server';
import { at, CUSTOMER, customerKeyOf, INTEGRATOR, NIL_GUID, request, SOAP_PATH, startXwebServer, UUID_V4, XWEB_NS } from './xweb-support';

const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
const SOAP12_TYPE = 'application/soap+xml; charset=utf-8';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

type Callback = (err: unknown, result: Record<string, unknown> | null, raw: string, header: Record<string, unknown> | undefined) => void;
type PortMethod = (args: Record<string, unknown>, cb: Callback) => void;

/** A node-soap client bound to xWeb's SOAP 1.2 port, carrying the answered header token to the next call. */
class Soap12Client {
  constructor(readonly client: soap.Client) {}

  call(operation: string, args: Record<string, unknown>): Promise<{ result: Record<string, unknown> | null; token: string; raw: string }> {
    const port = (this.client as unknown as Record<string, Record<string, Record<string, PortMethod>>>).netForumXML!.netForumXMLSoap12!;
    return new Promise((resolve, reject) => {
      port[operation]!.call(this.client, args, (err, result, raw, header) => {
        if (err) return reject(err as Error);
        const token = (header?.AuthorizationToken as { Token?: string } | undefined)?.Token;
        if (!token) return reject(new Error(`${operation} answered no AuthorizationToken header`));
        this.client.clearSoapHeaders();
        this.client.addSoapHeader({ AuthorizationToken: { Token: token } }, '', 'tns', XWEB_NS);
        resolve({ result, token, raw });
      });
    });
  }
}

/** POSTs `xml` as SOAP 1.2: `application/soap+xml` with the action as a parameter of the media type. */
async function post12(server: TestServer, xml: string, action?: string): Promise<{ status: number; type: string | null; text: string; envelope: XmlElement }> {
  const type = action === undefined ? SOAP12_TYPE : `${SOAP12_TYPE}; action="${XWEB_NS}${action}"`;
  const res = await fetch(`${server.url}${SOAP_PATH}`, { method: 'POST', headers: { 'Content-Type': type }, body: xml });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, envelope: parseUntrustedXml(Buffer.from(text)) };
}

/** A SOAP 1.1 request fixture turned into SOAP 1.2: the envelope namespace is all that differs for xWeb. */
function as12(xml: string): string {
  return xml.replace('http://schemas.xmlsoap.org/soap/envelope/', SOAP12_NS);
}

/**
 * The fault shape of SOAP 1.2 part 1, §5.4: env:Fault holds env:Code (env:Value, one of the five fault codes),
 * env:Reason (env:Text items, each with xml:lang), then optionally env:Node, env:Role and env:Detail, in that
 * order, and nothing else; and the HTTP binding's status (part 2, §7.5.2.2): 400 for a Sender fault, else 500.
 */
function expectSoap12Fault(answer: { status: number; type: string | null; envelope: XmlElement }, code: string): XmlElement {
  expect(answer.type).toBe(SOAP12_TYPE);
  expect(answer.envelope.ns).toBe(SOAP12_NS);
  const body = answer.envelope.children.find((c) => c.name === 'Body' && c.ns === SOAP12_NS)!;
  expect(body.children).toHaveLength(1);
  const fault = body.children[0]!;
  expect(`{${fault.ns}}${fault.name}`).toBe(`{${SOAP12_NS}}Fault`);
  const names = fault.children.map((c) => `{${c.ns}}${c.name}`);
  expect(names).toEqual(['Code', 'Reason', 'Node', 'Detail'].map((n) => `{${SOAP12_NS}}${n}`));
  const codeElement = at(fault, 'Code');
  expect(codeElement.children.map((c) => c.name)).toEqual(['Value']);
  expect(at(codeElement, 'Value').text).toBe(`soap:${code}`);
  expect(['VersionMismatch', 'MustUnderstand', 'DataEncodingUnknown', 'Sender', 'Receiver']).toContain(code);
  const texts = at(fault, 'Reason').children;
  expect(texts.length).toBeGreaterThan(0);
  for (const text of texts) {
    expect(`{${text.ns}}${text.name}`).toBe(`{${SOAP12_NS}}Text`);
    expect(text.attrList).toContainEqual({ ns: XML_NS, name: 'lang', value: 'en' });
  }
  expect(answer.status).toBe(code === 'Sender' ? 400 : 500);
  return fault;
}

describe('xWeb over SOAP 1.2, on the same endpoint', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startXwebServer();
  });
  afterAll(() => server.stop());

  it('serves the netForumXMLSoap12 binding and port in the WSDL, as ASMX writes them, at the address used', async () => {
    const wsdl = parseUntrustedXml(Buffer.from(await (await fetch(`${server.url}${SOAP_PATH}?WSDL`)).text()));
    const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
    const SOAP12_WSDL = 'http://schemas.xmlsoap.org/wsdl/soap12/';
    const binding = wsdl.children.find((c) => c.ns === WSDL_NS && c.name === 'binding' && c.attrs.name === 'netForumXMLSoap12')!;
    expect(binding.attrs.type).toBe('tns:netForumXMLSoap');
    expect(binding.children.filter((c) => c.ns === SOAP12_WSDL).map((c) => [c.name, c.attrs.transport])).toEqual([
      ['binding', 'http://schemas.xmlsoap.org/soap/http'],
    ]);
    const operations = binding.children.filter((c) => c.name === 'operation');
    expect(operations.map((op) => [op.attrs.name, at(op, 'operation').ns, at(op, 'operation').attrs.soapAction])).toEqual(
      ['Authenticate', 'WebLogin', 'WebValidate', 'WebLogout'].map((name) => [name, SOAP12_WSDL, `${XWEB_NS}${name}`]),
    );
    const service = wsdl.children.find((c) => c.name === 'service')!;
    expect(service.children.map((p) => [p.attrs.name, p.attrs.binding, `{${p.children[0]!.ns}}${p.children[0]!.name}`, p.children[0]!.attrs.location])).toEqual([
      ['netForumXMLSoap', 'tns:netForumXMLSoap', '{http://schemas.xmlsoap.org/wsdl/soap/}address', `${server.url}${SOAP_PATH}`],
      ['netForumXMLSoap12', 'tns:netForumXMLSoap12', `{${SOAP12_WSDL}}address`, `${server.url}${SOAP_PATH}`],
    ]);
  });

  it('runs Authenticate, WebLogin, WebValidate and WebLogout with node-soap on the SOAP 1.2 port', async () => {
    const client = await soap.createClientAsync(`${server.url}${SOAP_PATH}?WSDL`, { forceSoap12Headers: true });
    const xweb = new Soap12Client(client);
    const authenticated = await xweb.call('Authenticate', { userName: INTEGRATOR.username, password: INTEGRATOR.password });
    expect(authenticated.result).toEqual({ AuthenticateResult: XWEB_NS });
    expect(authenticated.token).toMatch(UUID_V4);
    // Answered in the version asked: a SOAP 1.2 envelope.
    expect(parseUntrustedXml(Buffer.from(authenticated.raw)).ns).toBe(SOAP12_NS);
    expect(client.lastRequest).toContain(`xmlns:soap="${SOAP12_NS}"`);

    const login = await xweb.call('WebLogin', { userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password });
    const customerToken = login.result!.WebLoginResult as string;
    expect(customerToken).toMatch(UUID_V4);
    const valid = await xweb.call('WebValidate', { authenticationToken: customerToken });
    expect(valid.result).toEqual({ WebValidateResult: await customerKeyOf(server, CUSTOMER.username) });
    await xweb.call('WebLogout', { authenticationToken: customerToken });
    expect((await xweb.call('WebValidate', { authenticationToken: customerToken })).result).toEqual({ WebValidateResult: NIL_GUID });
  });

  it('answers a SOAP 1.2 success with the token header, WS-Addressing and wsu:Timestamp in a 1.2 envelope', async () => {
    const answer = await post12(server, as12(request('Authenticate', { userName: INTEGRATOR.username, password: INTEGRATOR.password })), 'Authenticate');
    expect(answer.status).toBe(200);
    expect(answer.type).toBe(SOAP12_TYPE);
    const header = at(answer.envelope, 'Header');
    expect(header.ns).toBe(SOAP12_NS);
    expect(header.children.map((c) => c.name)).toEqual(['AuthorizationToken', 'Action', 'MessageID', 'RelatesTo', 'To', 'Security']);
    expect(at(header, 'AuthorizationToken', 'Token').text).toMatch(UUID_V4);
    expect(at(header, 'Security', 'Timestamp', 'Created').text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(at(answer.envelope, 'Body', 'AuthenticateResponse', 'AuthenticateResult').text).toBe(XWEB_NS);
  });

  it('answers a wrong password with the exact SOAP 1.2 Sender fault, HTTP 400', async () => {
    const answer = await post12(server, as12(request('Authenticate', { userName: INTEGRATOR.username, password: 'wrong' })), 'Authenticate');
    expectSoap12Fault(answer, 'Sender');
    expect(answer.text).toBe(
      [
        '<?xml version="1.0" encoding="utf-8"?>',
        `<soap:Envelope xmlns:soap="${SOAP12_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">`,
        '<soap:Body>',
        '<soap:Fault>',
        '<soap:Code>',
        '<soap:Value>soap:Sender</soap:Value>',
        '</soap:Code>',
        '<soap:Reason>',
        '<soap:Text xml:lang="en">System.Web.Services.Protocols.SoapException: Invalid Credentials Supplied',
        '   at Authenticate</soap:Text>',
        '</soap:Reason>',
        `<soap:Node>${server.url}${SOAP_PATH}</soap:Node>`,
        '<soap:Detail>',
        `<InvalidCredentialsExceptionInfo xmlns="${XWEB_NS}">`,
        `<XWebException xmlns="${XWEB_NS}">`,
        '<Message>Invalid Credentials Supplied</Message>',
        '<Number>0</Number>',
        '<Source>xWeb</Source>',
        '<Line>0</Line>',
        '<StackTrace>   at Authenticate</StackTrace>',
        '<ErrorType>GeneralError</ErrorType>',
        '<Errors />',
        '</XWebException>',
        '</InvalidCredentialsExceptionInfo>',
        '</soap:Detail>',
        '</soap:Fault>',
        '</soap:Body>',
        '</soap:Envelope>',
      ].join('\n'),
    );
  });

  it('dispatches by the action parameter as by SOAPAction: a disagreeing one is a Sender fault naming both', async () => {
    const xml = as12(request('WebValidate', { integratorToken: NIL_GUID, authenticationToken: NIL_GUID }));
    const answer = await post12(server, xml, 'WebLogin');
    const fault = expectSoap12Fault(answer, 'Sender');
    expect(at(fault, 'Detail', 'SystemExceptionInfo', 'XWebException', 'Message').text).toBe(
      `SOAPAction ${XWEB_NS}WebLogin does not match the body element WebValidate`,
    );
    // No action at all: the body element decides (an unknown integrator token here).
    const noAction = await post12(server, xml);
    expect(at(expectSoap12Fault(noAction, 'Sender'), 'Detail', 'InvalidTokenExceptionInfo', 'XWebException', 'Message').text).toBe('Invalid Token Value');
  });

  it('answers a SOAP 1.1 envelope sent as application/soap+xml with a SOAP 1.2 VersionMismatch and an Upgrade header', async () => {
    const answer = await post12(server, request('WebValidate', { integratorToken: NIL_GUID, authenticationToken: NIL_GUID }), 'WebValidate');
    const fault = expectSoap12Fault(answer, 'VersionMismatch');
    expect(at(fault, 'Detail', 'SystemExceptionInfo', 'XWebException', 'Message').text).toBe(
      `Only SOAP 1.2 envelopes (${SOAP12_NS}) are accepted as application/soap+xml; send SOAP 1.1 as text/xml`,
    );
    const upgrade = at(answer.envelope, 'Header', 'Upgrade');
    expect(upgrade.ns).toBe(SOAP12_NS);
    expect(at(upgrade, 'SupportedEnvelope').attrs.qname).toBe('soap:Envelope');
  });

  it('rotates the integrator token in the SOAP 1.2 header under sliding expiration, as over SOAP 1.1', async () => {
    const sliding = await startXwebServer({ DUALGATE_XWEB_EXPIRATION: 'sliding' });
    try {
      const auth = await post12(sliding, as12(request('Authenticate', { userName: INTEGRATOR.username, password: INTEGRATOR.password })), 'Authenticate');
      const first = at(auth.envelope, 'Header', 'AuthorizationToken', 'Token').text;
      const validate = await post12(sliding, as12(request('WebValidate', { integratorToken: first, authenticationToken: NIL_GUID })), 'WebValidate');
      expect(validate.status).toBe(200);
      const second = at(validate.envelope, 'Header', 'AuthorizationToken', 'Token').text;
      expect(second).toMatch(UUID_V4);
      expect(second).not.toBe(first);
      expect(at(validate.envelope, 'Body', 'WebValidateResponse', 'WebValidateResult').text).toBe(NIL_GUID);
    } finally {
      await sliding.stop();
    }
  });

  it('keeps the Zato door SOAP 1.1 only: a SOAP 1.2 request gets its SOAP 1.1 VersionMismatch fault', async () => {
    const xml =
      `<env:Envelope xmlns:env="${SOAP12_NS}"><env:Body><zato:zato_security_jwt_log_in_request xmlns:zato="https://zato.io/ns/20130518">` +
      '<zato:username>ann</zato:username><zato:password>x</zato:password></zato:zato_security_jwt_log_in_request></env:Body></env:Envelope>';
    const res = await fetch(`${server.url}/zato/soap`, {
      method: 'POST',
      headers: { 'Content-Type': `${SOAP12_TYPE}; action="zato.security.jwt.log-in"` },
      body: xml,
    });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const fault = at(parseUntrustedXml(Buffer.from(await res.text())), 'Body', 'Fault');
    expect(at(fault, 'faultcode').text).toBe('soap:VersionMismatch');
    expect(at(fault, 'faultstring').text).toMatch(/faultstring \[Only SOAP 1\.1 envelopes \(http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/\) are accepted\]$/);
  });
});
