import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Crafter } from '../cross-door/doors';
import { CLI, cliEnv, runCli, runProcess } from '../support/process';
import { startTestServer, tempDir, type TestServer } from '../support/server';
import { runOnTerminal } from '../support/terminal';

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

// Each test runs several CLI processes, each a Node start: seconds apiece on a busy machine.
jest.setTimeout(120_000);

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** `dualgate <args>` run from `cwd` with no DUALGATE_DB: as an operator in another directory would. */
const runIn = (cwd: string, args: string[], stdin?: string) => runProcess(process.execPath, [CLI, ...args], cliEnv({}), { cwd, stdin });

describe('a CLI run away from the server\'s database', () => {
  const commands = [
    ['user', 'list'],
    ['user', 'add', 'ghost', '--password-stdin'],
    ['user', 'passwd', 'admin', '--password-stdin'],
    ['user', 'delete', 'admin'],
    ['user', 'lock', 'admin'],
    ['user', 'unlock', 'admin'],
    ['user', 'deactivate', 'admin'],
    ['user', 'activate', 'admin'],
    ['session', 'list'],
    ['session', 'list', '--user', 'admin'],
    ['session', 'revoke', 'some-id'],
    ['session', 'revoke', '--user', 'admin'],
    ['session', 'revoke', '--all'],
    ['session', 'revoke', '--all', '--yes'],
    ['session', 'purge'],
    ['backup', 'copy.db'],
  ];

  it.each(commands.map((args) => [args.join(' '), args]))('`%s` refuses in one line naming the path and the setting, and creates nothing', async (_name, args) => {
    const cwd = scratch();
    const result = await runIn(cwd, args as string[], 'pw\n');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `dualgate: no database at ${join(cwd, 'var', 'dualgate.db')}: set DUALGATE_DB to the server's database file (or DUALGATE_CONFIG to its settings file), or create this one with "dualgate init"\n`,
    });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('`init` creates the configured database with its first admin, as a first serve does; then the commands work on it', async () => {
    const cwd = scratch();
    const created = await runIn(cwd, ['init']);
    expect(created.code).toBe(0);
    expect(created.stdout).toBe(
      `created the database ${join(cwd, 'var', 'dualgate.db')}\ncreated the account "admin"; its password is in ${join(cwd, 'var', 'initial-admin-password')}\n`,
    );
    const password = readFileSync(join(cwd, 'var', 'initial-admin-password'), 'utf8').split('\n')[0]!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await runIn(cwd, ['init'])).toEqual({ code: 0, stdout: `the database ${join(cwd, 'var', 'dualgate.db')} exists already; nothing created\n`, stderr: '' });
    const listed = await runIn(cwd, ['user', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ username: 'admin', role: 'admin' })]);
  });

  it('a PostgreSQL URL is not a file: the refusal is left to its server', async () => {
    // (Until the PostgreSQL store lands, the URL is only a path that cannot be opened; what matters here is
    // that the file rule does not answer for it.)
    const result = await runCli(['user', 'list'], { DUALGATE_DB: 'postgres://db.example:5432/dualgate' });
    expect(result.stderr).not.toContain('no database at');
  });
});

describe('the command line', () => {
  it('--version and -v print the version', async () => {
    for (const flag of ['--version', '-v']) {
      expect(await runCli([flag], {})).toEqual({ code: 0, stdout: `dualgate ${VERSION}\n`, stderr: '' });
    }
  });

  it.each([
    [['usr'], "dualgate: unknown command 'usr' (did you mean user?)"],
    [['user', 'lst'], "dualgate: unknown command 'lst' (did you mean list?)"],
    [[], 'dualgate: missing command: dualgate <command> (see: dualgate --help)'],
    [['user'], 'dualgate: missing command: dualgate user <command> (see: dualgate user --help)'],
    [['session'], 'dualgate: missing command: dualgate session <command> (see: dualgate session --help)'],
    [['user', 'add'], "dualgate: missing required argument 'username'"],
    [['user', 'list', '--jsn'], "dualgate: unknown option '--jsn' (did you mean --json?)"],
    [['user', 'list', 'extra'], "dualgate: too many arguments for 'list'. Expected 0 arguments but got 1."],
    [['user', 'add', 'x', '--role', 'god'], "dualgate: option '--role <role>' argument 'god' is invalid. Allowed choices are user, integrator, admin."],
    [['serve', '--port', 'abc'], "dualgate: option '--port <n>' argument 'abc' is invalid. expected a whole number from 0 to 65535"],
    [['session', 'list', '--user'], "dualgate: option '--user <username>' argument missing"],
  ])('%j is one line starting dualgate:', async (args, line) => {
    expect(await runCli(args, { DUALGATE_DB: join(scratch(), 'never.db') })).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
  });

  it('--help still prints the help, on stdout', async () => {
    const help = await runCli(['session', 'revoke', '--help'], {});
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('Usage: dualgate session revoke [options] [session-id]');
    expect(help.stdout).toContain('--user <username>');
  });
});

