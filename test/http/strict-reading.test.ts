import { parseUntrustedXml, type XmlElement } from '../../src/http/soap/guard';
import { startTestServer, type TestServer } from '../support/server';

/**
 * What two readers could read differently is refused, naming it, at every door and over both protocols; an
 * element of another namespace is never read as a field. Each case proves that no session was opened and no
 * log-in was even tried.
 */

const BOB = { username: 'bob', password: 'pw-bob' };
const ALICE = { username: 'alice', password: 'pw-alice' };
const INTEG = { username: 'integ', password: 'pw-integ' };
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const ZATO_NS = 'https://zato.io/ns/20130518';
const XWEB_NS = 'http://www.avectra.com/2005/';

interface SoapDoor {
  door: 'zato' | 'xweb';
  path: string;
  action: string;
  /** The log-in request with `fields` inside its element (user name first, then password, by the door's names). */
  envelope(fields: string, envelopeExtra?: { header?: string; afterBody?: string }): string;
  user: string;
  password: string;
}

const DOORS: SoapDoor[] = [
  {
    door: 'zato',
    path: '/zato/soap',
    action: '"zato.security.jwt.log-in"',
    user: 'username',
    password: 'password',
    envelope: (fields, extra = {}) =>
      `<soap:Envelope xmlns:soap="${SOAP11}" xmlns:zato="${ZATO_NS}">${extra.header ?? ''}<soap:Body>` +
      `<zato:zato_security_jwt_log_in_request>${fields}</zato:zato_security_jwt_log_in_request></soap:Body>${extra.afterBody ?? ''}</soap:Envelope>`,
  },
  {
    door: 'xweb',
    path: '/xweb/secure/netForumXML.asmx',
    action: `"${XWEB_NS}Authenticate"`,
    user: 'userName',
    password: 'password',
    envelope: (fields, extra = {}) =>
      `<soap:Envelope xmlns:soap="${SOAP11}">${extra.header ?? ''}<soap:Body>` +
      `<Authenticate xmlns="${XWEB_NS}">${fields}</Authenticate></soap:Body>${extra.afterBody ?? ''}</soap:Envelope>`,
  },
];

/** The door's own prefix for its fields: Zato's envelopes qualify them with `zato:`, xWeb's take the default namespace. */
const q = (door: SoapDoor, name: string) => (door.door === 'zato' ? `zato:${name}` : name);
const el = (door: SoapDoor, name: string, text: string) => `<${q(door, name)}>${text}</${q(door, name)}>`;

function find(root: XmlElement, name: string): XmlElement | undefined {
  if (root.name === name) return root;
  for (const c of root.children) {
    const hit = find(c, name);
    if (hit) return hit;
  }
  return undefined;
}

