/**
 * The pieces `bench/run.ts` and `bench/profile.ts` are built from: the request shapes of the scenarios, the
 * seeded pools of tokens, and the processes (the server under test, the bare Express baseline, the bcrypt
 * bound).
 */
import Database from 'better-sqlite3';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { integratorLogin } from '../src/doors/xweb/integrator';
import type { AccountRow, TokenKind } from '../src/store/types';
import type { BaselineJob, BaselineRoute } from './baseline';
import type { BoundJob } from './bcrypt-bound';
import { load, type LoadJob } from './load';
import { poolMark, type Seeder } from './seed';

export const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
export const PASSWORD = 'dualgate-bench-password';
const XSRF = randomUUID();

// ---------------------------------------------------------------------------------------------------------
// Request shapes: one per scenario, with {{0}}, {{1}} where each request's own token (or user name) goes.

export interface Shape {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export const ZATO_LOGOUT_XML = readFileSync(join(REPO, 'fixtures', 'zato', 'log-out.request.xml'), 'utf8').replace(
  '<zato:token></zato:token>',
  '<zato:token>{{0}}</zato:token>',
);

export const XWEB_VALIDATE_XML = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <soap:Header>
    <AuthorizationToken xmlns="http://www.avectra.com/2005/">
      <Token>{{0}}</Token>
    </AuthorizationToken>
  </soap:Header>
  <soap:Body>
    <WebValidate xmlns="http://www.avectra.com/2005/">
      <authenticationToken>{{1}}</authenticationToken>
    </WebValidate>
  </soap:Body>
</soap:Envelope>`;

export const SHAPES = {
  jsonLogout: { method: 'POST', path: '/zato/jwt/log-out', headers: { authorization: 'Bearer {{0}}' } },
  /** The seed's own JSON path (fixtures/zato), the token in the body. */
  jsonSeedLogout: {
    method: 'POST',
    path: '/zato/json/zato.security.jwt.log-out',
    headers: { 'content-type': 'application/json' },
    body: '{"token":"{{0}}"}',
  },
  soapLogout: {
    method: 'POST',
    path: '/zato/soap',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '"zato.security.jwt.log-out"' },
    body: ZATO_LOGOUT_XML,
  },
  jsonLogin: {
    method: 'POST',
    path: '/zato/jwt/log-in',
    headers: { 'content-type': 'application/json' },
    body: `{"username":"{{0}}","password":"${PASSWORD}"}`,
  },
  xwebValidate: {
    method: 'POST',
    path: '/xweb/secure/netForumXML.asmx',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '"http://www.avectra.com/2005/WebValidate"' },
    body: XWEB_VALIDATE_XML,
  },
  crafterValidate: {
    method: 'GET',
    path: '/studio/api/1/services/api/1/security/validate-session.json',
    headers: { cookie: `JSESSIONID={{0}}; XSRF-TOKEN=${XSRF}` },
  },
} satisfies Record<string, Shape>;
export type ShapeKey = keyof typeof SHAPES;

// ---------------------------------------------------------------------------------------------------------
// Seeded pools: each a file of request values, one line per request, never handed out twice.

export interface Pool {
  name: string;
  file: string;
  size: number;
  /** What a request with one of these values leaves in the database, so a run can be checked. */
  effect: 'revoked' | 'touched';
}

export interface Owners {
  users: AccountRow[];
  integrators: AccountRow[];
}

export class Pools {
  constructor(
    private readonly dir: string,
    private readonly seeder: Seeder,
    private readonly owners: Owners,
  ) {}

  private write(name: string, lines: string[], effect: Pool['effect']): Pool {
    const file = join(this.dir, `${name}.values`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return { name, file, size: lines.length, effect };
  }

  async tokens(name: string, kind: TokenKind, count: number, door: string, effect: Pool['effect']): Promise<Pool> {
    return this.write(name, await this.seeder.sessions(name, kind, this.owners.users, count, door), effect);
  }

  /**
   * xWeb: an integrator token and a customer token per request, both unused elsewhere. The integrator's
   * session lives as `Authenticate` opens it under the server's settings.
   */
  async xweb(name: string, count: number): Promise<Pool> {
    const settings = loadConfig(); // the server under test inherits this environment
    const { idleTtl, maxAge } = integratorLogin(settings.xweb);
    const lifetime = { idleTtl: idleTtl!, maxAge: Math.min(maxAge ?? settings.sessionMaxAge, settings.sessionMaxAge) };
    const integrators = await this.seeder.sessions(`${name}-integrator`, 'guid', this.owners.integrators, count, 'xweb', lifetime);
    const customers = await this.seeder.sessions(name, 'guid', this.owners.users, count, 'xweb');
    return this.write(name, customers.map((customer, i) => `${integrators[i]}\t${customer}`), 'touched');
  }

  usernames(name: string, count: number): string {
    const lines = Array.from({ length: count }, (_, i) => this.owners.users[i % this.owners.users.length]!.username);
    return this.write(name, lines, 'touched').file;
  }
}

/** How many sessions of `pool` the run really ended (logouts) or recorded a use of (validates). */
export function affected(dbPath: string, pool: Pool): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const condition = pool.effect === 'revoked' ? 'revoked_at IS NOT NULL' : 'last_seen_at > created_at';
    return (db.prepare(`SELECT count(*) AS n FROM sessions WHERE user_agent = ? AND ${condition}`).get(poolMark(pool.name)) as { n: number }).n;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Processes: the server under test, the baseline, the bcrypt bound.

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Dualgate {
  url: string;
  child: ChildProcess;
  logFile: string;
  /** Resident memory in MB of the server's processes (the primary and its workers), summed. */
  rssMb(): number;
  /** CPU milliseconds the server's processes have used so far (user and system, every thread). */
  cpuMs(): number;
  stop(): Promise<number | null>;
}

function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface DualgateOptions {
  dbPath: string;
  workers: number;
  /** The server's stdout and stderr (its request log) go here. */
  logFile: string;
  jwtSecret: string;
  bcryptCost: number;
  /** Run with --cpu-prof, writing the profiles here. */
  profileDir?: string;
}

/**
 * `node dist/cli.js serve --workers N` on a free port, as production runs it, with the log-in limit off;
 * answers once every worker has logged its listening line.
 */
export async function startDualgate({ dbPath, workers, logFile, jwtSecret, bcryptCost, profileDir }: DualgateOptions): Promise<Dualgate> {
  const port = await freePort();
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--workers', String(workers), '--port', String(port), '--host', '127.0.0.1'], {
    env: {
      ...process.env,
      DUALGATE_DB: dbPath,
      DUALGATE_JWT_SECRET: jwtSecret,
      DUALGATE_LOGIN_RATE: '0',
      DUALGATE_BCRYPT_COST: String(bcryptCost),
    },
    stdio: ['ignore', out, out],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  for (let waited = 0; ; waited += 50) {
    const listening = (readFileSync(logFile, 'utf8').match(/dualgate listening on/g) ?? []).length;
    if (listening >= workers) break;
    if (gone || waited > 30_000) throw new Error(`dualgate did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    logFile,
    rssMb: () => [child.pid!, ...childrenOf(child.pid!)].reduce((sum, pid) => sum + rssOf(pid), 0),
    cpuMs: () => treeCpuMs(child.pid!),
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** CPU milliseconds a process has used (utime + stime of all its threads), from /proc; 0 where there is none. */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** USER_HZ: what /proc counts CPU time in; 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** CPU milliseconds of a process and its children (a cluster primary and its workers). */
export function treeCpuMs(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((sum, p) => sum + cpuMsOf(p), 0);
}

export async function startBaseline(
  workers: number,
  routes: BaselineRoute[],
  server: BaselineJob['server'] = 'express',
): Promise<{ url: string; cpuMs(): number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = fork(join(__dirname, 'baseline.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`baseline exited (${code})`)));
    child.send({ port, workers, routes, server } satisfies BaselineJob);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    cpuMs: () => treeCpuMs(child.pid!),
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The bcrypt bound: compares a second, `processes` processes with `concurrency` in flight between them. */
export async function bcryptBound(cost: number, processes: number, concurrency: number, seconds: number): Promise<number> {
  const children = Array.from({ length: processes }, () =>
    fork(join(__dirname, 'bcrypt-bound.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await Promise.all(
    children.map(
      (child, i) =>
        new Promise<void>((resolve) => {
          child.once('message', () => resolve());
          const share = Math.floor(concurrency / processes) + (i < concurrency % processes ? 1 : 0);
          child.send({ cost, concurrency: share, seconds } satisfies BoundJob);
        }),
    ),
  );
  const results = await Promise.all(
    children.map(
      (child) =>
        new Promise<{ completed: number; seconds: number }>((resolve) => {
          child.once('message', resolve);
          child.send('go');
        }),
    ),
  );
  return results.reduce((sum, r) => sum + r.completed / r.seconds, 0);
}

/** A load job of `shape` against `url`; `extra` sets the rest (values, connections, seconds, rate...). */
export function jobFor(url: string, shape: Shape, extra: Partial<LoadJob> & Pick<LoadJob, 'connections' | 'seconds'>): LoadJob {
  return { url: url + shape.path, method: shape.method, headers: shape.headers, body: shape.body, ...extra };
}

/** One real request of `shape`, to check the answer and give the baseline a body of the same bytes. */
export async function sample(url: string, shape: Shape, values: string[]): Promise<BaselineRoute> {
  const fill = (text: string) => text.replace(/\{\{(\d)\}\}/g, (_m, i: string) => values[Number(i)] ?? '');
  const headers = Object.fromEntries(Object.entries(shape.headers).map(([k, v]) => [k, fill(v)]));
  const res = await fetch(url + shape.path, { method: shape.method, headers, body: shape.body === undefined ? undefined : fill(shape.body) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${shape.method} ${shape.path} answered ${res.status}: ${body.slice(0, 300)}`);
  if (/active":false|00000000-0000-0000-0000-000000000000/.test(body)) throw new Error(`${shape.path} did not see a live session: ${body}`);
  return { method: shape.method, path: shape.path, contentType: res.headers.get('content-type') ?? 'text/plain', body };
}

/** The values of a pool's first line. */
export const firstLine = (pool: Pool): string[] => readFileSync(pool.file, 'utf8').split('\n')[0]!.split('\t');

/** Runs `shape` against `url` for a moment at full speed with a pool's values from `first` on (JIT, caches). */
export async function warm(url: string, shape: Shape, pool: Pool, first: number, connections: number, seconds = 1.5): Promise<void> {
  await load(jobFor(url, shape, { valuesFile: pool.file, firstValue: first, seconds, connections, maxRequests: pool.size - first }));
}