describe('sessions and accounts from the CLI, against a live server', () => {
  let server: TestServer;
  let crafter: Crafter;
  const cli = (args: string[], stdin?: string) => runCli(args, { DUALGATE_DB: server.dbPath }, stdin);

  beforeEach(async () => {
    server = await startTestServer();
    crafter = new Crafter(server.url);
    await server.addUser('alice', 'alice-pw');
    await server.addUser('bob', 'bob-pw');
  });
  afterEach(() => server.stop());

  it('`session revoke --user` ends every live session of one user, at every door, and no one else\'s', async () => {
    const alice = [await crafter.logIn('alice', 'alice-pw'), await crafter.logIn('alice', 'alice-pw')];
    const bob = await crafter.logIn('bob', 'bob-pw');
    const listed = await cli(['session', 'list', '--user', 'alice', '--json']);
    expect((JSON.parse(listed.stdout) as { username: string }[]).map((s) => s.username)).toEqual(['alice', 'alice']);

    expect(await cli(['session', 'revoke', '--user', 'alice'])).toEqual({ code: 0, stdout: 'ended 2 live sessions of alice\n', stderr: '' });
    expect(await Promise.all(alice.map((s) => crafter.isActive(s)))).toEqual([false, false]);
    expect(await crafter.isActive(bob)).toBe(true);
    expect(await cli(['session', 'revoke', '--user', 'alice'])).toEqual({ code: 0, stdout: 'ended 0 live sessions of alice\n', stderr: '' });
    expect(await cli(['session', 'list', '--user', 'alice'])).toEqual({ code: 0, stdout: '(none)\n', stderr: '' });
  });

  it('refuses an unknown user instead of answering "(none)", and a revoke with two targets', async () => {
    expect(await cli(['session', 'list', '--user', 'nobody'])).toEqual({ code: 1, stdout: '', stderr: 'dualgate: no such user: nobody\n' });
    expect(await cli(['session', 'revoke', '--user', 'nobody'])).toEqual({ code: 1, stdout: '', stderr: 'dualgate: no such user: nobody\n' });
    for (const args of [['session', 'revoke', 'x', '--all'], ['session', 'revoke', '--user', 'alice', '--all', '--yes'], ['session', 'revoke']]) {
      expect(await cli(args)).toEqual({ code: 1, stdout: '', stderr: 'dualgate: give a session id, --user <username> or --all\n' });
    }
  });

  it('`user deactivate` ends the sessions and stops log-ins; `user activate` lets the user back in', async () => {
    const session = await crafter.logIn('alice', 'alice-pw');
    expect(await cli(['user', 'deactivate', 'alice'])).toEqual({ code: 0, stdout: 'deactivated alice and ended 1 live session\n', stderr: '' });
    expect(await crafter.isActive(session)).toBe(false);
    await expect(crafter.logIn('alice', 'alice-pw')).rejects.toThrow(/crafter login: 401/);
    expect((await cli(['user', 'list'])).stdout).toMatch(/\salice\s+user\s+no\s+no\s/);
    expect(await cli(['user', 'activate', 'alice'])).toEqual({ code: 0, stdout: 'activated alice\n', stderr: '' });
    expect(await crafter.isActive(await crafter.logIn('alice', 'alice-pw'))).toBe(true);
    expect(await cli(['user', 'deactivate', 'nobody'])).toEqual({ code: 1, stdout: '', stderr: 'dualgate: no such user: nobody\n' });
  });

  it('shows a lock from `user lock` as "until unlocked", and one from failed log-ins by the address it holds', async () => {
    await cli(['user', 'lock', 'alice']);
    for (let i = 0; i < 5; i++) await expect(crafter.logIn('bob', 'wrong')).rejects.toThrow(/401/);
    const listed = (await cli(['user', 'list'])).stdout;
    expect(listed).toMatch(/\salice\s+user\s+yes\s+until unlocked\s/);
    expect(listed).toMatch(/\sbob\s+user\s+yes\s+for 127\.0\.0\.1\s/);
  });

  it('`session revoke --all` asks on a terminal: "n" ends nothing, "y" ends every session', async () => {
    const sessions = [await crafter.logIn('alice', 'alice-pw'), await crafter.logIn('bob', 'bob-pw')];
    const env = cliEnv({ DUALGATE_DB: server.dbPath });
    const prompt = `End every live session at every door, in ${server.dbPath}? [y/N] `;

    const declined = await runOnTerminal(process.execPath, [CLI, 'session', 'revoke', '--all'], env, [[prompt, 'n\r']]);
    expect(declined.code).toBe(1);
    expect(declined.screen.replace(/\r/g, '')).toBe(`${prompt}n\ndualgate: cancelled\n`);
    expect(await Promise.all(sessions.map((s) => crafter.isActive(s)))).toEqual([true, true]);

    const accepted = await runOnTerminal(process.execPath, [CLI, 'session', 'revoke', '--all'], env, [[prompt, 'y\r']]);
    expect(accepted.code).toBe(0);
    expect(accepted.screen.replace(/\r/g, '')).toBe(`${prompt}y\nended 2 live sessions\n`);
    expect(await Promise.all(sessions.map((s) => crafter.isActive(s)))).toEqual([false, false]);
  });

  it('`session revoke --all` from a script needs --yes, and asks nothing with it', async () => {
    const session = await crafter.logIn('alice', 'alice-pw');
    expect(await cli(['session', 'revoke', '--all'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'dualgate: session revoke --all ends every live session: confirm with --yes (there is no terminal to ask on)\n',
    });
    expect(await crafter.isActive(session)).toBe(true);
    expect(await cli(['session', 'revoke', '--all', '--yes'])).toEqual({ code: 0, stdout: 'ended 1 live sessions\n', stderr: '' });
    expect(await crafter.isActive(session)).toBe(false);
    // On a terminal --yes asks nothing either.
    const onTerminal = await runOnTerminal(process.execPath, [CLI, 'session', 'revoke', '--all', '--yes'], cliEnv({ DUALGATE_DB: server.dbPath }), []);
    expect(onTerminal).toEqual({ code: 0, screen: 'ended 0 live sessions\r\n' });
  });

  it('`backup` refuses a directory and an existing file, and overwrites one only with --force', async () => {
    const dir = scratch();
    const copy = join(dir, 'copy.db');
    expect(await cli(['backup', dir])).toEqual({ code: 1, stdout: '', stderr: `dualgate: ${dir} is a directory: give the backup's file name, e.g. ${join(dir, 'dualgate.db')}\n` });
    expect(await cli(['backup', copy])).toEqual({ code: 0, stdout: `backed up to ${copy}\n`, stderr: '' });
    await server.addUser('carol', 'carol-pw');
    expect(await cli(['backup', copy])).toEqual({ code: 1, stdout: '', stderr: `dualgate: ${copy} already exists: choose another name, or overwrite it with --force\n` });
    const usersIn = async (db: string) =>
      (JSON.parse((await runCli(['user', 'list', '--json'], { DUALGATE_DB: db })).stdout) as { username: string }[]).map((a) => a.username);
    expect(await usersIn(copy)).toEqual(['admin', 'alice', 'bob']);
    expect(await cli(['backup', copy, '--force'])).toEqual({ code: 0, stdout: `backed up to ${copy}\n`, stderr: '' });
    expect(await usersIn(copy)).toEqual(['admin', 'alice', 'bob', 'carol']);
    // Nothing left beside it: the copy is made under another name and moved into place.
    expect(readdirSync(dir)).toEqual(['copy.db']);
    // A directory in the way of --force is still refused.
    mkdirSync(join(dir, 'sub'));
    expect((await cli(['backup', join(dir, 'sub'), '--force'])).stderr).toBe(`dualgate: ${join(dir, 'sub')} is a directory: give the backup's file name, e.g. ${join(dir, 'sub', 'dualgate.db')}\n`);
    writeFileSync(join(dir, 'not-a-db'), 'hello');
    expect(readFileSync(join(dir, 'not-a-db'), 'utf8')).toBe('hello');
  });
});
