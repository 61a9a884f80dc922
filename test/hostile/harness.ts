import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { parseUntrustedXml, type XmlElement } from '../../src/http/soap/guard';
import { CID_FORMAT } from '../../src/http/cid';
import { startTestServer, type Settings, type TestServer } from '../support/server';
import { NIL_GUID, SOAP11_NS } from '../support/wire';

export const HOSTILE = join(__dirname, '..', '..', 'fixtures', 'hostile');
export const ZATO_NS = 'https://zato.io/ns/20130518';
export const XWEB_NS = 'http://www.avectra.com/2005/';
export const SOAP11 = SOAP11_NS;
export { NIL_GUID };
export const STUDIO = '/studio/api/1/services/api/1/security';
export const ZATO_CHALLENGE = 'Basic realm="Zato public API"';
export const XWEB_CHALLENGE = 'Bearer realm="xWeb"';

/** A safety bound on one answer, not a benchmark: a hostile request that takes longer has found a weakness. */
export const ANSWER_BOUND_MS = 1000;

export const ALICE = { username: 'alice', password: 'pw-alice-Hx7' };
export const ROOT = { username: 'root', password: 'pw-root-Qm3' };
export const INTEG = { username: 'integ', password: 'pw-integ-Zr9' };

// ---------------------------------------------------------------------------------------------------------
// Requests

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Header names as the server wrote them, for checking that nothing was injected. */
  headerNames: string[];
  body: Buffer;
  text: string;
  /** Time from the first byte sent to the last byte of the answer. */
  ms: number;
}

