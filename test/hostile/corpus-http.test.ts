import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ANSWER_BOUND_MS,
  basicAuth,
  crafterJson,
  expectAnswer,
  expectStillServing,
  sendRaw,
  startHostileServer,
  STUDIO,
  xwebJson,
  zatoJson,
  type Answer,
  type Expected,
  type Hostile,
} from './harness';

/**
 * What is wrong with the HTTP request itself rather than its body: oversized or malformed headers, framing
 * tricks, path tricks, a body announced larger than the limit. Raw sockets where node:http would refuse to
 * send it.
 */

const ENDPOINTS = [
  '/zato/soap',
  '/xweb/secure/netForumXML.asmx',
  '/zato/json/zato.security.jwt.log-in',
  '/zato/jwt/log-in',
  '/zato/jwt/log-out',
  '/xweb/JSON/Authenticate',
  `${STUDIO}/login.json`,
  `${STUDIO}/logout.json`,
];

/** Node's own answer to a request it cannot parse: before any route, so in no door's format. */
const NODE_400 = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
const NODE_431 = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';

const head = (path: string, headers: string[], method = 'POST') => `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;

/** The server's JSON for a path no door routes. */
function appJson(status: number, error: string): Expected {
  return {
    status,
    check(answer: Answer) {
      expect(answer.text).toBe(JSON.stringify({ error, cid: answer.headers['x-zato-cid'] }));
    },
  };
}

/**
 * Sends `data` and resolves at the end of the first answer (its Content-Length read), however long the client
 * would go on sending; the socket is then dropped.
 */
function firstAnswer(url: string, data: string): Promise<{ text: string; ms: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(Number(port), hostname, () => socket.write(data));
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in 5 s; got ${JSON.stringify(text.slice(0, 200))}`));
    }, 5000);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1]);
      if (end >= 0 && text.length >= end + 4 + length) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, ms: performance.now() - started });
      }
    });
  });
}

