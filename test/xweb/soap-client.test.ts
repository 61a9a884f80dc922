import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as soap from 'soap';
import { parseUntrustedXml, type XmlElement } from '../../src/http/soap/guard';
import type { TestServer } from '../support/server';
import {
  CUSTOMER,
  customerKeyOf,
  GUID,
  INTEGRATOR,
  NIL_GUID,
  REFERENCE_WSDL,
  SOAP_PATH,
  UUID_V4,
  XWEB_NS,
  startXwebServer,
} from './xweb-support';

type Answer = [Record<string, unknown> | null, string, Record<string, unknown> | undefined, string];
type Method = (args: Record<string, unknown>) => Promise<Answer>;

/** Calls an operation as generated clients do, keeping the token each answer carries in its header. */
class XwebClient {
  constructor(readonly client: soap.Client) {}

  async call(operation: string, args: Record<string, unknown>): Promise<{ result: Record<string, unknown> | null; token: string; raw: string }> {
    const method = (this.client as unknown as Record<string, Method>)[`${operation}Async`]!;
    const [result, raw, header] = await method.call(this.client, args);
    const token = (header?.AuthorizationToken as { Token?: string } | undefined)?.Token;
    if (!token) throw new Error(`${operation} answered no AuthorizationToken header`);
    this.client.clearSoapHeaders();
    this.client.addSoapHeader({ AuthorizationToken: { Token: token } }, '', 'tns', XWEB_NS);
    return { result, token, raw };
  }
}

/** What a node-soap call failed with: the fault's detail kind and message. */
async function faultOf(promise: Promise<unknown>): Promise<{ kind: string; message: string; status: number }> {
  const err = (await promise.then(
    () => {
      throw new Error('expected a fault');
    },
    (e: unknown) => e,
  )) as { response?: { status: number }; body?: string };
  const envelope = parseUntrustedXml(Buffer.from(err.body ?? ''));
  const info = find(envelope, 'detail')!.children[0]!;
  return { kind: info.name.replace(/ExceptionInfo$/, ''), message: find(info, 'Message')!.text, status: err.response!.status };
}

function find(root: XmlElement, name: string): XmlElement | undefined {
  if (root.name === name) return root;
  for (const c of root.children) {
    const hit = find(c, name);
    if (hit) return hit;
  }
  return undefined;
}

