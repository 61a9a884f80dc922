import { connect } from 'node:net';
import { startTestServer, type TestServer } from '../support/server';

/**
 * A client that writes its whole request before it reads anything (Python's http.client, many older stacks)
 * must still read the early refusal: 413 for a body over the limit, 431 for headers over Node's limit. The
 * server answers at once with `Connection: close`, then closes in stages (stop writing, read and drop what the
 * client still sends, then close), as RFC 9112 §9.6 asks, instead of resetting the connection under it.
 */

const MIB = 1024 * 1024;

interface Outcome {
  /** Everything the server sent. */
  received: string;
  /** A write or read error the client met (EPIPE, ECONNRESET), if any. */
  error?: string;
  /** Bytes the client managed to write. */
  written: number;
}

/** Writes `head` and then `body` completely, waiting for each write to drain, and only then reads to the end. */
function writeAllThenRead(url: string, head: string, body: Buffer): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const outcome: Outcome = { received: '', written: 0 };
    const chunks: Buffer[] = [];
    socket.pause(); // reads nothing until everything is written
    socket.on('error', (err: NodeJS.ErrnoException) => {
      outcome.error ??= err.code ?? err.message;
    });
    socket.on('close', () => {
      outcome.received = Buffer.concat(chunks).toString('latin1');
      resolve(outcome);
    });
    // Its errors are caught inside: nothing is left for the event emitter to lose.
    socket.on('connect', () => void (async () => {
      const write = (data: Buffer | string) =>
        new Promise<void>((done, fail) => socket.write(data, (err) => (err ? fail(err) : done())));
      try {
        await write(head);
        for (let at = 0; at < body.length; at += 64 * 1024) {
          const piece = body.subarray(at, at + 64 * 1024);
          await write(piece);
          outcome.written += piece.length;
        }
      } catch (err) {
        outcome.error ??= (err as NodeJS.ErrnoException).code;
      }
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.resume();
      socket.end();
    })());
  });
}

describe('an early refusal every client reads', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const stillServing = async () => expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

  it.each([
    ['Zato JSON', '/zato/json/zato.security.jwt.log-in', 'application/json', /"details":"Request body larger than 16384 bytes"/],
    ['Zato SOAP', '/zato/soap', 'text/xml; charset=utf-8', /Request body larger than 65536 bytes/],
    ['xWeb SOAP', '/xweb/secure/netForumXML.asmx', 'text/xml; charset=utf-8', /<Message>Request body larger than 65536 bytes<\/Message>/],
    ['Crafter', '/studio/api/1/services/api/1/security/login.json', 'application/json\r\nCookie: XSRF-TOKEN=t\r\nX-XSRF-TOKEN: t', /"message":"Payload Too Large"/],
  ])('%s: a 5 MiB body written whole before reading gets the 413', async (_door, path, type, body) => {
    const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${5 * MIB}\r\n\r\n`;
    const outcome = await writeAllThenRead(server.url, head, Buffer.alloc(5 * MIB, 0x20));
    expect(outcome.error).toBeUndefined();
    expect(outcome.written).toBe(5 * MIB);
    expect(outcome.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(outcome.received).toMatch(/\r\nConnection: close\r\n/i);
    expect(outcome.received).toMatch(body);
    await stillServing();
  });

  it('refuses a chunked body at the chunk that crosses the limit, and the client still reads the 413', async () => {
    const head = 'POST /zato/json/zato.security.jwt.log-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = Buffer.concat([Buffer.from(`${(64 * 1024).toString(16)}\r\n`), Buffer.alloc(64 * 1024, 0x20), Buffer.from('\r\n')]);
    const body = Buffer.concat([...Array.from({ length: 64 }, () => chunk), Buffer.from('0\r\n\r\n')]);
    const outcome = await writeAllThenRead(server.url, head, body);
    expect(outcome.error).toBeUndefined();
    expect(outcome.received).toMatch(/^HTTP\/1\.1 413 /);
    await stillServing();
  });

  it('answers headers over the limit with 431 that a client still writing its body reads', async () => {
    const head = `POST /zato/json/zato.security.jwt.log-in HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\nContent-Length: ${5 * MIB}\r\n\r\n`;
    const outcome = await writeAllThenRead(server.url, head, Buffer.alloc(5 * MIB, 0x20));
    expect(outcome.error).toBeUndefined();
    expect(outcome.received).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    await stillServing();
  });

  it('answers a body that trickles past the request timeout with the 408, and closes without a reset', async () => {
    const slow = await startTestServer({ DUALGATE_HEADERS_TIMEOUT_MS: '300', DUALGATE_REQUEST_TIMEOUT_MS: '600' });
    try {
      const { hostname, port } = new URL(slow.url);
      const socket = connect(Number(port), hostname);
      const outcome: Outcome = { received: '', written: 0 };
      socket.on('data', (chunk: Buffer) => (outcome.received += chunk.toString('latin1')));
      socket.on('error', (err: NodeJS.ErrnoException) => (outcome.error ??= err.code));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('POST /zato/json/zato.security.jwt.log-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{');
      // A byte every 20 ms: never done before the deadline, and still writing when the 408 comes.
      const drip = setInterval(() => !socket.destroyed && socket.write(' '), 20);
      await closed;
      clearInterval(drip);
      expect(outcome.received).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      expect(outcome.error).toBeUndefined();
    } finally {
      await slow.stop();
    }
  });

  it('still closes at once, with Node\'s 400, a request that could be smuggled', async () => {
    const head = 'POST /zato/json/zato.security.jwt.log-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n';
    const outcome = await writeAllThenRead(server.url, head, Buffer.alloc(0));
    expect(outcome.received).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    await stillServing();
  });
});
