import { parseUntrustedXml } from '../../src/http/soap/guard';
import type { TestServer } from '../support/server';
import {
  at,
  authenticate,
  CUSTOMER,
  customerKeyOf,
  expectSameShape,
  faultOf,
  fixture,
  headerToken,
  INTEGRATOR,
  NIL_GUID,
  postSoap,
  request,
  SOAP_PATH,
  startXwebServer,
  UUID_V4,
  type SoapAnswer,
} from './xweb-support';

const reference = (name: string) => parseUntrustedXml(Buffer.from(fixture(name)));
/** The XML declaration and the Envelope start tag, with its namespace declarations. */
const startOf = (xml: string) => xml.trim().split('\n').slice(0, 2);

/** A customer's token, through raw SOAP WebLogin. */
async function webLogin(server: TestServer, integratorToken: string, account = CUSTOMER): Promise<string> {
  const answer = await postSoap(
    server,
    request('WebLogin', { integratorToken, userLoginPlain: account.username, passwordPlain: account.password }),
    'WebLogin',
  );
  expect(answer.status).toBe(200);
  return at(answer.envelope, 'Body', 'WebLoginResponse', 'WebLoginResult').text;
}

function validate(server: TestServer, integratorToken: string, authenticationToken: string): Promise<SoapAnswer> {
  return postSoap(server, request('WebValidate', { integratorToken, authenticationToken }), 'WebValidate');
}

