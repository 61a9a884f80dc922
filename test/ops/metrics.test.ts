import Database from 'better-sqlite3';
import { startTestServer, type TestServer } from '../support/server';
import { Doors, metricValue } from './ops-support';

/** GET /metrics: every family is there, in Prometheus text format, and each one moves when it should. */
const USER = { username: 'ann', password: 'ann-password' };
const LOGIN = 'zato.security.jwt.log-in';

const FAMILIES: [string, string][] = [
  ['dualgate_requests_total', 'counter'],
  ['dualgate_request_duration_seconds', 'histogram'],
  ['dualgate_requests_in_flight', 'gauge'],
  ['dualgate_live_sessions', 'gauge'],
  ['dualgate_login_failures_total', 'counter'],
  ['dualgate_lockouts_total', 'counter'],
  ['dualgate_throttled_total', 'counter'],
  ['dualgate_audit_purged_total', 'counter'],
  ['dualgate_store_errors_total', 'counter'],
  ['dualgate_process_cpu_seconds_total', 'counter'],
];

describe('metrics', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });
  const start = async (settings: Record<string, string>) => {
    const server = await startTestServer({ DUALGATE_METRICS: 'true', ...settings });
    servers.push(server);
    await server.addUser(USER.username, USER.password);
    await server.addUser('bob', 'bob-password');
    return server;
  };
  const scrape = async (url: string) => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const logIn = (server: TestServer, username: string, password: string) =>
    fetch(`${server.url}/zato/json/${LOGIN}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });

  it('has every family, and each moves: requests, latency, live sessions, failures, lockouts, store errors', async () => {
    const server = await start({ DUALGATE_LOCKOUT_THRESHOLD: '2', DUALGATE_BUSY_TIMEOUT_MS: '50' });
    const url = `${server.url}/metrics`;
    const first = await scrape(url);
    for (const [name, type] of FAMILIES) expect(first).toContain(`# TYPE ${name} ${type}`);
    expect(metricValue(first, 'dualgate_requests_in_flight')).toBe(1); // the scrape itself
    expect(metricValue(first, 'dualgate_live_sessions')).toBe(0);

    const doors = new Doors(server.url);
    const a = await doors.login('zato', USER.username, USER.password);
    await doors.login('crafter', USER.username, USER.password);
    await doors.logout('zato', a);
    expect((await logIn(server, USER.username, 'wrong')).status).toBe(401);
    for (let i = 0; i < 2; i++) expect((await logIn(server, 'bob', 'wrong')).status).toBe(401);
    expect((await logIn(server, 'bob', 'bob-password')).status).toBe(401); // locked: the answer of a wrong password

    const lock = new Database(server.dbPath);
    lock.exec('BEGIN EXCLUSIVE');
    try {
      expect((await logIn(server, USER.username, USER.password)).status).toBe(500);
      // The scrape works while the store refuses writes (reads still answer in WAL mode).
      expect(metricValue(await scrape(url), 'dualgate_store_errors_total')).toBe(1);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }

    const text = await scrape(url);
    expect(metricValue(text, 'dualgate_requests_total', { door: 'zato', operation: LOGIN, outcome: 'ok' })).toBe(1);
    expect(metricValue(text, 'dualgate_requests_total', { door: 'zato', operation: LOGIN, outcome: 'error' })).toBe(5);
    expect(metricValue(text, 'dualgate_requests_total', { door: 'crafter', operation: 'login', outcome: 'ok' })).toBe(1);
    expect(metricValue(text, 'dualgate_requests_total', { door: 'zato', operation: 'zato.security.jwt.log-out', outcome: 'ok' })).toBe(1);
    expect(metricValue(text, 'dualgate_request_duration_seconds_count', { door: 'zato', operation: LOGIN })).toBe(6);
    expect(metricValue(text, 'dualgate_request_duration_seconds_bucket', { door: 'zato', operation: LOGIN, le: '+Inf' })).toBe(6);
    expect(metricValue(text, 'dualgate_request_duration_seconds_sum', { door: 'zato', operation: LOGIN })).toBeGreaterThan(0);
    expect(metricValue(text, 'dualgate_live_sessions')).toBe(1);
    expect(metricValue(text, 'dualgate_login_failures_total')).toBe(4); // wrong, wrong, wrong, locked
    expect(metricValue(text, 'dualgate_lockouts_total')).toBe(1);
    expect(metricValue(text, 'dualgate_throttled_total')).toBe(0);
    expect(metricValue(text, 'dualgate_store_errors_total')).toBe(1);
  });

  it('counts throttled log-ins', async () => {
    const server = await start({ DUALGATE_LOGIN_RATE: '1' });
    expect((await logIn(server, USER.username, USER.password)).status).toBe(200);
    expect((await logIn(server, USER.username, 'wrong')).status).toBe(401);
    const refused = await logIn(server, USER.username, USER.password);
    expect(refused.status).toBe(429);
    const text = await scrape(`${server.url}/metrics`);
    expect(metricValue(text, 'dualgate_throttled_total')).toBe(1);
    expect(metricValue(text, 'dualgate_requests_total', { door: 'zato', operation: LOGIN, outcome: 'error' })).toBe(2);
  });

  it('still answers when the store is gone, and counts the failed health checks as store errors', async () => {
    const server = await start({});
    await new Doors(server.url).login('crafter', USER.username, USER.password);
    expect(metricValue(await scrape(`${server.url}/metrics`), 'dualgate_live_sessions')).toBe(1);
    await server.core.close();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    const text = await scrape(`${server.url}/metrics`);
    expect(metricValue(text, 'dualgate_store_errors_total')).toBe(1);
    expect(metricValue(text, 'dualgate_live_sessions')).toBe(1); // the last value read
  });

  it('DUALGATE_METRICS_PORT: served on a listener of its own, not on the public port', async () => {
    const server = await start({ DUALGATE_METRICS: 'false', DUALGATE_METRICS_PORT: '0' });
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    await fetch(`${server.url}/healthz`);
    const text = await scrape(server.metricsUrl!);
    expect(metricValue(text, 'dualgate_requests_total', { door: 'none', operation: 'none', outcome: 'ok' })).toBe(1);
    expect((await fetch(server.metricsUrl!.replace('/metrics', '/healthz'))).status).toBe(404);
  });

  it('is off unless asked for', async () => {
    const server = await startTestServer();
    servers.push(server);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });
});