describe('strict reading', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.addUser(BOB.username, BOB.password, 'integrator');
    await server.addUser(ALICE.username, ALICE.password, 'integrator');
    await server.addUser(INTEG.username, INTEG.password, 'integrator');
  });
  afterAll(() => server.stop());

  /** Nothing happened: no live session, and no log-in attempt in the audit since `before`. */
  async function expectNothingOpened(auditBefore: number): Promise<void> {
    expect(await server.core.sessions.list({ alive: true })).toEqual([]);
    const logins = (await server.core.audit.recent(500)).filter((row) => row.event === 'login');
    expect(logins.length).toBe(auditBefore);
  }
  const loginRows = async () => (await server.core.audit.recent(500)).filter((row) => row.event === 'login').length;

  async function postSoap(door: SoapDoor, xml: string): Promise<{ status: number; message: string; faultcode: string }> {
    const res = await fetch(server.url + door.path, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: door.action },
      body: xml,
    });
    const envelope = parseUntrustedXml(Buffer.from(await res.text()));
    const faultcode = find(envelope, 'faultcode')?.text ?? '';
    const message =
      door.door === 'zato'
        ? /faultstring \[(.*)\]$/s.exec(find(envelope, 'faultstring')!.text)![1]!
        : find(envelope, 'Message')!.text;
    return { status: res.status, message, faultcode };
  }

  describe.each(DOORS)('over SOAP at $door', (door) => {
    const requestName = door.door === 'zato' ? 'zato_security_jwt_log_in_request' : 'Authenticate';
    const cases: [string, () => string, string][] = [
      [
        'a field given twice (bob, then alice, with bob\'s password)',
        () => el(door, door.user, 'bob') + el(door, door.user, 'alice') + el(door, door.password, BOB.password),
        `Element ${door.user} is given more than once in ${requestName}`,
      ],
      [
        'an element inside a value (ali<b>x</b>ce)',
        () => el(door, door.user, 'ali<b>x</b>ce') + el(door, door.password, ALICE.password),
        `Element ${door.user} must hold text only, not the element b`,
      ],
      [
        'a second Body',
        () => el(door, door.user, 'alice') + el(door, door.password, ALICE.password),
        'The SOAP envelope has 2 Body elements; exactly one is allowed',
      ],
      [
        'a second Header',
        () => el(door, door.user, 'alice') + el(door, door.password, ALICE.password),
        'The SOAP envelope has 2 Header elements; one at most is allowed',
      ],
    ];

    it.each(cases)('refuses %s with a Client fault naming it', async (name, fields, message) => {
      const before = await loginRows();
      const extra =
        name === 'a second Body'
          ? { afterBody: `<soap:Body>${door.door === 'zato' ? `<zato:zato_security_jwt_log_in_request xmlns:zato="${ZATO_NS}"/>` : `<Authenticate xmlns="${XWEB_NS}"/>`}</soap:Body>` }
          : name === 'a second Header'
            ? { header: '<soap:Header/><soap:Header/>' }
            : {};
      const answer = await postSoap(door, door.envelope(fields(), extra));
      expect(answer).toEqual({ status: 500, faultcode: 'soap:Client', message });
      await expectNothingOpened(before);
    });

    it('never reads an element of another namespace as a field: it is ignored, as unknown elements are', async () => {
      const before = await loginRows();
      // Only the foreign username: the field is missing.
      const foreignOnly = `<x:${door.user} xmlns:x="urn:elsewhere">alice</x:${door.user}>` + el(door, door.password, ALICE.password);
      const missing = await postSoap(door, door.envelope(foreignOnly));
      expect(missing).toEqual({
        status: 500,
        faultcode: 'soap:Client',
        message: door.door === 'zato' ? 'Missing element: username' : 'userName is required',
      });
      // An unqualified one is of no namespace, not the door's.
      const unqualified = door.door === 'zato' ? `<username>alice</username><zato:password>${ALICE.password}</zato:password>` : '';
      if (unqualified) expect((await postSoap(door, door.envelope(unqualified))).message).toBe('Missing element: username');
      await expectNothingOpened(before);
      // Beside the real one, the foreign element changes nothing: bob's name with alice's password is wrong.
      const beside = `<x:${door.user} xmlns:x="urn:elsewhere">alice</x:${door.user}>` + el(door, door.user, 'bob') + el(door, door.password, ALICE.password);
      const wrong = await postSoap(door, door.envelope(beside));
      expect(wrong.message).toBe(door.door === 'zato' ? 'Invalid username or password' : 'Invalid Credentials Supplied');
      const last = (await server.core.audit.recent(1))[0]!;
      expect([last.event, last.outcome, last.username]).toEqual(['login', 'failed', 'bob']);
    });
  });

  describe('over JSON: a duplicate key is a 400 naming the key', () => {
    const routes: [string, string, unknown, Record<string, string>, (body: any) => string][] = [
      ['Zato', '/zato/json/zato.security.jwt.log-in', null, {}, (b) => b.zato_env.details],
      ['Zato 3 style', '/zato/jwt/log-in', null, {}, (b) => b.zato_env.details],
      ['xWeb', '/xweb/JSON/Authenticate', 'Authenticate', {}, (b) => b.Message],
      [
        'Crafter',
        '/studio/api/1/services/api/1/security/login.json',
        null,
        { Cookie: 'XSRF-TOKEN=t1', 'X-XSRF-TOKEN': 't1' },
        (b) => b.message,
      ],
    ];

    it.each(routes)('%s', async (_name, path, wrapper, headers, messageOf) => {
      const before = await loginRows();
      const user = wrapper ? 'userName' : 'username';
      const inner = `{"${user}": "bob", "${user}": "alice", "password": "${ALICE.password}"}`;
      const escaped = `{"${user}": "bob", "\\u00${user.charCodeAt(0).toString(16)}${user.slice(1)}": "alice", "password": "${ALICE.password}"}`;
      for (const fields of [inner, escaped]) {
        const body = wrapper ? `{"${wrapper}": ${fields}}` : fields;
        const res = await fetch(server.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
        expect(res.status).toBe(400);
        const answer = (await res.json()) as unknown;
        if (_name === 'Crafter') expect(answer).toEqual({ message: 'Bad Request', field: user });
        else expect(messageOf(answer)).toBe(`Duplicate key in the JSON body: "${user}"`);
      }
      // The same key in two different objects is no duplicate.
      const nested = await fetch(server.url + '/xweb/JSON/Authenticate', {
        method: 'POST',
        body: `{"Authenticate": {"userName": "${INTEG.username}", "password": "${INTEG.password}"}, "x": {"Authenticate": 1}}`,
      });
      expect(nested.status).toBe(200);
      await server.core.sessions.revokeEveryLive('test', { cid: null, door: 'test', actor: 'test' });
      // One log-in row: the nested one's.
      expect((await loginRows()) - before).toBe(1);
      expect(await server.core.sessions.list({ alive: true })).toEqual([]);
    });
  });
});
