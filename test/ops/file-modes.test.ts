import { spawn } from 'node:child_process';
import { chmodSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Crafter } from '../cross-door/doors';
import { CLI, cliEnv, runProcess, type CliResult } from '../support/process';
import { tempDir, type Settings } from '../support/server';

/** Temporary directories of this file, removed after its tests. */
const scratchDirs: string[] = [];
const scratch = (): string => {
  const dir = tempDir();
  scratchDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** The permission bits of `path`, as `ls -l` would show them in octal. */
const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

/** `dualgate <args>` under `umask` (a shell sets it, then becomes node). */
function runUnder(umask: string, args: string[], settings: Settings, stdin?: string): Promise<CliResult> {
  return runProcess('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, CLI, ...args], cliEnv(settings), { stdin });
}

/** Waits until `n` processes have said they listen (each worker of `--workers` says it): a stop before a worker is ready fails it. */
async function allListening(output: () => string, n: number): Promise<void> {
  while ((output().match(/dualgate listening on/g) ?? []).length < n) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** `dualgate serve` under `umask`, until it says where it listens; `stop` ends it with SIGTERM. */
async function serveUnder(umask: string, settings: Settings, args: string[] = []) {
  const child = spawn('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, CLI, 'serve', ...args], {
    env: cliEnv({ PORT: '0', HOST: '127.0.0.1', DUALGATE_LOG_LEVEL: 'info', DUALGATE_LOGIN_RATE: '0', DUALGATE_METRICS_PORT: undefined, ...settings }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const found = /dualgate listening on (http:\/\/[^\s"]+)/.exec(out)?.[1];
      if (found) resolve(found);
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });
  return {
    url,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('private files, whatever the umask', () => {
  it('`serve` under umask 000 creates the database directories 0700, and the database, -wal and -shm 0600', async () => {
    const base = scratch();
    chmodSync(base, 0o777);
    const db = join(base, 'state', 'dualgate', 'dualgate.db');
    const server = await serveUnder('000', { DUALGATE_DB: db });
    try {
      // A log-in writes: the log and its index are there while the server runs.
      const crafter = new Crafter(server.url);
      await expect(crafter.logIn('admin', 'wrong')).rejects.toThrow(/401/);
      expect({
        state: modeOf(join(base, 'state')),
        dir: modeOf(join(base, 'state', 'dualgate')),
        db: modeOf(db),
        wal: modeOf(`${db}-wal`),
        shm: modeOf(`${db}-shm`),
        initialPassword: modeOf(join(base, 'state', 'dualgate', 'initial-admin-password')),
      }).toEqual({ state: '0700', dir: '0700', db: '0600', wal: '0600', shm: '0600', initialPassword: '0600' });
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // A database dualgate made itself: no warning about it.
    expect(server.output()).not.toContain('is open to other users');
  });

  it.each(['000', '022', '277'])('`init` and `backup` under umask %s: 0600 files in a 0700 directory', async (umask) => {
    const base = scratch();
    chmodSync(base, 0o777);
    const db = join(base, 'data', 'dualgate.db');
    const created = await runUnder(umask, ['init'], { DUALGATE_DB: db });
    expect(created.code).toBe(0);
    expect([modeOf(join(base, 'data')), modeOf(db), modeOf(join(base, 'data', 'initial-admin-password'))]).toEqual(['0700', '0600', '0600']);
    const copy = join(base, 'copy.db');
    expect(await runUnder(umask, ['backup', copy], { DUALGATE_DB: db })).toMatchObject({ code: 0, stdout: `backed up to ${copy}\n` });
    expect(modeOf(copy)).toBe('0600');
    // --force replaces the file with a new one, private too.
    chmodSync(copy, 0o644);
    expect((await runUnder(umask, ['backup', '--force', copy], { DUALGATE_DB: db })).code).toBe(0);
    expect(modeOf(copy)).toBe('0600');
  });

  it.each([[[]], [['--workers', '2']]])('a start on a database others may open warns once (%j), and changes nothing', async (args) => {
    const base = scratch();
    const db = join(base, 'dualgate.db');
    expect((await runUnder('022', ['init'], { DUALGATE_DB: db })).code).toBe(0);
    chmodSync(db, 0o644);
    const server = await serveUnder('022', { DUALGATE_DB: db }, args as string[]);
    await allListening(server.output, args.length > 0 ? 2 : 1);
    expect(await server.stop()).toBe(0);
    const warnings = server.output().split('\n').filter((line) => line.includes('is open to other users'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({
      level: 40,
      msg: `the database ${db} is open to other users (mode 0644); make it private: chmod 600 ${db}`,
    });
    expect(modeOf(db)).toBe('0644');
  });
});

