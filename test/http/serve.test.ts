import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { CID_FORMAT } from '../../src/http/cid';
import { spawn } from 'node:child_process';
import { CLI, cliEnv, startServeProcess, runCli } from '../support/process';
import { startTestServer, tempDir } from '../support/server';

describe('dualgate serve', () => {
  it('listens, creates admin once on an empty database with its password in a 0600 file, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const db = join(dir, 'serve.db');
    const file = join(dir, 'initial-admin-password');
    const first = await startServeProcess({ DUALGATE_DB: db });
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The password is in the file, readable by its owner only; the log stream says only where it is.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [password, idLine, end] = readFileSync(file, 'utf8').split('\n');
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect([idLine, end]).toEqual(['account id 1', '']);
    expect(first.stdout()).toContain(`its password is in ${file}`);
    expect(first.stdout()).not.toContain(password);
    const login = await fetch(`${first.url}/zato/jwt/log-in`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
    expect(login.status).toBe(200);

    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startServeProcess({ DUALGATE_DB: db });
    expect(second.stdout()).not.toContain('created the account');
    expect(await second.stop('SIGINT')).toBe(0);
    const users = await runCli(['user', 'list', '--json'], { DUALGATE_DB: db });
    expect(JSON.parse(users.stdout)).toEqual([expect.objectContaining({ username: 'admin', role: 'admin' })]);
    // Changing the admin's password deletes the file.
    expect((await runCli(['user', 'passwd', 'admin', '--password-stdin'], { DUALGATE_DB: db }, 'new-admin-pw\n')).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it('also shows the first admin password when its output is a terminal', async () => {
    const dir = tempDir();
    // `script` runs the server on a pseudo-terminal, as a person starting it by hand would.
    const command = `exec ${process.execPath} ${CLI} serve`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: cliEnv({ PORT: '0', HOST: '127.0.0.1', DUALGATE_LOG_LEVEL: 'info', DUALGATE_DB: join(dir, 'tty.db') }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!/"pid":(\d+).*dualgate listening on/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(/"pid":(\d+)[^\n]*dualgate listening on/.exec(out)?.[1]);
    try {
      const password = readFileSync(join(dir, 'initial-admin-password'), 'utf8').split('\n')[0]!;
      expect(out).toContain(`Created the account "admin" with the password: ${password}`);
      expect(out).toContain('Change it with: dualgate user passwd admin');
    } finally {
      if (pid > 0) process.kill(pid, 'SIGTERM');
      else child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ PORT: '99999' }, 'dualgate: invalid setting PORT: expected a whole number from 0 to 65535 (got "99999")\n'],
    [{ DUALGATE_LOG_LEVEL: 'loud' }, 'dualgate: invalid setting DUALGATE_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent (got "loud")\n'],
    [{ DUALGATE_XWEB_EXPIRATION: 'never' }, 'dualgate: invalid setting DUALGATE_XWEB_EXPIRATION: expected one of absolute, sliding (got "never")\n'],
  ])('refuses to start with %j, in one line', async (settings, line) => {
    const result = await runCli(['serve'], { DUALGATE_DB: join(tempDir(), 'x.db'), ...settings });
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: line });
  });

  it('refuses to start when the database directory cannot be created', async () => {
    const blocker = join(tempDir(), 'not-a-dir');
    writeFileSync(blocker, '');
    const result = await runCli(['serve'], { DUALGATE_DB: join(blocker, 'db', 'x.db'), PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^dualgate: cannot create the directory [^\n]*\n$/);
  });

  it('stops with one line when the port is taken', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const result = await runCli(['serve', '--port', String(port)], { DUALGATE_DB: join(tempDir(), 'x.db'), HOST: '127.0.0.1' });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`dualgate: cannot listen on 127.0.0.1:${port}: the address is already in use\n`);
    } finally {
      holder.close();
    }
  });

  it('refuses a --port that is not a port', async () => {
    const result = await runCli(['serve', '--port', 'abc'], { DUALGATE_DB: join(tempDir(), 'x.db') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--port <n>' argument 'abc' is invalid. expected a whole number from 0 to 65535");
  });
});

describe('every response', () => {
  it('carries a fresh cid in X-Zato-CID, nosniff, and no X-Powered-By, even a 404', async () => {
    const server = await startTestServer();
    try {
      const seen = new Set<string>();
      for (const path of ['/healthz', '/no/such/path', '/healthz']) {
        const res = await fetch(server.url + path);
        const cid = res.headers.get('x-zato-cid')!;
        expect(cid).toMatch(CID_FORMAT);
        expect(res.headers.get('x-powered-by')).toBeNull();
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        seen.add(cid);
        if (path === '/no/such/path') {
          expect(res.status).toBe(404);
          expect(await res.json()).toEqual({ error: 'Not found', cid });
        }
      }
      expect(seen.size).toBe(3);
    } finally {
      await server.stop();
    }
  });

  it('/healthz turns 503 when the database does not answer', async () => {
    const server = await startTestServer();
    try {
      await server.core.close();
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable' });
    } finally {
      await server.stop();
    }
  });
});
