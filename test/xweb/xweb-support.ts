import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUntrustedXml, type XmlElement } from '../../src/http/soap/guard';
import { startTestServer, type Settings, type TestServer } from '../support/server';
import { NIL_GUID, postSoap as postSoapTo, readFault } from '../support/wire';

export { NIL_GUID };

export const XWEB_NS = 'http://www.avectra.com/2005/';
export const SOAP_PATH = '/xweb/secure/netForumXML.asmx';
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const REFERENCE_WSDL = join(__dirname, '..', '..', 'fixtures', 'xweb', 'reference', 'xweb-auth.wsdl');

/** The accounts every xWeb test starts with. */
export const INTEGRATOR = { username: 'integ', password: 'integ-pw-1' };
export const CUSTOMER = { username: 'ann', password: 'ann-pw-1' };

/** A test server with an integrator and a customer (role `user`). */
export async function startXwebServer(settings: Settings = {}): Promise<TestServer> {
  const server = await startTestServer(settings);
  await server.addUser(INTEGRATOR.username, INTEGRATOR.password, 'integrator');
  await server.addUser(CUSTOMER.username, CUSTOMER.password, 'user');
  return server;
}

export async function customerKeyOf(server: TestServer, username: string): Promise<string> {
  return (await server.core.accounts.findByUsername(username))!.customerKey;
}

export function fixture(name: string): string {
  return readFileSync(join(__dirname, '..', '..', 'fixtures', 'xweb', name), 'utf8');
}

/** A `requests/` envelope with its `{{name}}` values filled in (escaped); every one must be given. */
export function request(name: string, values: Record<string, string>): string {
  return fixture(`requests/${name}.xml`).replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`no value for {{${key}}} in ${name}`);
    return value.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  });
}

export interface SoapAnswer {
  status: number;
  headers: Headers;
  text: string;
  envelope: XmlElement;
}

/** POSTs an envelope to the xWeb endpoint with SOAPAction `"…/<action>"` (none when `action` is null). */
export async function postSoap(server: TestServer, xml: string | Buffer, action: string | null): Promise<SoapAnswer> {
  const answer = await postSoapTo(`${server.url}${SOAP_PATH}`, xml, action === null ? undefined : `${XWEB_NS}${action}`);
  return { ...answer, envelope: parseUntrustedXml(Buffer.from(answer.text)) };
}

/** The element at `path` (local names) under `root`; fails the test when it is not there. */
export function at(root: XmlElement, ...path: string[]): XmlElement {
  let here = root;
  for (const name of path) {
    const next = here.children.find((c) => c.name === name);
    if (!next) throw new Error(`no ${name} in ${here.name} (path ${path.join('/')})`);
    here = next;
  }
  return here;
}

/** The integrator token in a response's AuthorizationToken header, or undefined when there is none. */
export function headerToken(envelope: XmlElement): string | undefined {
  const header = envelope.children.find((c) => c.name === 'Header');
  const entry = header?.children.find((c) => c.name === 'AuthorizationToken' && c.ns === XWEB_NS);
  return entry && at(entry, 'Token').text;
}

/** Authenticate over raw SOAP; the integrator token. */
export async function authenticate(server: TestServer, account = INTEGRATOR): Promise<string> {
  const answer = await postSoap(server, request('Authenticate', { userName: account.username, password: account.password }), 'Authenticate');
  expect(answer.status).toBe(200);
  return headerToken(answer.envelope)!;
}

/** What a fault says, field by field. */
export function faultOf(answer: SoapAnswer): { faultcode: string; faultstring: string; faultactor: string; kind: string; message: string } {
  const { faultcode, faultstring, faultactor, detail } = readFault(answer.envelope);
  if (!detail) throw new Error(`the fault has no detail: ${answer.text.slice(0, 300)}`);
  return { faultcode, faultstring, faultactor, kind: detail.name.replace(/ExceptionInfo$/, ''), message: at(detail, 'XWebException', 'Message').text };
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const GUID_IN_TEXT = /^(uuid:|Timestamp-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Compares two envelopes element by element: the same elements (namespace and local name) in the same order,
 * the same attributes, and the same text in every leaf. Where the reference has a GUID (other than the nil
 * GUID), a `uuid:` id or a timestamp, the same format is enough. `texts` gives what a leaf (by local name)
 * must say instead of the reference's text; `ignoreAttributes` names attributes the reference may have alone.
 */
export function expectSameShape(
  actual: XmlElement,
  expected: XmlElement,
  texts: Record<string, string> = {},
  ignoreAttributes: string[] = [],
  path = expected.name,
): void {
  expect(`${path}: {${actual.ns}}${actual.name}`).toBe(`${path}: {${expected.ns}}${expected.name}`);
  const attrs = (e: XmlElement) =>
    Object.keys(e.attrs)
      .filter((k) => !ignoreAttributes.includes(k))
      .sort();
  expect(`${path} attributes: ${attrs(actual).join(',')}`).toBe(`${path} attributes: ${attrs(expected).join(',')}`);
  for (const key of attrs(expected)) sameText(actual.attrs[key]!, expected.attrs[key]!, `${path}@${key}`);
  expect(`${path} children: ${actual.children.map((c) => c.name).join(',')}`).toBe(
    `${path} children: ${expected.children.map((c) => c.name).join(',')}`,
  );
  if (expected.children.length === 0) {
    const wanted = texts[expected.name];
    if (wanted !== undefined) expect(`${path}: ${actual.text.trim()}`).toBe(`${path}: ${wanted}`);
    else sameText(actual.text.trim(), expected.text.trim(), path);
  }
  expected.children.forEach((c, i) => expectSameShape(actual.children[i]!, c, texts, ignoreAttributes, `${path}/${c.name}`));
}

function sameText(actual: string, expected: string, path: string): void {
  if (expected !== NIL_GUID && GUID_IN_TEXT.test(expected)) {
    const prefix = GUID_IN_TEXT.exec(expected)![1] ?? '';
    expect(`${path}: ${actual}`).toMatch(new RegExp(`^${path.replace(/[^\w]/g, '.')}: ${prefix}[0-9a-f-]{36}$`));
    expect(actual.slice(prefix.length)).toMatch(GUID);
  } else if (TIMESTAMP.test(expected)) {
    expect(`${path}: ${actual}`).toMatch(new RegExp(`^${path.replace(/[^\w]/g, '.')}: \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
  } else {
    expect(`${path}: ${actual}`).toBe(`${path}: ${expected}`);
  }
}