describe('hostile HTTP, before any body is read', () => {
  let h: Hostile;
  beforeAll(async () => {
    h = await startHostileServer();
  });
  afterAll(() => h.stop());

  /** A raw exchange: the exact bytes back, in time, the socket closed, nothing stored, the server fine after. */
  async function expectRaw(data: string, answer: string): Promise<void> {
    const before = h.state.snapshot();
    const got = await sendRaw(h.url, data);
    expect(got.text).toBe(answer);
    expect(got.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(h.state.snapshot()).toEqual(before);
    await expectStillServing(h, 'zato', 'json');
  }

  describe.each(ENDPOINTS)('%s', (path) => {
    it('answers oversized headers (20 KB) with 431 and closes', async () => {
      await expectRaw(head(path, [`X-Padding: ${'a'.repeat(20_000)}`, 'Content-Length: 2'], 'POST') + '{}', NODE_431);
    });

    it('answers a 100 KB username in Basic credentials with 431', async () => {
      await expectRaw(head(path, [`Authorization: ${basicAuth('u'.repeat(100 * 1024), 'x')}`, 'Content-Length: 0']), NODE_431);
    });

    it('refuses a NUL byte in a header value', async () => {
      await expectRaw(head(path, ['Authorization: Bearer abc\0def', 'Content-Length: 0']), NODE_400);
    });

    it('refuses a bare CR in a header value (no header splitting)', async () => {
      await expectRaw(head(path, ['Cookie: JSESSIONID=abc\rSet-Cookie: injected=1', 'Content-Length: 0']), NODE_400);
    });

    it('refuses Content-Length and Transfer-Encoding together (no request smuggling)', async () => {
      await expectRaw(head(path, ['Content-Length: 4', 'Transfer-Encoding: chunked']) + '0\r\n\r\n', NODE_400);
    });

    it('refuses two different Content-Lengths', async () => {
      await expectRaw(head(path, ['Content-Length: 2', 'Content-Length: 40']) + '{}', NODE_400);
    });
  });

  describe('a body announced larger than the limit is refused at once, not after the client has sent it', () => {
    const CASES: [string, string, RegExp][] = [
      ['/zato/json/zato.security.jwt.log-in', 'application/json', /^HTTP\/1\.1 413 Payload Too Large\r\n[\s\S]*"details":"Request body larger than 32768 bytes"/],
      ['/zato/soap', 'text/xml', /^HTTP\/1\.1 413 Payload Too Large\r\n[\s\S]*Request body larger than 131072 bytes/],
      ['/xweb/secure/netForumXML.asmx', 'text/xml', /^HTTP\/1\.1 413 Payload Too Large\r\n[\s\S]*Request body larger than 131072 bytes/],
      ['/xweb/JSON/Authenticate', 'application/json', /^HTTP\/1\.1 413 Payload Too Large\r\n[\s\S]*"Message":"Request body larger than 32768 bytes"/],
      [`${STUDIO}/login.json`, 'application/json', /^HTTP\/1\.1 413 Payload Too Large\r\n[\s\S]*\{"message":"Payload Too Large"\}$/],
    ];

    it.each(CASES)('%s: Content-Length 1 GB, 10 bytes sent', async (path, type, answer) => {
      const csrf = path.startsWith(STUDIO) ? ['Cookie: XSRF-TOKEN=p', 'X-XSRF-TOKEN: p'] : [];
      const got = await firstAnswer(h.url, head(path, [`Content-Type: ${type}`, 'Content-Length: 1000000000', ...csrf]) + '{"a": "bbb');
      expect(got.text).toMatch(answer);
      expect(got.ms).toBeLessThan(ANSWER_BOUND_MS);
      await expectStillServing(h, 'xweb', 'json');
    });

    it.each(CASES)('%s: chunked, past the limit, then silence', async (path, type, answer) => {
      const csrf = path.startsWith(STUDIO) ? ['Cookie: XSRF-TOKEN=p', 'X-XSRF-TOKEN: p'] : [];
      const chunk = 'a'.repeat(140 * 1024);
      const got = await firstAnswer(h.url, head(path, [`Content-Type: ${type}`, 'Transfer-Encoding: chunked', ...csrf]) + `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      expect(got.text).toMatch(answer);
      expect(got.ms).toBeLessThan(ANSWER_BOUND_MS);
      await expectStillServing(h, 'xweb', 'json');
    });
  });

  describe('path tricks reach no other route than the path names', () => {
    const json = { 'Content-Type': 'application/json' };
    it.each<[string, string, Expected]>([
      ['POST', '/zato/json/../x', appJson(404, 'Not found')],
      // `..` is not resolved: this is not get-list (which would want an admin: 401).
      ['POST', '/zato/json/x/../zato.security.jwt.get-list', appJson(404, 'Not found')],
      ['POST', '/zato/json/..%2Fzato.security.jwt.get-list', zatoJson(404, 'Unknown service: ../zato.security.jwt.get-list')],
      [
        'POST',
        '/zato/json/zato.security.jwt.log-in%2F..%2Fzato.security.jwt.get-list',
        zatoJson(404, 'Unknown service: zato.security.jwt.log-in/../zato.security.jwt.get-list'),
      ],
      ['POST', '/zato/json/zato.security.jwt.get-list%00', zatoJson(404, 'Unknown service: zato.security.jwt.get-list\0')],
      ['POST', '/zato/json/%2e%2e', zatoJson(404, 'Unknown service: ..')],
      // A service's path is matched in any case, as Express matches paths; its name is not.
      ['POST', '/zato/json/ZATO.SECURITY.JWT.GET-LIST', zatoJson(404, 'Unknown service: ZATO.SECURITY.JWT.GET-LIST')],
      ['POST', '/ZATO/JSON/Zato.security.jwt.log-out/', zatoJson(404, 'Unknown service: Zato.security.jwt.log-out')],
      // A service name whose escapes do not decode: the door's own bad request.
      ['POST', '/zato/json/%ff', zatoJson(400, 'The request path cannot be decoded')],
      // A service name far longer than any: still the door's own answer, its message cut short.
      ['POST', `/zato/json/${'a'.repeat(3000)}`, zatoJson(404, `Unknown service: ${'a'.repeat(128)}`)],
      ['POST', '/zato/soap/..', appJson(404, 'Not found')],
      ['POST', '/zato/soap%2F..%2Fsoap', appJson(404, 'Not found')],
      ['POST', '/zato/%2e%2e/zato/soap', appJson(404, 'Not found')],
      ['POST', '//zato/soap', appJson(404, 'Not found')],
      ['POST', '/zato/soap;wsdl', appJson(404, 'Not found')],
      ['POST', '/xweb/JSON/..%2FAuthenticate', xwebJson(404, 'Unknown method: ../Authenticate')],
      ['POST', '/xweb/JSON/Authenticate%2F..%2FWebLogin', xwebJson(404, 'Unknown method: Authenticate/../WebLogin')],
      ['POST', '/xweb/secure/../secure/netForumXML.asmx', appJson(404, 'Not found')],
      ['POST', `${STUDIO}/../security/login.json`, crafterJson(404, { message: 'Not Found' })],
      ['POST', `${STUDIO}/login.json/..`, crafterJson(404, { message: 'Not Found' })],
      ['POST', `${STUDIO}/%2e%2e%2flogin.json`, crafterJson(404, { message: 'Not Found' })],
      ['POST', `${STUDIO}/login%2Ejson`, crafterJson(404, { message: 'Not Found' })],
    ])('%s %s', async (method, path, expected) => {
      await expectAnswer(h, { method, path, headers: json, body: '{"username": "alice", "password": "x"}' }, expected);
      await expectStillServing(h, 'zato', 'json');
    });
  });
});
