import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliContext } from '../../src/core/context';
import { openTestCore } from '../support/core';
import { runCli, startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';
import { Doors, exitWithin, integrityCheck, metricValue, refused, until } from './ops-support';

/**
 * SIGTERM under load, for real: log-ins whose bcrypt (cost 11) keeps them in flight for a while, a client
 * that never finishes its headers, and the signal in the middle. In-flight requests must finish 200, new
 * connections be refused, the database closed (no -wal left, integrity ok), the exit 0 within a bound.
 */
const USER = { username: 'ann', password: 'ann-password' };
const IN_FLIGHT = 6;
const GRACE_SECONDS = 4;

const started: ServeProcess[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const server of started.splice(0)) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  for (const socket of sockets.splice(0)) socket.destroy();
});

/** A database whose account has a cost-11 hash: each log-in takes a few hundred milliseconds of bcrypt. */
async function slowLoginDatabase(): Promise<string> {
  const db = join(tempDir(), 'stop.db');
  const { core } = await openTestCore({ bcryptCost: 11 }, { dbPath: db });
  await core.accounts.create({ ...USER }, cliContext);
  await core.close();
  return db;
}

/** A connection that sends half its headers and then nothing: only the grace period ends it. */
function stuckClient(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write('POST /zato/json/zato.security.jwt.log-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/');
      resolve(socket);
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
    sockets.push(socket);
  });
}

async function inFlight(metricsUrl: string): Promise<number> {
  return metricValue(await (await fetch(metricsUrl)).text(), 'dualgate_requests_in_flight');
}

/**
 * The stop, watched from outside: the log-ins in flight, refused connections, the exit. With a stuck client
 * the exit comes when the grace period ends; without one, as soon as the last answer is out (keep-alive
 * connections included: the client here keeps its connections open).
 */
async function stopUnderLoad(server: ServeProcess, metricsUrl: string, extraInFlight: number, stuck: boolean): Promise<void> {
  if (stuck) await stuckClient(server.url);
  const doors = new Doors(server.url);
  let answered = 0;
  const logins = Array.from({ length: IN_FLIGHT }, () =>
    doors.login('zato', USER.username, USER.password).finally(() => answered++),
  );
  // Every log-in has reached the server (on the public port the metrics request counts itself too).
  await until('the log-ins to be in flight', 5000, async () => (await inFlight(metricsUrl)) >= IN_FLIGHT + extraInFlight);
  expect(answered).toBe(0);

  const signalled = Date.now();
  server.child.kill('SIGTERM');
  await until('new connections to be refused', 3000, () => refused(server.url));
  const answeredWhenRefused = answered;

  const tokens = await Promise.all(logins); // every one 200, or login() would have thrown
  const lastAnswer = Date.now();
  expect(tokens.every((t) => t.split('.').length === 3)).toBe(true);
  // The listener closed while the work went on: refused before the last log-in was answered.
  expect(answeredWhenRefused).toBeLessThan(IN_FLIGHT);

  const exit = await exitWithin(server.child, (GRACE_SECONDS + 5) * 1000);
  expect(exit).toEqual({ code: 0, signal: null });
  if (stuck) {
    // The stuck client is cut at the end of the grace period, not at its headers timeout (60 s here).
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000);
    expect(Date.now() - signalled).toBeLessThan((GRACE_SECONDS + 2) * 1000);
  } else {
    // Idle keep-alive connections do not hold the stop up until they time out.
    expect(Date.now() - lastAnswer).toBeLessThan(1500);
  }
}

function expectClosedCleanly(db: string, sessions: number): void {
  expect(existsSync(`${db}-wal`)).toBe(false); // the last connection closed and checkpointed
  expect(integrityCheck(db)).toBe('ok');
  const raw = new Database(db, { readonly: true });
  try {
    expect((raw.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n).toBe(sessions);
  } finally {
    raw.close();
  }
}

const settings = (db: string) => ({
  DUALGATE_DB: db,
  // The cost the account was hashed at: at another, its first good log-in would rehash it, and the log-ins
  // here would no longer be slow.
  DUALGATE_BCRYPT_COST: '11',
  // All IN_FLIGHT log-ins are one account's from one address: at the default threshold of 5, the sixth would
  // wait for a compare ahead of it to conclude (at most the threshold are compared at once), and the stop's
  // timing here is about log-ins running side by side.
  DUALGATE_LOCKOUT_THRESHOLD: '10',
  DUALGATE_LOGIN_RATE: '0',
  DUALGATE_STOP_GRACE: String(GRACE_SECONDS),
  DUALGATE_HEADERS_TIMEOUT_MS: '60000',
  DUALGATE_REQUEST_TIMEOUT_MS: '60000',
});

describe('graceful stop', () => {
  it('SIGTERM under load: in-flight log-ins answer 200, new connections are refused, the database is closed, exit 0 at once', async () => {
    const db = await slowLoginDatabase();
    const server = await startServeProcess({ ...settings(db), DUALGATE_METRICS: 'true' });
    started.push(server);
    await stopUnderLoad(server, `${server.url}/metrics`, 1, false);
    expect(server.stdout()).toContain('"msg":"dualgate stopped"');
    expectClosedCleanly(db, IN_FLIGHT);
  }, 30_000);

  it('SIGTERM with a client that never finishes its request: the grace period bounds the stop', async () => {
    const db = await slowLoginDatabase();
    const server = await startServeProcess({ ...settings(db), DUALGATE_METRICS: 'true' });
    started.push(server);
    await stopUnderLoad(server, `${server.url}/metrics`, 1, true);
    expect(server.stdout()).toContain('"msg":"stop: grace period over, closing the remaining connections"');
    expect(server.stdout()).toContain('"msg":"dualgate stopped"');
    expectClosedCleanly(db, IN_FLIGHT);
  }, 30_000);

  it('--workers 2: the primary stops its workers the same way, and serves the sum of their metrics meanwhile', async () => {
    const db = await slowLoginDatabase();
    const server = await startServeProcess({ ...settings(db), DUALGATE_METRICS_PORT: '0' }, ['--workers', '2']);
    started.push(server);
    await until('both workers to listen', 5000, () => server.stdout().split('dualgate listening on').length - 1 === 2);
    const metricsUrl = /dualgate metrics on (http:\/\/\S+\/metrics)/.exec(server.stdout())![1]!;
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404); // not on the public port

    // Requests spread over both workers; the primary's answer counts all of them, and sessions once.
    await new Doors(server.url).login('crafter', USER.username, USER.password);
    for (let i = 0; i < 10; i++) expect((await fetch(`${server.url}/healthz`, { headers: { Connection: 'close' } })).status).toBe(200);
    const text = await (await fetch(metricsUrl)).text();
    expect(metricValue(text, 'dualgate_requests_total', { door: 'none', operation: 'none', outcome: 'ok' })).toBe(10);
    expect(metricValue(text, 'dualgate_live_sessions')).toBe(1);

    await stopUnderLoad(server, metricsUrl, 0, false);
    expectClosedCleanly(db, IN_FLIGHT + 1);
  }, 30_000);

  it('--workers with metrics on but no DUALGATE_METRICS_PORT refuses to start, in one line', async () => {
    const result = await runCli(['serve', '--workers', '2'], { DUALGATE_DB: join(tempDir(), 'x.db'), DUALGATE_METRICS: 'true', PORT: '0' });
    expect(result).toMatchObject({
      code: 1,
      stderr: 'dualgate: invalid setting DUALGATE_METRICS_PORT: required with --workers when DUALGATE_METRICS is on\n',
    });
  });
});
