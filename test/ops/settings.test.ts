import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startServeProcess } from '../support/process';
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

/** Settings with variables that are not settings of the table (a typo, DUALGATE_CONFIG). */
const env = (values: Record<string, string>) => values as Settings;

/** Waits until `n` processes have said they listen (each worker of `--workers` says it): a stop before a worker is ready fails it. */
async function allListening(output: () => string, n: number): Promise<void> {
  while ((output().match(/dualgate listening on/g) ?? []).length < n) await new Promise((resolve) => setTimeout(resolve, 20));
}

const TYPO = 'unknown setting DUALGATE_SESSIN_TTL in the environment is ignored (did you mean DUALGATE_SESSION_TTL?)';

describe('settings', () => {
  it('an unknown DUALGATE_* variable is named, with the nearest known name, by a command (stderr) and the command still runs', async () => {
    const db = join(scratch(), 'x.db');
    expect((await runCli(['init'], { DUALGATE_DB: db })).code).toBe(0);
    const listed = await runCli(['user', 'list'], env({ DUALGATE_DB: db, DUALGATE_SESSIN_TTL: '5', DUALGATE_LOGLEVEL: 'warn' }));
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe(
      'dualgate: warning: unknown setting DUALGATE_LOGLEVEL in the environment is ignored (did you mean DUALGATE_LOG_LEVEL?)\n' +
        `dualgate: warning: ${TYPO}\n`,
    );
    expect(listed.stdout).toContain('admin');
  });

  it.each([[[]], [['--workers', '2']]])('`serve %j` logs it once at start, and keeps the default', async (args) => {
    const db = join(scratch(), 'x.db');
    const server = await startServeProcess(env({ DUALGATE_DB: db, DUALGATE_SESSIN_TTL: '5' }), args as string[]);
    await allListening(server.stdout, args.length > 0 ? 2 : 1);
    const res = await fetch(`${server.url}/zato/json/zato.security.jwt.log-in`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"username": "nobody", "password": "x"}',
    });
    expect(res.status).toBe(401);
    expect(await server.stop()).toBe(0);
    const lines = server.stdout().split('\n').filter((line) => line.includes('DUALGATE_SESSIN_TTL'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, msg: TYPO });
    const sessions = await runCli(['session', 'list', '--json'], { DUALGATE_DB: db });
    expect(sessions.code).toBe(0);
  });

  describe('the settings file (DUALGATE_CONFIG)', () => {
    const dir = scratch();
    const cases: [string, string, () => string][] = [
      ['missing', 'no such file', () => join(dir, 'missing.json')],
      [
        'a directory',
        'is a directory, not a file',
        () => {
          mkdirSync(join(dir, 'conf.d'), { recursive: true });
          return join(dir, 'conf.d');
        },
      ],
      [
        'not JSON',
        'not valid JSON',
        () => {
          writeFileSync(join(dir, 'broken.json'), '{"DUALGATE_DB": ');
          return join(dir, 'broken.json');
        },
      ],
    ];
    it.each(cases)('%s: one line naming the file, for serve and for a command', async (_name, reason, make) => {
      const file = make();
      for (const args of [['serve'], ['user', 'list']]) {
        expect(await runCli(args, env({ DUALGATE_CONFIG: file, PORT: '0' }))).toEqual({
          code: 1,
          stdout: '',
          stderr: `dualgate: invalid setting DUALGATE_CONFIG: ${file}: ${reason}\n`,
        });
      }
    });

    it('a bad value in it: one line naming the setting and the file', async () => {
      const file = join(dir, 'bad-value.json');
      writeFileSync(file, JSON.stringify({ DUALGATE_DB: join(dir, 'x.db'), DUALGATE_LOCKOUT_MINUTES: 0 }));
      expect(await runCli(['serve'], env({ DUALGATE_CONFIG: file, PORT: '0' }))).toEqual({
        code: 1,
        stdout: '',
        stderr: `dualgate: invalid setting DUALGATE_LOCKOUT_MINUTES in ${file}: expected a whole number from 1 to 525600 (got "0")\n`,
      });
      // The same value from the environment is the environment's.
      expect((await runCli(['serve'], env({ DUALGATE_CONFIG: file, PORT: '0', DUALGATE_LOCKOUT_MINUTES: '0' }))).stderr).toBe(
        'dualgate: invalid setting DUALGATE_LOCKOUT_MINUTES: expected a whole number from 1 to 525600 (got "0")\n',
      );
    });
  });

  it.each(['warn', 'error', 'silent'])('the listening line is printed at DUALGATE_LOG_LEVEL=%s', async (level) => {
    const server = await startServeProcess({ DUALGATE_DB: join(scratch(), 'x.db'), DUALGATE_LOG_LEVEL: level });
    expect(await server.stop()).toBe(0);
    const port = new URL(server.url).port;
    expect(server.stdout().split('\n')).toContain(`dualgate listening on http://127.0.0.1:${port}`);
    expect(server.stdout()).not.toContain('"msg":"dualgate listening');
  });
});