export interface Outgoing {
  method?: string;
  /** Sent exactly as written: node:http does not resolve `..` or decode anything. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** One request over a fresh connection with node:http, which (unlike fetch) sends path and body as given. */
export function send(url: string, out: Outgoing): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const body = out.body === undefined ? undefined : Buffer.isBuffer(out.body) ? out.body : Buffer.from(out.body, 'utf8');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(
      {
        host: hostname,
        port: Number(port),
        method: out.method ?? 'POST',
        path: out.path,
        agent: false,
        headers: { ...(body ? { 'Content-Length': String(body.length) } : {}), ...out.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          const headerNames: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) headerNames.push(res.rawHeaders[i]!.toLowerCase());
          resolve({ status: res.statusCode!, headers: res.headers, headerNames, body: all, text: all.toString('utf8'), ms: performance.now() - started });
        });
        res.on('error', reject);
      },
    );
    // A request that gets no answer at all fails here rather than at jest's timeout, with what it was.
    req.setTimeout(5000, () => req.destroy(new Error(`no answer in 5 s: ${out.method ?? 'POST'} ${out.path.slice(0, 80)}`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface RawAnswer {
  text: string;
  ms: number;
}

/** Writes `data` on a raw socket and reads until the server closes it (5 s at most). For what node:http will not send. */
export function sendRaw(url: string, data: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(Number(port), hostname, () => socket.write(data));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the socket open for 5 s; it sent: ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}`));
    }, 5000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {}); // a reset after the answer is still an answer
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ms: performance.now() - started });
    });
  });
}

export { basicAuthorization as basicAuth } from '../support/wire';

// ---------------------------------------------------------------------------------------------------------
// The server the corpus is sent to

export interface Hostile {
  server: TestServer;
  url: string;
  /** The integrator's live token (xWeb header / Bearer). */
  integratorToken: string;
  /** A live session of alice's at each door: nothing hostile may end or touch them. */
  victims: { jwt: string; guid: string; cookie: string };
  state: StateProbe;
  stop(): Promise<void>;
}

/**
 * The limits are raised from their defaults (64 KiB XML, 16 KiB JSON) so that the 10,000-deep documents, which
 * cannot be written in fewer bytes than that, reach the depth guards instead of stopping at the size limit.
 */
export const CORPUS_LIMITS: Settings = { DUALGATE_XML_LIMIT: String(128 * 1024), DUALGATE_JSON_LIMIT: String(32 * 1024) };

/** A server with alice (user), root (admin) and integ (integrator), an integrator token, and alice's victim sessions. */
export async function startHostileServer(settings: Settings = {}): Promise<Hostile> {
  const server = await startTestServer({ ...CORPUS_LIMITS, ...settings });
  await server.addUser(ALICE.username, ALICE.password, 'user');
  await server.addUser(ROOT.username, ROOT.password, 'admin');
  await server.addUser(INTEG.username, INTEG.password, 'integrator');
  const url = server.url;

  const auth = await send(url, {
    path: '/xweb/JSON/Authenticate',
    body: JSON.stringify({ Authenticate: { userName: INTEG.username, password: INTEG.password } }),
  });
  if (auth.status !== 200) throw new Error(`Authenticate failed: ${auth.text}`);
  const integratorToken = JSON.parse(auth.text).Token as string;

  const zato = await send(url, { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify(ALICE) });
  const weblogin = await send(url, {
    path: '/xweb/JSON/WebLogin',
    headers: { Authorization: `Bearer ${integratorToken}` },
    body: JSON.stringify({ WebLogin: { userLoginPlain: ALICE.username, passwordPlain: ALICE.password } }),
  });
  const crafter = await send(url, {
    path: `${STUDIO}/login.json`,
    headers: { Cookie: 'XSRF-TOKEN=x1', 'X-XSRF-TOKEN': 'x1' },
    body: JSON.stringify(ALICE),
  });
  const cookie = /JSESSIONID=([^;]+)/.exec(String(crafter.headers['set-cookie']))?.[1];
  if (zato.status !== 200 || weblogin.status !== 200 || !cookie) throw new Error('victim sessions could not be opened');
  const victims = {
    jwt: JSON.parse(zato.text).zato_security_jwt_log_in_response.token as string,
    guid: JSON.parse(weblogin.text).WebLoginResult as string,
    cookie,
  };
  const state = new StateProbe(server.dbPath);
  return {
    server,
    url,
    integratorToken,
    victims,
    state,
    async stop() {
      state.close();
      await server.stop();
    },
  };
}

/** Whether each victim session is still alive, asked of the core (not over the wire, which would touch them). */
export async function victimsAlive(h: Hostile): Promise<boolean[]> {
  const alive = async (token: string) =>
    h.server.core.sessions.verify(token).then(
      () => true,
      () => false,
    );
  return Promise.all([alive(h.victims.jwt), alive(h.victims.guid), alive(h.victims.cookie)]);
}

// ---------------------------------------------------------------------------------------------------------
// What the database holds

export interface AuditRowSeen {
  event: string;
  outcome: string;
  username: string | null;
  door: string | null;
  detail: string | null;
}

/** Reads the database file directly (a second, read-only connection): accounts, sessions, tokens and audit. */
export class StateProbe {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
  }

  /** Everything but the audit trail, which only grows: compared whole before and after a request. */
  snapshot(): { tables: Record<string, unknown[]>; auditTop: number } {
    const tables = {
      accounts: this.db.prepare('SELECT * FROM accounts ORDER BY id').all(),
      sessions: this.db.prepare('SELECT * FROM sessions ORDER BY id').all(),
      tokens: this.db.prepare('SELECT hex(hash) AS hash, session_id, kind, created_at, retired_at FROM tokens ORDER BY 1').all(),
      attempts: this.db.prepare('SELECT * FROM login_attempts ORDER BY 1, 2').all(),
    };
    const top = this.db.prepare('SELECT coalesce(max(id), 0) AS top FROM audit').get() as { top: number };
    return { tables, auditTop: top.top };
  }

  /** Audit rows written after `top`. */
  auditSince(top: number): AuditRowSeen[] {
    return this.db
      .prepare('SELECT event, outcome, username, door, detail FROM audit WHERE id > ? ORDER BY id')
      .all(top) as AuditRowSeen[];
  }

  close(): void {
    this.db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// What each door must answer

export interface Expected {
  status: number;
  /** Asserts everything about the answer beyond its status. */
  check(answer: Answer): void;
  /** The audit rows the request may (and must) add: a failure row, or an idempotent log-out's. Default none. */
  audit?: AuditRowSeen[];
}

const JSON_TYPE = 'application/json; charset=utf-8';
const XML_TYPE = 'text/xml; charset=utf-8';

function cidOf(answer: Answer): string {
  const cid = answer.headers['x-zato-cid'];
  expect(cid).toMatch(CID_FORMAT);
  return cid as string;
}

function expectHeaders(answer: Answer, headers: Record<string, string | null>): void {
  for (const [name, value] of Object.entries(headers)) {
    expect(`${name}: ${answer.headers[name] ?? null}`).toBe(`${name}: ${value}`);
  }
}

/** Zato's JSON error, byte for byte. */
export function zatoJson(status: number, details: string, headers: Record<string, string | null> = {}): Expected {
  return {
    status,
    check(answer) {
      expect(answer.headers['content-type']).toBe(JSON_TYPE);
      expect(answer.text).toBe(JSON.stringify({ zato_env: { result: 'ZATO_ERROR', cid: cidOf(answer), details } }));
      expectHeaders(answer, headers);
    },
  };
}

/** An element tree as nested [name, text] / [name, children] pairs, namespaces as `{ns}name`. */
export type Tree = [string, string | Tree[]];

export function treeOf(el: XmlElement): Tree {
  const name = el.ns ? `{${el.ns}}${el.name}` : el.name;
  return el.children.length > 0 ? [name, el.children.map(treeOf)] : [name, el.text];
}

export const soap = (name: string) => `{${SOAP11}}${name}`;

/** Zato's fault envelope, element by element, with the cid in the faultstring. */
export function zatoFault(
  message: string,
  { faultcode = 'soap:Client', status = 500, headers = {} }: { faultcode?: string; status?: number; headers?: Record<string, string | null> } = {},
): Expected {
  return {
    status,
    check(answer) {
      expect(answer.headers['content-type']).toBe(XML_TYPE);
      const faultstring = `cid [${cidOf(answer)}], faultstring [${message}]`;
      expect(treeOf(parseUntrustedXml(answer.body))).toEqual([
        soap('Envelope'),
        [[soap('Body'), [[soap('Fault'), [['faultcode', faultcode], ['faultstring', faultstring]]]]]],
      ]);
      expectHeaders(answer, headers);
    },
  };
}

/** xWeb's JSON error, byte for byte. */
export function xwebJson(status: number, message: string, kind = 'System', headers: Record<string, string | null> = {}): Expected {
  return {
    status,
    check(answer) {
      cidOf(answer);
      expect(answer.headers['content-type']).toBe(JSON_TYPE);
      expect(answer.text).toBe(JSON.stringify({ Message: message, ExceptionType: `${kind}Exception` }));
      expectHeaders(answer, headers);
    },
  };
}

/** xWeb's fault envelope, element by element. */
export function xwebFault(
  message: string,
  {
    kind = 'System',
    faultcode = 'soap:Client',
    at = 'netForumXML',
    status = 500,
    headers = {},
  }: { kind?: string; faultcode?: string; at?: string; status?: number; headers?: Record<string, string | null> } = {},
): Expected {
  return {
    status,
    check(answer) {
      cidOf(answer);
      expect(answer.headers['content-type']).toBe(XML_TYPE);
      const x = (name: string) => `{${XWEB_NS}}${name}`;
      const trace = `   at ${at}`;
      const tree = treeOf(parseUntrustedXml(answer.body));
      expect(tree).toEqual([
        soap('Envelope'),
        [
          [
            soap('Body'),
            [
              [
                soap('Fault'),
                [
                  ['faultcode', faultcode],
                  ['faultstring', `System.Web.Services.Protocols.SoapException: ${message}\n${trace}`],
                  ['faultactor', expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/xweb\/secure\/netForumXML\.asmx$/)],
                  [
                    'detail',
                    [
                      [
                        x(`${kind}ExceptionInfo`),
                        [
                          [
                            x('XWebException'),
                            [
                              [x('Message'), message],
                              [x('Number'), '0'],
                              [x('Source'), 'xWeb'],
                              [x('Line'), '0'],
                              [x('StackTrace'), trace],
                              [x('ErrorType'), 'GeneralError'],
                              [x('Errors'), ''],
                            ],
                          ],
                        ],
                      ],
                    ],
                  ],
                ],
              ],
            ],
          ],
        ],
      ]);
      expectHeaders(answer, headers);
    },
  };
}

/** Crafter Studio's JSON answer, byte for byte. */
export function crafterJson(status: number, body: object, headers: Record<string, string | null> = {}): Expected {
  return {
    status,
    check(answer) {
      cidOf(answer);
      expect(answer.headers['content-type']).toBe(JSON_TYPE);
      expect(answer.text).toBe(JSON.stringify(body));
      expectHeaders(answer, headers);
    },
  };
}

/** A success whose body `check` asserts. */
export function success(check: (answer: Answer) => void, audit?: AuditRowSeen[]): Expected {
  return { status: 200, check, audit };
}

/** The xWeb SOAP success envelope's body result and header token. */
export function xwebSoapResult(answer: Answer): { result: string | undefined; headerToken: string | undefined } {
  const envelope = parseUntrustedXml(answer.body);
  const header = envelope.children.find((c) => c.name === 'Header');
  const body = envelope.children.find((c) => c.name === 'Body');
  const token = header?.children.find((c) => c.name === 'AuthorizationToken')?.children.find((c) => c.name === 'Token')?.text;
  const response = body?.children[0];
  return { result: response?.children.find((c) => c.name.endsWith('Result'))?.text, headerToken: token };
}

// ---------------------------------------------------------------------------------------------------------
// Checking one hostile request

/** No header the answer carries was written by the client: no injected name, no injected value. */
export function expectNoInjectedHeaders(answer: Answer): void {
  expect(answer.headerNames.filter((n) => n.includes('injected'))).toEqual([]);
  for (const [name, value] of Object.entries(answer.headers)) {
    expect(`${name}: ${String(value)}`).not.toMatch(/injected|[\r\n\0]/);
  }
}

/** Never a stack frame or a file path on the wire. */
export function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\n\s{4}at |\(\/|\/(src|dist|node_modules|work|home|tmp)\/|\.(ts|js):\d+/);
}

/**
 * Sends one hostile request and checks all the corpus asks of it: the exact answer, a bounded time, no
 * change to accounts, sessions or tokens, exactly the expected audit rows, no injected header, no
 * internals on the wire.
 */
export async function expectAnswer(h: Hostile, out: Outgoing, expected: Expected): Promise<Answer> {
  const before = h.state.snapshot();
  const answer = await send(h.url, out);
  expect({ status: answer.status, text: answer.text.slice(0, 600) }).toEqual({ status: expected.status, text: expect.any(String) });
  expected.check(answer);
  expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
  expectNoInjectedHeaders(answer);
  expectNoInternals(answer.text);
  const after = h.state.snapshot();
  expect(after.tables).toEqual(before.tables);
  expect(h.state.auditSince(before.auditTop)).toEqual(expected.audit ?? []);
  return answer;
}

// ---------------------------------------------------------------------------------------------------------
// Normal requests, to show the server still serves after each hostile one

export type DoorName = 'zato' | 'xweb' | 'crafter';

export async function expectStillServing(h: Hostile, door: DoorName, protocol: 'soap' | 'json'): Promise<void> {
  let answer: Answer;
  if (door === 'zato' && protocol === 'soap') {
    answer = await send(h.url, {
      path: '/zato/soap',
      headers: { 'Content-Type': XML_TYPE, SOAPAction: '"zato.security.jwt.log-in"' },
      body: renderXml(Buffer.from(LOGIN_TEMPLATE.replace('{u}', ALICE.username).replace('{p}', ALICE.password)), 'zato', h.integratorToken),
    });
  } else if (door === 'zato') {
    answer = await send(h.url, { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify(ALICE) });
  } else if (door === 'xweb' && protocol === 'soap') {
    answer = await send(h.url, {
      path: '/xweb/secure/netForumXML.asmx',
      headers: { 'Content-Type': XML_TYPE, SOAPAction: `"${XWEB_NS}WebValidate"` },
      body: renderXml(Buffer.from(CHECK_TEMPLATE.replace('{t}', h.victims.guid)), 'xweb', h.integratorToken),
    });
  } else if (door === 'xweb') {
    answer = await send(h.url, {
      method: 'GET',
      path: `/xweb/JSON/WebValidate?authenticationToken=${NIL_GUID}`,
      headers: { Authorization: `Bearer ${h.integratorToken}` },
    });
  } else {
    answer = await send(h.url, { method: 'GET', path: `${STUDIO}/validate-session.json` });
  }
  expect(`${door} ${protocol}: ${answer.status}`).toBe(`${door} ${protocol}: 200`);
}

// ---------------------------------------------------------------------------------------------------------
// Templates: the corpus's XML uses neutral element names that each SOAP door's own replace

const LOGIN_TEMPLATE =
  `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><LOGIN><USERNAME>{u}</USERNAME><PASSWORD>{p}</PASSWORD></LOGIN></soap:Body></soap:Envelope>`;
const CHECK_TEMPLATE = `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Header><AUTH/></soap:Header><soap:Body><CHECK><TOKEN>{t}</TOKEN></CHECK></soap:Body></soap:Envelope>`;

/** A log-in envelope with these (already escaped) values, in the corpus's neutral names. */
export const loginTemplate = (username: string, password: string) => LOGIN_TEMPLATE.replace('{u}', () => username).replace('{p}', () => password);
/** A token-checking envelope (Zato log-out, xWeb WebValidate), in the corpus's neutral names. */
export const checkTemplate = (token: string) => CHECK_TEMPLATE.replace('{t}', () => token);

const NAMES: Record<'zato' | 'xweb', Record<string, string>> = {
  zato: {
    LOGIN: 'z:zato_security_jwt_log_in_request',
    USERNAME: 'z:username',
    PASSWORD: 'z:password',
    CHECK: 'z:zato_security_jwt_log_out_request',
    TOKEN: 'z:token',
  },
  xweb: { LOGIN: 'Authenticate', USERNAME: 'userName', PASSWORD: 'password', CHECK: 'WebValidate', TOKEN: 'authenticationToken' },
};

/** The SOAPAction that goes with a template's operation. */
export function soapActionFor(xml: Buffer, door: 'zato' | 'xweb'): string {
  const check = decodeTemplate(xml).text.includes('<CHECK>');
  if (door === 'zato') return `"zato.security.jwt.${check ? 'log-out' : 'log-in'}"`;
  return `"${XWEB_NS}${check ? 'WebValidate' : 'Authenticate'}"`;
}

interface Decoded {
  text: string;
  encode(text: string): Buffer;
}

/** Templates are stored in the encoding they are sent in; rendering must keep every other byte as it is. */
function decodeTemplate(bytes: Buffer): Decoded {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: bytes.subarray(2).toString('utf16le'), encode: (t) => Buffer.concat([bytes.subarray(0, 2), Buffer.from(t, 'utf16le')]) };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const le = Buffer.from(bytes.subarray(2)).swap16();
    return {
      text: le.toString('utf16le'),
      encode: (t) => Buffer.concat([bytes.subarray(0, 2), Buffer.from(t, 'utf16le').swap16()]),
    };
  }
  if (bytes[1] === 0) return { text: bytes.toString('utf16le'), encode: (t) => Buffer.from(t, 'utf16le') };
  // latin1 maps every byte to one character and back, so invalid UTF-8 and NUL bytes survive.
  return { text: bytes.toString('latin1'), encode: (t) => Buffer.from(t, 'latin1') };
}

/** The template with its neutral names made the door's own, and the integrator token header where `<AUTH/>` is. */
export function renderXml(template: Buffer, door: 'zato' | 'xweb', integratorToken: string): Buffer {
  const { text, encode } = decodeTemplate(template);
  const names = NAMES[door];
  const rendered = text
    .replace(/<(\/?)(LOGIN|USERNAME|PASSWORD|CHECK|TOKEN)>/g, (_m, slash: string, name: string) => {
      const element = names[name]!;
      const isRequest = name === 'LOGIN' || name === 'CHECK';
      if (slash || !isRequest) return `<${slash}${element}>`;
      // The request element declares the door's namespace (xWeb: as default, as its clients do).
      const declaration = door === 'zato' ? `xmlns:z="${ZATO_NS}"` : `xmlns="${XWEB_NS}"`;
      return `<${element} ${declaration}>`;
    })
    .replace(
      /<AUTH\/>/g,
      door === 'xweb' ? `<AuthorizationToken xmlns="${XWEB_NS}"><Token>${integratorToken}</Token></AuthorizationToken>` : '',
    );
  return encode(rendered);
}

export function hostileFile(...path: string[]): Buffer {
  return readFileSync(join(HOSTILE, ...path));
}

/** `{ "repeat": "a", "times": 3 }` in a corpus file stands for "aaa". */
export function expand(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'repeat' in value && 'times' in value) {
    const { repeat, times } = value as { repeat: string; times: number };
    return repeat.repeat(times);
  }
  return value;
}

/** XML text content for any string: escaped, and CR, LF and tab as character references so they arrive as sent. */
export function xmlText(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\r\n\t\0]/g, (c) => `&#${c.charCodeAt(0)};`);
}