describe('xWeb over SOAP with a generated client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startXwebServer();
  });
  afterAll(() => server.stop());

  const fromServedWsdl = async () => new XwebClient(await soap.createClientAsync(`${server.url}${SOAP_PATH}?WSDL`));

  it('serves the WSDL at ?WSDL in any case, its soap:address naming the address the client used', async () => {
    for (const query of ['WSDL', 'wsdl', 'Wsdl']) {
      const res = await fetch(`${server.url}${SOAP_PATH}?${query}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
      const wsdl = parseUntrustedXml(Buffer.from(await res.text()));
      expect(find(wsdl, 'address')!.attrs.location).toBe(`${server.url}${SOAP_PATH}`);
    }
    const byName = await fetch(`http://localhost:${server.port}${SOAP_PATH}?wsdl`);
    expect(find(parseUntrustedXml(Buffer.from(await byName.text())), 'address')!.attrs.location).toBe(
      `http://localhost:${server.port}${SOAP_PATH}`,
    );
  });

  it('runs Authenticate, WebLogin, WebValidate, WebLogout and WebValidate again, carrying the header token', async () => {
    const xweb = await fromServedWsdl();
    const authenticated = await xweb.call('Authenticate', { userName: INTEGRATOR.username, password: INTEGRATOR.password });
    expect(authenticated.result).toEqual({ AuthenticateResult: XWEB_NS });
    expect(authenticated.token).toMatch(UUID_V4);

    const login = await xweb.call('WebLogin', { userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password });
    const customerToken = login.result!.WebLoginResult as string;
    expect(customerToken).toMatch(UUID_V4);
    expect(customerToken).not.toBe(authenticated.token);

    const valid = await xweb.call('WebValidate', { authenticationToken: customerToken });
    expect(valid.result).toEqual({ WebValidateResult: await customerKeyOf(server, CUSTOMER.username) });

    const logout = await xweb.call('WebLogout', { authenticationToken: customerToken });
    expect(logout.raw).toContain(`<WebLogoutResponse xmlns="${XWEB_NS}"/>`);

    const dead = await xweb.call('WebValidate', { authenticationToken: customerToken });
    expect(dead.result).toEqual({ WebValidateResult: NIL_GUID });
    // Absolute expiration (the default): the same integrator token comes back every time.
    expect(new Set([authenticated, login, valid, logout, dead].map((a) => a.token))).toEqual(new Set([authenticated.token]));
  });

  it('works unchanged with a client generated from the real xWeb WSDL, only its endpoint moved', async () => {
    const client = await soap.createClientAsync(REFERENCE_WSDL);
    client.setEndpoint(`${server.url}${SOAP_PATH}`);
    const xweb = new XwebClient(client);
    await xweb.call('Authenticate', { userName: INTEGRATOR.username, password: INTEGRATOR.password });
    const login = await xweb.call('WebLogin', { userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password });
    const token = login.result!.WebLoginResult as string;
    expect((await xweb.call('WebValidate', { authenticationToken: token })).result).toEqual({
      WebValidateResult: await customerKeyOf(server, CUSTOMER.username),
    });
    await xweb.call('WebLogout', { authenticationToken: token });
    expect((await xweb.call('WebValidate', { authenticationToken: token })).result).toEqual({ WebValidateResult: NIL_GUID });
  });

  it('answers the faults of the spec to a generated client, and keeps answering', async () => {
    const xweb = await fromServedWsdl();
    expect(await faultOf(xweb.call('Authenticate', { userName: INTEGRATOR.username, password: 'wrong' }))).toEqual({
      kind: 'InvalidCredentials',
      message: 'Invalid Credentials Supplied',
      status: 500,
    });
    // A user account is no integrator: the right password changes nothing.
    expect(await faultOf(xweb.call('Authenticate', { userName: CUSTOMER.username, password: CUSTOMER.password }))).toEqual({
      kind: 'InvalidCredentials',
      message: 'Invalid Credentials Supplied',
      status: 500,
    });
    // No header yet.
    expect(await faultOf(xweb.call('WebValidate', { authenticationToken: NIL_GUID }))).toEqual({
      kind: 'InvalidToken',
      message: 'Invalid Token Value',
      status: 500,
    });
    await xweb.call('Authenticate', { userName: INTEGRATOR.username, password: INTEGRATOR.password });
    expect(await faultOf(xweb.call('WebLogin', { userLoginPlain: CUSTOMER.username, passwordPlain: 'wrong' }))).toEqual({
      kind: 'System',
      message: 'Unable to login user.',
      status: 500,
    });
    const login = await xweb.call('WebLogin', { userLoginPlain: CUSTOMER.username, passwordPlain: CUSTOMER.password });
    expect(login.result!.WebLoginResult).toMatch(GUID);
  });

  it('keeps the WSDL the real one: the same elements, types, messages, port type, binding and SOAP actions', () => {
    const ours = parseUntrustedXml(readFileSync(join(__dirname, '..', '..', 'wsdl', 'xweb.wsdl')));
    const real = parseUntrustedXml(readFileSync(REFERENCE_WSDL));
    // The cut kept only the SOAP 1.1 binding and port; ours has ASMX's SOAP 1.2 ones beside them.
    const is12 = (e: XmlElement) => e.attrs.name === 'netForumXMLSoap12';
    const without12 = (e: XmlElement): XmlElement => ({ ...e, children: e.children.filter((c) => !is12(c)).map(without12) });
    expect(contract(without12(ours))).toEqual(contract(real));
    expect(contract(ours).split('\n').length).toBeGreaterThan(100);
    // The 1.2 binding is the 1.1 one in the soap12 namespace, as ASMX writes it.
    const SOAP_WSDL = 'http://schemas.xmlsoap.org/wsdl/soap/';
    const SOAP12_WSDL = 'http://schemas.xmlsoap.org/wsdl/soap12/';
    const binding = (root: XmlElement, name: string) => root.children.find((c) => c.name === 'binding' && c.attrs.name === name)!;
    expect(contract(binding(ours, 'netForumXMLSoap12'))).toBe(
      contract(binding(real, 'netForumXMLSoap')).replaceAll(`{${SOAP_WSDL}}`, `{${SOAP12_WSDL}}`).replace('name=netForumXMLSoap ', 'name=netForumXMLSoap12 '),
    );
  });
});

/** A WSDL as the lines a client is generated from: every element but documentation, with its attributes. */
function contract(root: XmlElement, depth = 0): string {
  if (root.name === 'documentation') return '';
  const attrs = Object.entries(root.attrs)
    .filter(([k]) => !(root.name === 'address' && k === 'location'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const line = `${' '.repeat(depth)}{${root.ns}}${root.name} ${attrs}`;
  return [line, ...root.children.map((c) => contract(c, depth + 1)).filter(Boolean)].join('\n');
}
