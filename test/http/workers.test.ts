import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runCli, startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';

/**
 * `dualgate serve --workers 2` as a real process: node:cluster workers sharing the port and one SQLite file.
 * Which worker answered a request is read from the request log (its line carries the cid the response
 * names, and the worker's pid); a keep-alive connection stays with the worker that accepted it.
 */

const USER = { username: 'ann', password: 'ann-password' };
const XSRF = 'e3b1a3a4-3c5c-4b7e-9d1f-2f6a1b0c9d8e';
const SECURITY = '/studio/api/1/services/api/1/security';

interface Answer {
  status: number;
  body: string;
  cid: string;
  setCookie: string[];
}

let server: ServeProcess | undefined;
afterEach(() => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  server = undefined;
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function send(url: string, agent: Agent, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: text, cid: String(res.headers['x-zato-cid']), setCookie: res.headers['set-cookie'] ?? [] }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The pid of the worker whose request log line names `cid` (the log is written asynchronously). */
async function workerOf(serve: ServeProcess, cid: string): Promise<number> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const line = serve
      .stdout()
      .split('\n')
      .find((l) => l.includes(`"cid":"${cid}"`));
    if (line) return (JSON.parse(line) as { pid: number }).pid;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no request log line for ${cid}`);
}

/** A connection held by worker `pid`: new connections are tried until that worker accepts one. */
async function connectionTo(serve: ServeProcess, pid: number): Promise<Agent> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const probe = await send(serve.url, agent, 'GET', '/healthz');
    if ((await workerOf(serve, probe.cid)) === pid) return agent;
    agent.destroy();
  }
  throw new Error(`worker ${pid} never took a connection`);
}

function listeningLines(serve: ServeProcess): { pid: number; url: string }[] {
  return serve
    .stdout()
    .split('\n')
    .filter((l) => l.includes('dualgate listening on'))
    .map((l) => JSON.parse(l) as { pid: number; url: string });
}

async function bothListening(serve: ServeProcess): Promise<{ pid: number; url: string }[]> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const lines = listeningLines(serve);
    if (lines.length === 2) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`both workers did not listen: ${serve.stdout()}${serve.stderr()}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('dualgate serve --workers 2', () => {
  it('listens with both workers on the --port given, shares sessions between them, and stops them on SIGTERM', async () => {
    const db = join(tempDir(), 'workers.db');
    expect((await runCli(['init'], { DUALGATE_DB: db })).code).toBe(0);
    expect((await runCli(['user', 'add', USER.username, '--password-stdin'], { DUALGATE_DB: db }, `${USER.password}\n`)).code).toBe(0);
    const port = await freePort();
    // The port comes from the command line only: the workers must be told it, not fall back to a default.
    server = await startServeProcess({ DUALGATE_DB: db, PORT: undefined }, ['--workers', '2', '--port', String(port)]);
    const workers = await bothListening(server);
    expect(new Set(workers.map((w) => w.pid)).size).toBe(2);
    expect(workers.map((w) => w.url)).toEqual([`http://127.0.0.1:${port}`, `http://127.0.0.1:${port}`]);
    const [first, second] = workers.map((w) => w.pid) as [number, number];
    expect(first).not.toBe(server.child.pid);

    const atFirst = await connectionTo(server, first);
    const atSecond = await connectionTo(server, second);
    const xsrf = { cookie: `XSRF-TOKEN=${XSRF}`, 'x-xsrf-token': XSRF, 'content-type': 'application/json' };

    // Logged in at one worker...
    const login = await send(server.url, atFirst, 'POST', `${SECURITY}/login.json`, xsrf, JSON.stringify(USER));
    expect(login.status).toBe(200);
    expect(await workerOf(server, login.cid)).toBe(first);
    const session = /JSESSIONID=([^;]+)/.exec(login.setCookie.join('\n'))![1]!;
    const cookie = { cookie: `JSESSIONID=${session}; XSRF-TOKEN=${XSRF}` };

    // ...live at the other...
    const seen = await send(server.url, atSecond, 'GET', `${SECURITY}/validate-session.json`, cookie);
    expect(await workerOf(server, seen.cid)).toBe(second);
    expect(JSON.parse(seen.body)).toMatchObject({ active: true, user: { username: USER.username } });

    // ...logged out there, and dead at the first at once.
    const logout = await send(server.url, atSecond, 'POST', `${SECURITY}/logout.json`, cookie);
    expect(logout.status).toBe(200);
    const gone = await send(server.url, atFirst, 'GET', `${SECURITY}/validate-session.json`, cookie);
    expect(await workerOf(server, gone.cid)).toBe(first);
    expect(JSON.parse(gone.body)).toEqual({ message: null, active: false, user: null });
    atFirst.destroy();
    atSecond.destroy();

    // SIGTERM to the primary: each worker closes its server and its database, then the primary exits 0.
    expect(await server.stop('SIGTERM')).toBe(0);
    const stopped = server
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"dualgate stopped"'))
      .map((l) => (JSON.parse(l) as { pid: number }).pid);
    expect(stopped.sort()).toEqual([first, second].sort());
    expect(alive(first) || alive(second)).toBe(false);
  }, 30_000);
});
