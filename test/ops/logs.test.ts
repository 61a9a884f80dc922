import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLogger, SECRET_FIELDS } from '../../src/logger';
import type { LogLevel } from '../../src/config';
import { CLI, cliEnv } from '../support/process';
import { startTestServer, tempDir, type TestServer } from '../support/server';
import { Doors, exitWithin, until } from './ops-support';

/** Structured logs: one JSON line per request with what an operator needs, no secret ever, the level obeyed. */
type Line = Record<string, unknown>;

/** A pino destination the test reads back. */
function capture(): { stream: Writable; raw(): string; lines(): Line[] } {
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString();
      done();
    },
  });
  return { stream, raw: () => raw, lines: () => raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) };
}

const USER = { username: 'ann', password: 'Ann-Secret-Pw-1' };
const INTEGRATOR = { username: 'integ', password: 'Integ-Secret-Pw-2' };

async function serverLoggingTo(level: LogLevel, settings: Record<string, string> = {}) {
  const out = capture();
  const server = await startTestServer(settings, { log: createLogger(level, out.stream) });
  await server.addUser(USER.username, USER.password);
  await server.addUser(INTEGRATOR.username, INTEGRATOR.password, 'integrator');
  return { server, out };
}

const post = (server: TestServer, path: string, body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
  fetch(server.url + path, { method: 'POST', headers, body });

describe('request logs', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('one JSON line per request: cid, door, operation, outcome, status, duration, client address', async () => {
    const started = await serverLoggingTo('info');
    server = started.server;
    const s = started.server;
    const doors = new Doors(s.url);
    doors.integrator = await doors.xwebAuthenticate(INTEGRATOR.username, INTEGRATOR.password);
    const before = started.out.lines().length;

    const expected: { res: Response; door: string | null; operation: string | null; outcome: string; status: number; error?: string }[] = [];
    const zatoLogin = await post(s, '/zato/json/zato.security.jwt.log-in', JSON.stringify(USER));
    expected.push({ res: zatoLogin, door: 'zato', operation: 'zato.security.jwt.log-in', outcome: 'ok', status: 200 });
    const jwt = ((await zatoLogin.json()) as { zato_security_jwt_log_in_response: { token: string } }).zato_security_jwt_log_in_response.token;
    const wrong = await post(s, '/zato/json/zato.security.jwt.log-in', JSON.stringify({ ...USER, password: 'nope-Secret-3' }));
    expected.push({ res: wrong, door: 'zato', operation: 'zato.security.jwt.log-in', outcome: 'error', status: 401, error: 'InvalidCredentials' });
    const validate = await fetch(`${s.url}/xweb/JSON/WebValidate?authenticationToken=${jwt}`, { headers: { Authorization: `Bearer ${doors.integrator}` } });
    expected.push({ res: validate, door: 'xweb', operation: 'WebValidate', outcome: 'ok', status: 200 });
    const soap = await post(
      s,
      '/xweb/secure/netForumXML.asmx',
      `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Authenticate xmlns="http://www.avectra.com/2005/"><userName>${INTEGRATOR.username}</userName><password>${INTEGRATOR.password}</password></Authenticate></soap:Body></soap:Envelope>`,
      { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"http://www.avectra.com/2005/Authenticate"' },
    );
    expected.push({ res: soap, door: 'xweb', operation: 'Authenticate', outcome: 'ok', status: 200 });
    // A SOAP fault is HTTP 500 even when the client is at fault: still an ordinary request line, not an error.
    const soapWrong = await post(
      s,
      '/xweb/secure/netForumXML.asmx',
      `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Authenticate xmlns="http://www.avectra.com/2005/"><userName>${INTEGRATOR.username}</userName><password>nope-Secret-3</password></Authenticate></soap:Body></soap:Envelope>`,
      { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"http://www.avectra.com/2005/Authenticate"' },
    );
    expected.push({ res: soapWrong, door: 'xweb', operation: 'Authenticate', outcome: 'error', status: 500, error: 'InvalidCredentials' });
    const soapMalformed = await post(s, '/zato/soap', '<soap:Envelope', { 'Content-Type': 'text/xml; charset=utf-8' });
    expected.push({ res: soapMalformed, door: 'zato', operation: null, outcome: 'error', status: 500, error: 'MalformedXml' });
    const crafter = await post(s, '/studio/api/1/services/api/1/security/login.json', JSON.stringify(USER), {
      'Content-Type': 'application/json',
      Cookie: 'XSRF-TOKEN=abc',
      'X-XSRF-TOKEN': 'abc',
    });
    expected.push({ res: crafter, door: 'crafter', operation: 'login', outcome: 'ok', status: 200 });
    const logout = await post(s, '/zato/jwt/log-out', '', { Authorization: `Bearer ${jwt}` });
    expected.push({ res: logout, door: 'zato', operation: 'zato.security.jwt.log-out', outcome: 'ok', status: 200 });
    expected.push({ res: await fetch(`${s.url}/healthz`), door: null, operation: null, outcome: 'ok', status: 200 });
    expected.push({ res: await fetch(`${s.url}/nowhere`), door: null, operation: null, outcome: 'error', status: 404 });

    const lines = started.out.lines().slice(before);
    expect(lines).toHaveLength(expected.length);
    for (const want of expected) {
      const cid = want.res.headers.get('x-zato-cid');
      const mine = lines.filter((l) => l.cid === cid);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        level: 30,
        msg: 'request',
        door: want.door,
        operation: want.operation,
        outcome: want.outcome,
        status: want.status,
        clientIp: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/),
        durationMs: expect.any(Number),
        pid: expect.any(Number),
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      if (want.error) expect(mine[0]!.error).toBe(want.error);
    }
  });

  it('a 5xx is an error line with the stack, which never goes on the wire', async () => {
    const started = await serverLoggingTo('info', { DUALGATE_BUSY_TIMEOUT_MS: '50' });
    server = started.server;
    const lock = new Database(started.server.dbPath);
    lock.exec('BEGIN EXCLUSIVE');
    try {
      const res = await post(started.server, '/zato/json/zato.security.jwt.log-in', JSON.stringify(USER));
      expect(res.status).toBe(500);
      expect(await res.text()).not.toMatch(/at .*\.(ts|js):\d+/);
      const line = started.out.lines().find((l) => l.cid === res.headers.get('x-zato-cid'))!;
      expect(line).toMatchObject({ level: 50, msg: 'request failed', status: 500, door: 'zato', error: 'StoreUnavailable' });
      expect((line.err as { stack: string }).stack).toMatch(/StoreUnavailable|Store unavailable/);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
  });

  it('never writes a password or a token: not from requests, and not when a log call is handed one', async () => {
    const started = await serverLoggingTo('trace');
    server = started.server;
    const s = started.server;
    const doors = new Doors(s.url);
    doors.integrator = await doors.xwebAuthenticate(INTEGRATOR.username, INTEGRATOR.password);
    const tokens = [doors.integrator];
    for (const door of ['zato', 'xweb', 'crafter'] as const) tokens.push(await doors.login(door, USER.username, USER.password));
    await post(s, '/zato/json/zato.security.jwt.log-in', JSON.stringify({ ...USER, password: 'Wrong-Secret-4' }));
    for (const token of tokens) await doors.logout('crafter', token);

    // A log call handed every secret field, at the top and two levels down.
    const secrets: Record<string, string> = {};
    const nested = (depth: number): Record<string, unknown> => {
      const object: Record<string, unknown> = {};
      for (const field of SECRET_FIELDS) {
        const value = `secret-${field}-${depth}`;
        secrets[value] = field;
        object[field] = value;
      }
      return object;
    };
    s.log.info({ ...nested(0), body: { ...nested(1), WebLogin: nested(2) }, headers: nested(1) }, 'handed secrets');

    const raw = started.out.raw();
    for (const secret of [USER.password, INTEGRATOR.password, 'Wrong-Secret-4', ...tokens, ...Object.keys(secrets)]) {
      expect(raw).not.toContain(secret);
    }
    const line = started.out.lines().find((l) => l.msg === 'handed secrets')!;
    expect(line.password).toBe('[redacted]');
    expect((line.body as Line).passwordPlain).toBe('[redacted]');
    expect(((line.body as Line).WebLogin as Line).authenticationToken).toBe('[redacted]');
    expect((line.headers as Line)['set-cookie']).toBe('[redacted]');
  });

  it('obeys the level: at warn, requests that went well write nothing', async () => {
    const started = await serverLoggingTo('warn');
    server = started.server;
    for (let i = 0; i < 3; i++) expect((await fetch(`${started.server.url}/healthz`)).status).toBe(200);
    expect(started.out.lines()).toEqual([]);
  });

  it('takes the level from DUALGATE_LOG_LEVEL', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const run = async (level: string) => {
      const env = cliEnv({ DUALGATE_DB: join(tempDir(), 'level.db'), DUALGATE_LOG_LEVEL: level, PORT: String(port), HOST: '127.0.0.1' });
      const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        await until('the server to answer', 10_000, () =>
          fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.status === 200,
            () => false,
          ),
        );
      } finally {
        child.kill('SIGTERM');
      }
      expect((await exitWithin(child, 10_000)).code).toBe(0);
      return out.split('\n').filter((l) => l.startsWith('{'));
    };
    const quiet = await run('error');
    expect(quiet).toEqual([]);
    const chatty = await run('debug');
    expect(chatty.some((l) => l.includes('"msg":"request"'))).toBe(true);
    expect(chatty.some((l) => l.includes('dualgate listening on'))).toBe(true);
  }, 30_000);
});
