import { gzipSync } from 'node:zlib';
import { startTestServer, type TestServer } from '../support/server';
import { basic, faultOf, filledEnvelope, fixture, jsonLogIn, postJson, postSoap, zatoFaultString } from './support';

const LOG_IN = 'zato.security.jwt.log-in';
const ZATO_NS = 'https://zato.io/ns/20130518';
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';

/** A SOAP 1.1 envelope around `body`. */
const envelope = (body: string, soapNs = SOAP11) => `<soap:Envelope xmlns:soap="${soapNs}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
const logInElement = (fields: string) => `<z:zato_security_jwt_log_in_request xmlns:z="${ZATO_NS}">${fields}</z:zato_security_jwt_log_in_request>`;

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
${envelope(logInElement('<z:username>&lol2;</z:username><z:password>x</z:password>'))}`;

describe('too many log-ins from one address', () => {
  it('answers 429 with Retry-After over JSON and a soap:Client fault over SOAP once the failures are spent, Basic checks counted too', async () => {
    const server = await startTestServer({ DUALGATE_LOGIN_RATE: '2' });
    try {
      await server.addUser('alice', 'pw-alice');
      // Good log-ins are not counted; two failures spend the minute's budget.
      for (let i = 0; i < 3; i++) await jsonLogIn(server.url, 'alice', 'pw-alice');
      for (let i = 0; i < 2; i++) expect((await postJson(server.url, '/zato/json/zato.security.jwt.log-in', { username: 'alice', password: 'wrong' })).status).toBe(401);
      const json = await postJson(server.url, '/zato/json/zato.security.jwt.log-in', { username: 'alice', password: 'pw-alice' });
      expect(json.status).toBe(429);
      expect(json.body).toEqual({ zato_env: { result: 'ZATO_ERROR', cid: json.headers.get('x-zato-cid'), details: 'Too many attempts' } });
      expect(Number(json.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      const admin = await postJson(server.url, '/zato/json/zato.security.jwt.get-list', {}, basic('admin', 'whatever'));
      expect([admin.status, admin.body.zato_env.details]).toEqual([429, 'Too many attempts']);

      const soap = await postSoap(server.url, LOG_IN, filledEnvelope('log-in.request.xml', { username: 'alice', password: 'pw-alice' }));
      expect(soap.status).toBe(500);
      expect(faultOf(soap.text)).toEqual({ faultcode: 'soap:Client', faultstring: `cid [${soap.headers.get('x-zato-cid')}], faultstring [Too many attempts]` });
      expect(soap.headers.get('retry-after')).not.toBeNull();

      server.clock.advance(60_000);
      await expect(jsonLogIn(server.url, 'alice', 'pw-alice')).resolves.toMatch(/\./);
    } finally {
      await server.stop();
    }
  });
});

describe('what bad input gets at the Zato door', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.addUser('alice', 'pw-alice');
  });
  afterAll(() => server.stop());

  const stillAnswersSoap = async () => {
    const res = await postSoap(server.url, LOG_IN, filledEnvelope('log-in.request.xml', { username: 'alice', password: 'pw-alice' }));
    expect(res.status).toBe(200);
  };

  describe('over SOAP: a fault, text/xml, the human message after the cid', () => {
    it.each<[string, string | undefined, string | Buffer, string, number, string, Record<string, string>?]>([
      ['a body over 64 KiB', LOG_IN, envelope(logInElement(`<z:username>${'a'.repeat(70_000)}</z:username>`)), 'soap:Client', 413, 'Request body larger than 65536 bytes'],
      [
        'a gzip body over 64 KiB once inflated',
        LOG_IN,
        gzipSync(Buffer.from(envelope(logInElement(`<z:username>${'a'.repeat(200_000)}</z:username>`)))),
        'soap:Client',
        413,
        'Request body larger than 65536 bytes',
        { 'Content-Encoding': 'gzip' },
      ],
      ['an empty body', LOG_IN, '', 'soap:Client', 500, 'Empty request body'],
      ['a body of blanks', LOG_IN, '  \n ', 'soap:Client', 500, 'Empty request body'],
      ['a DOCTYPE with entities (billion laughs)', LOG_IN, BILLION_LAUGHS, 'soap:Client', 500, 'DOCTYPE and ENTITY declarations are not allowed'],
      [
        'an external entity',
        LOG_IN,
        `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${envelope(logInElement('<z:username>&xxe;</z:username>'))}`,
        'soap:Client',
        500,
        'DOCTYPE and ENTITY declarations are not allowed',
      ],
      [
        'XML that is not well-formed',
        LOG_IN,
        '<a><b></a>',
        'soap:Client',
        500,
        'Malformed XML: unexpected close tag (line 1)',
      ],
      ['XML that is not a SOAP envelope', LOG_IN, '<username>alice</username>', 'soap:Client', 500, 'The request is not a SOAP envelope'],
      [
        'a SOAP 1.2 envelope',
        LOG_IN,
        envelope(logInElement('<z:username>alice</z:username><z:password>pw-alice</z:password>'), 'http://www.w3.org/2003/05/soap-envelope'),
        'soap:VersionMismatch',
        500,
        `Only SOAP 1.1 envelopes (${SOAP11}) are accepted`,
      ],
      [
        'a SOAPAction that disagrees with the body element',
        'zato.security.jwt.log-out',
        fixture('log-in.request.xml'),
        'soap:Client',
        500,
        'SOAPAction zato.security.jwt.log-out does not match the body element zato_security_jwt_log_in_request',
      ],
      ['an unknown SOAPAction', 'zato.service.invoke', fixture('log-in.request.xml'), 'soap:Client', 500, 'Unknown operation: zato.service.invoke'],
      [
        'an unknown body element',
        undefined,
        envelope(`<z:zato_ping_request xmlns:z="${ZATO_NS}"/>`),
        'soap:Client',
        500,
        `Unknown operation: {${ZATO_NS}}zato_ping_request`,
      ],
      ['a missing password', LOG_IN, envelope(logInElement('<z:username>alice</z:username>')), 'soap:Client', 500, 'Missing element: password'],
      ['the seed\'s envelope left empty', LOG_IN, fixture('log-in.request.xml'), 'soap:Client', 500, 'Missing element: username'],
      [
        'a username over 128 characters',
        LOG_IN,
        envelope(logInElement(`<z:username>${'u'.repeat(129)}</z:username><z:password>pw</z:password>`)),
        'soap:Client',
        500,
        'Invalid username: longer than 128 characters',
      ],
      [
        'a password over 72 bytes',
        LOG_IN,
        envelope(logInElement(`<z:username>alice</z:username><z:password>${'é'.repeat(37)}</z:password>`)),
        'soap:Client',
        500,
        'Invalid password: longer than 72 bytes',
      ],
      ['a log-out without a token', 'zato.security.jwt.log-out', fixture('log-out.request.xml'), 'soap:Client', 500, 'Missing element: token'],
    ])('%s', async (_what, action, body, faultcode, status, message, headers = {}) => {
      const res = await postSoap(server.url, action, body, headers);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
      expect(faultOf(res.text)).toEqual({ faultcode, faultstring: `cid [${res.headers.get('x-zato-cid')}], faultstring [${message}]` });
      expect(res.text).not.toContain('é'.repeat(37));
      await stillAnswersSoap();
    });

    it('answers the unexpected with soap:Server, the cid and no stack', async () => {
      const login = jest.spyOn(server.core.sessions, 'login').mockRejectedValueOnce(new Error('boom in /srv/dualgate/secret.ts'));
      try {
        const res = await postSoap(server.url, LOG_IN, filledEnvelope('log-in.request.xml', { username: 'alice', password: 'pw-alice' }));
        expect(res.status).toBe(500);
        const fault = faultOf(res.text);
        expect(fault).toEqual({ faultcode: 'soap:Server', faultstring: expect.stringMatching(zatoFaultString('Internal server error')) });
        expect(res.text).not.toMatch(/boom|secret\.ts|at /);
      } finally {
        login.mockRestore();
      }
      await stillAnswersSoap();
    });
  });

  describe('over JSON: the status by cause and {"zato_env": {"result": "ZATO_ERROR", "cid", "details"}}', () => {
    const PATH = '/zato/json/zato.security.jwt.log-in';
    it.each<[string, string, string | Buffer, number, string, Record<string, string>?]>([
      ['a body over 16 KiB', PATH, JSON.stringify({ username: 'a'.repeat(20_000), password: 'x' }), 413, 'Request body larger than 16384 bytes'],
      [
        'a gzip body over 16 KiB once inflated',
        PATH,
        gzipSync(Buffer.from(JSON.stringify({ username: 'a'.repeat(100_000) }))),
        413,
        'Request body larger than 16384 bytes',
        { 'Content-Encoding': 'gzip' },
      ],
      ['an empty body', PATH, '', 400, 'Empty request body'],
      ['malformed JSON', PATH, '{"username": "alice",', 400, 'The request body is not valid JSON'],
      ['JSON that is not an object', PATH, '["alice", "pw-alice"]', 400, 'The request body must be a JSON object'],
      ['a missing password', PATH, '{"username": "alice"}', 400, 'Missing element: password'],
      ['the seed\'s body left empty', PATH, fixture('log-in.request.json'), 400, 'Missing element: username'],
      ['a username that is not a string', PATH, '{"username": 42, "password": "pw-alice"}', 400, 'Invalid username: expected a string'],
      ['a token that is not a string', PATH, '{"username": "alice", "password": "pw-alice", "token": {}}', 400, 'Invalid token: expected a string'],
      ['a password over 72 bytes', PATH, JSON.stringify({ username: 'alice', password: 'é'.repeat(37) }), 400, 'Invalid password: longer than 72 bytes'],
      ['a log-out without a token', '/zato/json/zato.security.jwt.log-out', '{"token": null}', 400, 'Missing element: token'],
      ['an unknown service', '/zato/json/zato.service.invoke', '{}', 404, 'Unknown service: zato.service.invoke'],
      ['a service by its element name', '/zato/json/zato_security_jwt_log_in', '{}', 404, 'Unknown service: zato_security_jwt_log_in'],
    ])('%s', async (_what, path, body, status, details, headers = {}) => {
      const res = await fetch(server.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const text = await res.text();
      expect(text).toBe(JSON.stringify({ zato_env: { result: 'ZATO_ERROR', cid: res.headers.get('x-zato-cid'), details } }));
      expect(text).not.toContain('é'.repeat(37));
      await expect(jsonLogIn(server.url, 'alice', 'pw-alice')).resolves.toBeDefined();
    });

    it('answers the unexpected with 500, the cid and no stack', async () => {
      const logout = jest.spyOn(server.core.sessions, 'logout').mockRejectedValueOnce(new Error('boom in /srv/dualgate/secret.ts'));
      try {
        const res = await postJson(server.url, '/zato/json/zato.security.jwt.log-out', { token: 'x' });
        expect(res.status).toBe(500);
        expect(res.body).toEqual({ zato_env: { result: 'ZATO_ERROR', cid: res.headers.get('x-zato-cid'), details: 'Internal server error' } });
      } finally {
        logout.mockRestore();
      }
      await expect(jsonLogIn(server.url, 'alice', 'pw-alice')).resolves.toBeDefined();
    });
  });
});
