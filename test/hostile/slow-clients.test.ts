import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../src/config';
import { startTestServer, type TestServer } from '../support/server';
import { ALICE, ANSWER_BOUND_MS, send } from './harness';

/**
 * Slow clients cannot hold the server: headers must arrive within DUALGATE_HEADERS_TIMEOUT_MS, the whole
 * request within DUALGATE_REQUEST_TIMEOUT_MS, and an idle keep-alive socket closes after
 * DUALGATE_KEEPALIVE_TIMEOUT_MS. Here they are cut to fractions of a second so the test is short; loopback only,
 * a bounded number of sockets.
 */

const HEADERS_MS = 600;
const REQUEST_MS = 1200;
const KEEPALIVE_MS = 500;
/** Node checks the deadlines every min(1 s, headers timeout / 4): a late socket may live this much longer. */
const CHECK_MS = Math.min(1000, Math.ceil(HEADERS_MS / 4));
const SLOW_SOCKETS = 40;
/** How much later than its deadline a socket may be closed on a loaded 2-core CI machine. */
const SLACK_MS = 1500;

interface Slow {
  socket: Socket;
  received: string;
  opened: number;
  /** Resolves with the time the server closed the socket. */
  closed: Promise<number>;
  /** The socket's error, if it had one: says why a socket closed early. */
  error?: string;
}

function openSlow(url: string, first: string): Slow {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const slow: Slow = { socket, received: '', opened: performance.now(), closed: Promise.resolve(0) };
  slow.closed = new Promise((resolve) => socket.on('close', () => resolve(performance.now())));
  socket.on('data', (chunk: Buffer) => (slow.received += chunk.toString('latin1')));
  socket.on('error', (err: NodeJS.ErrnoException) => (slow.error = err.code ?? err.message));
  // Queued now, not on 'connect': a drip byte queued before the connection is up would otherwise go first.
  socket.write(first);
  return slow;
}

describe('slow clients', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      DUALGATE_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      DUALGATE_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      DUALGATE_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_MS),
    });
    await server.addUser(ALICE.username, ALICE.password);
  });
  afterAll(() => server.stop());

  it('takes the timeouts from the settings, and refuses a headers timeout longer than the request timeout', () => {
    expect([server.http.headersTimeout, server.http.requestTimeout, server.http.keepAliveTimeout]).toEqual([HEADERS_MS, REQUEST_MS, KEEPALIVE_MS]);
    const defaults = loadConfig({}, {});
    expect([defaults.headersTimeoutMs, defaults.requestTimeoutMs, defaults.keepAliveTimeoutMs]).toEqual([10_000, 30_000, 5_000]);
    expect(() => loadConfig({}, { DUALGATE_HEADERS_TIMEOUT_MS: '40000' })).toThrow(
      'invalid setting DUALGATE_HEADERS_TIMEOUT_MS: expected at most DUALGATE_REQUEST_TIMEOUT_MS (30000) (got "40000")',
    );
  });

  it('serves a normal request while sockets trickle their headers a byte at a time, and closes those sockets at the deadline', async () => {
    const slow = Array.from({ length: SLOW_SOCKETS }, () => openSlow(server.url, 'POST /zato/json/zato.security.jwt.log-in HTTP/1.1\r\n'));
    // Each slow socket sends one more header byte every 50 ms, and would never finish.
    const drip = setInterval(() => {
      for (const s of slow) if (!s.socket.destroyed) s.socket.write('a');
    }, 50);
    try {
      const started = performance.now();
      const answer = await send(server.url, { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify(ALICE) });
      expect(answer.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(ANSWER_BOUND_MS);

      const closedAt = await Promise.all(slow.map((s) => s.closed));
      // Every socket that broke a rule, with what it saw, so that a failure says why.
      const broken = slow
        .map((s, i) => ({ socket: i, lived: Math.round(closedAt[i]! - s.opened), received: s.received.slice(0, 40), error: s.error }))
        .filter((s) => s.lived < HEADERS_MS - 50 || s.lived >= HEADERS_MS + CHECK_MS + SLACK_MS || !s.received.startsWith('HTTP/1.1 408 Request Timeout\r\n'));
      expect(broken).toEqual([]);
    } finally {
      clearInterval(drip);
      for (const s of slow) s.socket.destroy();
    }
    // And after all that, still serving.
    expect((await send(server.url, { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify(ALICE) })).status).toBe(200);
  });

  it('closes a socket whose body trickles in slower than the request timeout', async () => {
    const s = openSlow(
      server.url,
      'POST /zato/json/zato.security.jwt.log-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const drip = setInterval(() => !s.socket.destroyed && s.socket.write(' '), 50);
    try {
      const lived = (await s.closed) - s.opened;
      expect(lived).toBeGreaterThanOrEqual(REQUEST_MS - 50);
      expect(lived).toBeLessThan(REQUEST_MS + CHECK_MS + SLACK_MS);
    } finally {
      clearInterval(drip);
      s.socket.destroy();
    }
  });

  it('closes an idle keep-alive socket after the keep-alive timeout', async () => {
    const s = openSlow(server.url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const lived = (await s.closed) - s.opened;
    expect(s.received).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\{"status":"ok"\}$/);
    expect(lived).toBeGreaterThanOrEqual(KEEPALIVE_MS - 50);
    // Node keeps an idle socket up to a second past keepAliveTimeout, so a client reusing it just then still gets served.
    expect(lived).toBeLessThan(KEEPALIVE_MS + 1000 + SLACK_MS);
  });
});