describe('xWeb SOAP on the wire', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startXwebServer();
  });
  afterAll(() => server.stop());

  /** A fault as the spec words it: HTTP 500, soap:Client, the endpoint as actor, no token header. */
  function expectFault(answer: SoapAnswer, operation: string, kind: string, message: string, faultcode = 'soap:Client'): void {
    expect(answer.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(faultOf(answer)).toEqual({
      faultcode,
      faultstring: `System.Web.Services.Protocols.SoapException: ${message}\n   at ${operation}`,
      faultactor: `${server.url}${SOAP_PATH}`,
      kind,
      message,
    });
    expect(headerToken(answer.envelope)).toBeUndefined();
    expect(answer.envelope.children.map((c) => c.name)).toEqual(['Body']);
  }

  /** The server still does real work after whatever came before. */
  async function stillAnswers(): Promise<void> {
    const token = await authenticate(server);
    const customer = await webLogin(server, token);
    const answer = await validate(server, token, customer);
    expect(at(answer.envelope, 'Body', 'WebValidateResponse', 'WebValidateResult').text).toBe(await customerKeyOf(server, CUSTOMER.username));
  }

  describe('the seed', () => {
    it("accepts the seed's WebLogout request with live tokens and answers in the seed's shape, token, addressing and timestamp", async () => {
      const integratorToken = await authenticate(server);
      const customerToken = await webLogin(server, integratorToken);
      const seed = fixture('seed-WebLogout.request.xml');
      expect(seed).toContain('fde4d172-70c4-4fa4-91aa-a683b2435ea6');
      expect(seed).toContain('9e2eee63-07cc-4ac3-aff3-dfe34d995c42');
      const live = seed.replace('fde4d172-70c4-4fa4-91aa-a683b2435ea6', integratorToken).replace('9e2eee63-07cc-4ac3-aff3-dfe34d995c42', customerToken);

      const answer = await postSoap(server, live, 'WebLogout');
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('text/xml; charset=utf-8');
      expectSameShape(answer.envelope, reference('seed-WebLogout.response.xml'), { Token: integratorToken });
      expect(startOf(answer.text)).toEqual(startOf(fixture('seed-WebLogout.response.xml')));
      expect(answer.text).toContain('<WebLogoutResponse xmlns="http://www.avectra.com/2005/"/>');

      const header = at(answer.envelope, 'Header');
      const now = server.clock.now();
      expect(at(header, 'Security', 'Timestamp', 'Created').text).toBe(new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'));
      expect(at(header, 'Security', 'Timestamp', 'Expires').text).toBe(new Date(now + 300_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
      expect(at(header, 'MessageID').text.slice('uuid:'.length)).toMatch(UUID_V4);
      // The seed's request has no MessageID, and its answer still relates to one: a fresh id.
      expect(at(header, 'RelatesTo').text).toMatch(/^uuid:[0-9a-f-]{36}$/);
      expect(at(header, 'RelatesTo').text).not.toBe(at(header, 'MessageID').text);

      const after = await validate(server, integratorToken, customerToken);
      expect(at(after.envelope, 'Body', 'WebValidateResponse', 'WebValidateResult').text).toBe(NIL_GUID);
    });

    it('logs out idempotently: the same dead token and a token never issued both succeed', async () => {
      const integratorToken = await authenticate(server);
      const customerToken = await webLogin(server, integratorToken);
      const seed = fixture('seed-WebLogout.request.xml').replace('fde4d172-70c4-4fa4-91aa-a683b2435ea6', integratorToken);
      for (const token of [customerToken, customerToken, '9e2eee63-07cc-4ac3-aff3-dfe34d995c42', 'not-a-token']) {
        const answer = await postSoap(server, seed.replace('9e2eee63-07cc-4ac3-aff3-dfe34d995c42', token), 'WebLogout');
        expect(answer.status).toBe(200);
        expect(at(answer.envelope, 'Body', 'WebLogoutResponse').children).toEqual([]);
        expect(headerToken(answer.envelope)).toBe(integratorToken);
      }
      await expect(server.core.sessions.verify(customerToken)).rejects.toMatchObject({ code: 'TokenExpired' });
    });

    it('ends a session of any kind: a Zato-style JWT session logged out through xWeb is dead', async () => {
      const integratorToken = await authenticate(server);
      const jwt = await server.core.sessions.login(CUSTOMER.username, CUSTOMER.password, { kind: 'jwt' }, { cid: null, door: 'zato' });
      const seed = fixture('seed-WebLogout.request.xml')
        .replace('fde4d172-70c4-4fa4-91aa-a683b2435ea6', integratorToken)
        .replace('9e2eee63-07cc-4ac3-aff3-dfe34d995c42', jwt.token);
      expect((await postSoap(server, seed, 'WebLogout')).status).toBe(200);
      await expect(server.core.sessions.verify(jwt.token)).rejects.toMatchObject({ code: 'TokenExpired' });
    });
  });

  describe('headers', () => {
    it('reads the token under another prefix with mustUnderstand and actor, ignores an unknown header, and relates to the MessageID', async () => {
      const integratorToken = await authenticate(server);
      const customerToken = await webLogin(server, integratorToken);
      const messageId = 'uuid:5b0c1f43-8f5d-4a51-9d59-0c3a5a0e4b7e';
      const answer = await postSoap(server, request('WebValidate-odd-headers', { integratorToken, authenticationToken: customerToken, messageId }), 'WebValidate');
      expect(answer.status).toBe(200);
      expect(at(answer.envelope, 'Body', 'WebValidateResponse', 'WebValidateResult').text).toBe(await customerKeyOf(server, CUSTOMER.username));
      expect(at(answer.envelope, 'Header', 'RelatesTo').text).toBe(messageId);
      expect(at(answer.envelope, 'Header', 'Action').text).toBe('http://www.avectra.com/2005/WebValidateResponse');
      expect(headerToken(answer.envelope)).toBe(integratorToken);
    });

    it('dispatches by the body element when the SOAPAction header is absent', async () => {
      const integratorToken = await authenticate(server);
      const answer = await postSoap(server, request('WebValidate', { integratorToken, authenticationToken: NIL_GUID }), null);
      expect(answer.status).toBe(200);
      expect(at(answer.envelope, 'Body', 'WebValidateResponse', 'WebValidateResult').text).toBe(NIL_GUID);
    });
  });

  describe('faults', () => {
    it('answers a call without the header with InvalidToken', async () => {
      const answer = await postSoap(server, request('WebValidate-no-header', { authenticationToken: NIL_GUID }), 'WebValidate');
      expect(answer.status).toBe(500);
      expectFault(answer, 'WebValidate', 'InvalidToken', 'Invalid Token Value');
      await stillAnswers();
    });

    it('answers a dead header token, and one never issued, with InvalidToken', async () => {
      const integratorToken = await authenticate(server);
      await server.core.sessions.logout(integratorToken, { cid: null, door: 'test' });
      for (const token of [integratorToken, 'fde4d172-70c4-4fa4-91aa-a683b2435ea6', 'garbage']) {
        const answer = await postSoap(server, request('WebLogin', { integratorToken: token, userLoginPlain: 'ann', passwordPlain: 'x' }), 'WebLogin');
        expect(answer.status).toBe(500);
        expectFault(answer, 'WebLogin', 'InvalidToken', 'Invalid Token Value');
      }
      await stillAnswers();
    });

    it("answers a user account's customer token used as the integrator token with InvalidToken, and leaves it working", async () => {
      const integratorToken = await authenticate(server);
      const customerToken = await webLogin(server, integratorToken);
      const answer = await validate(server, customerToken, customerToken);
      expect(answer.status).toBe(500);
      expectFault(answer, 'WebValidate', 'InvalidToken', 'Invalid Token Value');
      const valid = await validate(server, integratorToken, customerToken);
      expect(at(valid.envelope, 'Body', 'WebValidateResponse', 'WebValidateResult').text).toBe(await customerKeyOf(server, CUSTOMER.username));
    });

    it('answers wrong credentials at Authenticate with InvalidCredentials, and a locked account the same', async () => {
      await server.addUser('locky', 'locky-pw', 'integrator');
      const wrong = await postSoap(server, request('Authenticate', { userName: 'locky', password: 'nope' }), 'Authenticate');
      expect(wrong.status).toBe(500);
      expectFault(wrong, 'Authenticate', 'InvalidCredentials', 'Invalid Credentials Supplied');
      for (let i = 1; i < server.config.lockoutThreshold; i++) {
        await postSoap(server, request('Authenticate', { userName: 'locky', password: 'nope' }), 'Authenticate');
      }
      const locked = await postSoap(server, request('Authenticate', { userName: 'locky', password: 'locky-pw' }), 'Authenticate');
      expectFault(locked, 'Authenticate', 'InvalidCredentials', 'Invalid Credentials Supplied');
      await stillAnswers();
    });

    it('answers wrong customer credentials at WebLogin with System "Unable to login user."', async () => {
      const integratorToken = await authenticate(server);
      const answer = await postSoap(server, request('WebLogin', { integratorToken, userLoginPlain: CUSTOMER.username, passwordPlain: 'wrong' }), 'WebLogin');
      expect(answer.status).toBe(500);
      expectFault(answer, 'WebLogin', 'System', 'Unable to login user.');
    });

    it('names a missing or over-long field by its wire name', async () => {
      const integratorToken = await authenticate(server);
      const full = request('WebLogin', { integratorToken, userLoginPlain: CUSTOMER.username, passwordPlain: 'p'.repeat(73) });
      expectFault(await postSoap(server, full, 'WebLogin'), 'WebLogin', 'System', 'Invalid passwordPlain: longer than 72 bytes');
      const missing = full.replace(/<passwordPlain>.*<\/passwordPlain>/, '');
      expectFault(await postSoap(server, missing, 'WebLogin'), 'WebLogin', 'System', 'passwordPlain is required');
      const nil = full.replace(/<passwordPlain>.*<\/passwordPlain>/, '<passwordPlain xsi:nil="true"/>');
      expectFault(await postSoap(server, nil, 'WebLogin'), 'WebLogin', 'System', 'passwordPlain is required');
      const empty = request('Authenticate', { userName: '', password: 'x' });
      expectFault(await postSoap(server, empty, 'Authenticate'), 'Authenticate', 'System', 'userName is required');
    });

    it('refuses a SOAP 1.2 envelope sent as text/xml (SOAP 1.1) with a SOAP 1.1 VersionMismatch fault', async () => {
      const answer = await postSoap(server, request('WebValidate-soap12', { integratorToken: NIL_GUID, authenticationToken: NIL_GUID }), 'WebValidate');
      expect(answer.status).toBe(500);
      expectFault(
        answer,
        'netForumXML',
        'System',
        'Only SOAP 1.1 envelopes (http://schemas.xmlsoap.org/soap/envelope/) are accepted as text/xml; send SOAP 1.2 as application/soap+xml',
        'soap:VersionMismatch',
      );
    });

    it('refuses a DOCTYPE, malformed XML and an empty body at once, with Client faults', async () => {
      expectFault(await postSoap(server, fixture('requests/WebValidate-doctype.xml'), 'WebValidate'), 'netForumXML', 'System', 'DOCTYPE and ENTITY declarations are not allowed');
      const broken = request('WebValidate', { integratorToken: NIL_GUID, authenticationToken: NIL_GUID }).replace('</soap:Body>', '');
      const malformed = await postSoap(server, broken, 'WebValidate');
      expect(faultOf(malformed).message).toMatch(/^Malformed XML: /);
      expect(faultOf(malformed).kind).toBe('System');
      expectFault(await postSoap(server, '', 'WebValidate'), 'netForumXML', 'System', 'Empty request body');
      await stillAnswers();
    });

    it('refuses a SOAPAction that disagrees with the body, and an unknown operation, naming it', async () => {
      const xml = request('WebValidate', { integratorToken: NIL_GUID, authenticationToken: NIL_GUID });
      expectFault(
        await postSoap(server, xml, 'WebLogin'),
        'netForumXML',
        'System',
        'SOAPAction http://www.avectra.com/2005/WebLogin does not match the body element WebValidate',
      );
      expectFault(await postSoap(server, xml, 'GetCustomerByKey'), 'netForumXML', 'System', 'Unknown operation: http://www.avectra.com/2005/GetCustomerByKey');
      const other = xml.replace(/WebValidate/g, 'GetQuery');
      expectFault(await postSoap(server, other, null), 'netForumXML', 'System', 'Unknown operation: {http://www.avectra.com/2005/}GetQuery');
    });

    it('answers a body over the limit with 413 and a fault', async () => {
      const big = request('WebValidate', { integratorToken: NIL_GUID, authenticationToken: 'x'.repeat(server.config.xmlLimit) });
      const answer = await postSoap(server, big, 'WebValidate');
      expect(answer.status).toBe(413);
      expectFault(answer, 'netForumXML', 'System', `Request body larger than ${server.config.xmlLimit} bytes`);
      await stillAnswers();
    });
  });
});

describe('xWeb SOAP compared with the real xWeb answers (WS-Addressing off)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startXwebServer({ DUALGATE_XWEB_WS_ADDRESSING: 'false' });
  });
  afterAll(() => server.stop());

  const faultTexts = (operation: string, message: string) => ({
    faultstring: `System.Web.Services.Protocols.SoapException: ${message}\n   at ${operation}`,
    StackTrace: `at ${operation}`,
    faultactor: `${server.url}${SOAP_PATH}`,
  });

  it('answers Authenticate like enterprise_authenticate_success.xml (without its server actor id)', async () => {
    const answer = await postSoap(server, request('Authenticate', { userName: INTEGRATOR.username, password: INTEGRATOR.password }), 'Authenticate');
    expect(answer.status).toBe(200);
    expectSameShape(answer.envelope, reference('reference/enterprise_authenticate_success.xml'), {}, ['soap:actor']);
    expect(startOf(answer.text)).toEqual(startOf(fixture('reference/enterprise_authenticate_success.xml')));
    expect(answer.text).not.toContain('wsa:');
  });

  it('answers WebValidate like enterprise_web_validate_success.xml and, for a dead token, _failure.xml', async () => {
    const integratorToken = await authenticate(server);
    const customerToken = await webLogin(server, integratorToken);
    const live = await validate(server, integratorToken, customerToken);
    expectSameShape(live.envelope, reference('reference/enterprise_web_validate_success.xml'), {
      Token: integratorToken,
      WebValidateResult: await customerKeyOf(server, CUSTOMER.username),
    });
    await server.core.sessions.logout(customerToken, { cid: null, door: 'test' });
    const dead = await validate(server, integratorToken, customerToken);
    expectSameShape(dead.envelope, reference('reference/enterprise_web_validate_failure.xml'), { Token: integratorToken });
    const unknown = await validate(server, integratorToken, 'no-such-token');
    expectSameShape(unknown.envelope, reference('reference/enterprise_web_validate_failure.xml'), { Token: integratorToken });
  });

  it('answers wrong credentials like enterprise_authenticate_failure.xml and enterprise_web_user_login_failure.xml', async () => {
    const failed = await postSoap(server, request('Authenticate', { userName: INTEGRATOR.username, password: 'wrong' }), 'Authenticate');
    expect(failed.status).toBe(500);
    expectSameShape(failed.envelope, reference('reference/enterprise_authenticate_failure.xml'), faultTexts('Authenticate', 'Invalid Credentials Supplied'));
    expect(startOf(failed.text)).toEqual(startOf(fixture('reference/enterprise_authenticate_failure.xml')));

    const integratorToken = await authenticate(server);
    const login = await postSoap(server, request('WebLogin', { integratorToken, userLoginPlain: CUSTOMER.username, passwordPlain: 'wrong' }), 'WebLogin');
    expect(login.status).toBe(500);
    expectSameShape(login.envelope, reference('reference/enterprise_web_user_login_failure.xml'), faultTexts('WebLogin', 'Unable to login user.'));
  });
});
