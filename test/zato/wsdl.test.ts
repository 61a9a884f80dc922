import { request } from 'node:http';
import * as soap from 'soap';
import { parseUntrustedXml, type XmlElement } from '../../src/http/soap/guard';
import { startTestServer, type TestServer } from '../support/server';
import { SOAP_PATH } from './support';

const SERVICES = [
  'zato.security.jwt.change-password',
  'zato.security.jwt.create',
  'zato.security.jwt.delete',
  'zato.security.jwt.edit',
  'zato.security.jwt.get-list',
  'zato.security.jwt.log-in',
  'zato.security.jwt.log-out',
];
const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const ZATO_NS = 'https://zato.io/ns/20130518';

/** GET with a Host header of our choosing (fetch will not set one). */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const addressOf = (wsdl: string) => /<soap:address location="([^"]*)"\/>/.exec(wsdl)?.[1];
const all = (el: XmlElement, name: string): XmlElement[] => el.children.filter((c) => c.ns === WSDL_NS && c.name === name);

describe('the Zato WSDL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('is served at /zato/soap?wsdl and /public-api/zato.wsdl as the same document, as text/xml', async () => {
    const fromSoap = await fetch(`${server.url}${SOAP_PATH}?wsdl`);
    const fromPublic = await fetch(`${server.url}/public-api/zato.wsdl`);
    expect(fromSoap.status).toBe(200);
    expect(fromPublic.status).toBe(200);
    expect(fromSoap.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const text = await fromSoap.text();
    expect(await fromPublic.text()).toBe(text);
    expect(addressOf(text)).toBe(`${server.url}${SOAP_PATH}`);
  });

  it('points soap:address at the scheme, host and port the client used', async () => {
    for (const path of [`${SOAP_PATH}?wsdl`, `${SOAP_PATH}?WSDL`, '/public-api/zato.wsdl']) {
      const res = await getWithHost(server.port, path, 'gateway.example:8443');
      expect(res.status).toBe(200);
      expect(addressOf(res.body)).toBe(`http://gateway.example:8443${SOAP_PATH}`);
    }
  });

  it('never echoes a Host header that is not a host (here $ patterns and markup): the address is the one it listens on', async () => {
    for (const host of ["evil$'x$&", 'a"><x y="']) {
      const res = await getWithHost(server.port, `${SOAP_PATH}?wsdl`, host);
      expect(addressOf(res.body)).toBe(`http://127.0.0.1:${server.port}${SOAP_PATH}`);
      expect(() => parseUntrustedXml(Buffer.from(res.body))).not.toThrow();
    }
  });

  it('declares the seven services in the shape of Zato 2.0\'s WSDL: document/literal, soapAction = service name', async () => {
    const root = parseUntrustedXml(Buffer.from(await (await fetch(`${server.url}${SOAP_PATH}?wsdl`)).text()));
    expect(root).toMatchObject({ ns: WSDL_NS, name: 'definitions', attrs: { name: 'zato', targetNamespace: ZATO_NS } });
    const [portType] = all(root, 'portType');
    const [binding] = all(root, 'binding');
    const [service] = all(root, 'service');
    expect([portType!.attrs.name, binding!.attrs.name, service!.attrs.name, all(service!, 'port')[0]!.attrs.name]).toEqual([
      'zato',
      'zato',
      'zato',
      'zato',
    ]);
    expect(all(portType!, 'operation').map((op) => op.attrs.name)).toEqual(SERVICES);
    const actions = all(binding!, 'operation').map((op) => [op.attrs.name, op.children.find((c) => c.name === 'operation')!.attrs.soapAction]);
    expect(actions).toEqual(SERVICES.map((name) => [name, name]));
    const messages = all(root, 'message').map((m) => [m.attrs.name, m.children[0]!.attrs]);
    for (const name of SERVICES) {
      const element = name.replace(/[.-]/g, '_');
      for (const side of ['request', 'response']) {
        expect(messages).toContainEqual([`${element}_${side}_message`, { element: `zato:${element}_${side}`, name: 'parameters' }]);
      }
    }
  });

  it('loads in node-soap without errors or warnings, every operation reachable at the served address', async () => {
    const warnings: unknown[] = [];
    const onWarning = (w: unknown) => warnings.push(w);
    process.on('warning', onWarning);
    const consoleError = jest.spyOn(console, 'error');
    const consoleWarn = jest.spyOn(console, 'warn');
    try {
      const client = await soap.createClientAsync(`${server.url}${SOAP_PATH}?wsdl`);
      const described = client.describe() as Record<string, Record<string, Record<string, { input: Record<string, string> }>>>;
      expect(Object.keys(described.zato!.zato!)).toEqual(SERVICES);
      expect(described.zato!.zato!['zato.security.jwt.log-in']!.input).toEqual({
        username: 'xsd:string',
        password: 'xsd:string',
        token: 'xsd:string',
      });
      expect(described.zato!.zato!['zato.security.jwt.create']!.input).toEqual({
        name: 'xsd:string',
        username: 'xsd:string',
        password: 'xsd:string',
        is_active: 'xsd:boolean',
        ttl: 'xsd:int',
      });
      expect(client.wsdl.definitions.services.zato!.ports.zato!.location).toBe(`${server.url}${SOAP_PATH}`);
      expect(consoleError).not.toHaveBeenCalled();
      expect(consoleWarn).not.toHaveBeenCalled();
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      consoleError.mockRestore();
      consoleWarn.mockRestore();
    }
  });
});
