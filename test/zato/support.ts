import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as soap from 'soap';
import { CID_FORMAT } from '../../src/http/cid';
import { parseUntrustedXml, type XmlElement } from '../../src/http/soap/guard';
import { escapeXml } from '../../src/http/soap/markup';
import { basicAuthorization, postSoap as postSoapTo, readFault, type SoapReply } from '../support/wire';

export const SOAP_PATH = '/zato/soap';
export const JWT_FORMAT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
export const CHALLENGE = 'Basic realm="Zato public API"';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'zato');

/** A file of fixtures/zato, as it is. */
export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** A seed's request envelope with the empty `<zato:NAME></zato:NAME>` elements filled in (escaped). */
export function filledEnvelope(name: string, values: Record<string, string>): string {
  let xml = fixture(name);
  for (const [field, value] of Object.entries(values)) {
    const empty = `<zato:${field}></zato:${field}>`;
    if (!xml.includes(empty)) throw new Error(`${name} has no empty ${field} element`);
    xml = xml.replace(empty, () => `<zato:${field}>${escapeXml(value)}</zato:${field}>`);
  }
  return xml;
}

/** A seed's JSON request body with its (empty) fields filled in; every field named must be in the seed. */
export function filledJson(name: string, values: Record<string, unknown>): Record<string, unknown> {
  const body = JSON.parse(fixture(name)) as Record<string, unknown>;
  for (const [field, value] of Object.entries(values)) {
    if (!(field in body)) throw new Error(`${name} has no field ${field}`);
    body[field] = value;
  }
  return body;
}

export type Answer = SoapReply;

/** Posts a SOAP envelope to the Zato endpoint as a client would (no SOAPAction when `action` is undefined). */
export function postSoap(url: string, action: string | undefined, xml: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return postSoapTo(url + SOAP_PATH, xml, action, headers);
}

export interface JsonAnswer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Posts `body` (an object, sent as JSON, or a string, sent as it is) to `path`. */
export async function postJson(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : JSON.parse(text) };
}

export const basic = (username: string, password: string): Record<string, string> => ({ Authorization: basicAuthorization(username, password) });

/** Logs in at the JSON door and answers the token. */
export async function jsonLogIn(url: string, username: string, password: string): Promise<string> {
  const res = await postJson(url, '/zato/json/zato.security.jwt.log-in', { username, password });
  if (res.status !== 200) throw new Error(`log-in failed: ${res.status} ${res.text}`);
  return res.body.zato_security_jwt_log_in_response.token as string;
}

/** The `soap:Fault` of a response: its code and string. */
export function faultOf(xml: string): { faultcode: string; faultstring: string } {
  const { faultcode, faultstring } = readFault(xml);
  return { faultcode, faultstring };
}

/** The faultstring Zato writes: the cid (any, checked by format) and the human message. */
export function zatoFaultString(message: string): RegExp {
  return new RegExp(`^cid \\[K\\d{39}\\], faultstring \\[${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\]$`);
}

export interface Shape {
  ns: string;
  name: string;
  children?: Shape[];
  text?: string;
}

/**
 * An XML document as its elements, namespaces and leaf texts, for comparing a response with a seed element by
 * element. A `cid` leaf becomes `<cid>` once it has the cid format, a `token` leaf `<token>` once it is a JWT
 * (the seeds leave it empty: `seed` skips that check).
 */
export function shapeOf(xml: string, seed = false): Shape {
  const walk = (el: XmlElement): Shape => {
    if (el.children.length > 0) return { ns: el.ns, name: el.name, children: el.children.map(walk) };
    let text = el.text;
    if (el.name === 'cid') {
      expect(text).toMatch(CID_FORMAT);
      text = '<cid>';
    } else if (el.name === 'token') {
      if (!seed) expect(text).toMatch(JWT_FORMAT);
      text = '<token>';
    }
    return { ns: el.ns, name: el.name, text };
  };
  return walk(parseUntrustedXml(Buffer.from(xml)));
}

/** A value's shape for comparing JSON bodies with a seed: keys in order, cid and token by format. */
export function jsonShapeOf(value: unknown, seed = false, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => jsonShapeOf(v, seed));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([k, v]) => [k, jsonShapeOf(v, seed, k)]);
  }
  if (key === 'cid') {
    expect(value).toMatch(CID_FORMAT);
    return '<cid>';
  }
  if (key === 'token') {
    if (!seed) expect(value).toMatch(JWT_FORMAT);
    return '<token>';
  }
  return value;
}

/** A node-soap client built from the served WSDL, its operations as promises answering the result. */
export async function zatoClient(url: string, credentials?: { username: string; password: string }) {
  const client = await soap.createClientAsync(`${url}${SOAP_PATH}?wsdl`);
  if (credentials) client.setSecurity(new soap.BasicAuthSecurity(credentials.username, credentials.password));
  // The operation names hold dots and dashes, so node-soap defines only the callback form of each.
  const call = (operation: string, args: Record<string, unknown>): Promise<any> =>
    new Promise((resolve, reject) => {
      const method = client[operation] as ((a: unknown, cb: (err: unknown, result: unknown) => void) => void) | undefined;
      if (!method) {
        reject(new Error(`no operation ${operation}`));
        return;
      }
      method(args, (err, result) => (err ? reject(err) : resolve(result)));
    });
  return {
    client,
    call,
    /** Calls `operation` expecting a SOAP fault: its HTTP status, code, string and headers. */
    async fault(operation: string, args: Record<string, unknown>) {
      const err = (await call(operation, args).then(
        (result) => {
          throw new Error(`expected a fault, got ${JSON.stringify(result)}`);
        },
        (e: unknown) => e,
      )) as { root?: any; response?: { status: number; headers: Record<string, string> } };
      const fault = err.root?.Envelope?.Body?.Fault;
      if (!fault || !err.response) throw err;
      return {
        status: err.response.status,
        headers: err.response.headers,
        faultcode: fault.faultcode as string,
        faultstring: fault.faultstring as string,
      };
    },
  };
}
