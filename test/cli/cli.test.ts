import { join } from 'node:path';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { runCli } from '../support/process';
import { tempDir } from '../support/server';
import { itOnSqlite, TEST_STORE, testDatabase, type TestDatabase } from '../support/store';

// Each test runs several CLI processes, each a Node start: seconds apiece on a busy machine.
jest.setTimeout(120_000);

// Every command on the project's store: a SQLite file, or a PostgreSQL database (jest.config.js).
describe(`the dualgate command (${TEST_STORE})`, () => {
  let db: string;
  let database: TestDatabase;
  let passwordDir: string;
  beforeEach(async () => {
    database = await testDatabase({ name: 'cli.db' });
    db = database.db;
    // The first admin's password file: beside a SQLite file, or (PostgreSQL) in a directory of the test's own.
    passwordDir = tempDir();
    const file = join(passwordDir, 'initial-admin-password');
    expect((await runCli(['init'], { DUALGATE_DB: db, DUALGATE_INITIAL_PASSWORD_FILE: file })).code).toBe(0);
  });
  afterEach(async () => {
    await database.remove();
    rmSync(passwordDir, { recursive: true, force: true });
  });
  const run = (args: string[], stdin?: string, settings: Record<string, string> = {}) =>
    runCli(args, { DUALGATE_DB: db, ...settings }, stdin);

  it('adds a user with the password from stdin, lists it, and refuses a duplicate with one line', async () => {
    const added = await run(['user', 'add', 'alice', '--password-stdin', '--role', 'integrator', '--first-name', 'Alice', '--ttl', '600'], 's3cret\n');
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toMatch(/^created integrator alice \(id 2, customer key [0-9a-f-]{36}\)\n$/);

    const listed = await run(['user', 'list', '--json']);
    const accounts = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(accounts).toEqual([expect.objectContaining({ username: 'admin', role: 'admin' }), expect.objectContaining({ username: 'alice', role: 'integrator', firstName: 'Alice', ttl: 600, isActive: true })]);
    expect(listed.stdout).not.toContain('s3cret');
    expect(listed.stdout).not.toContain('passwordHash');

    const again = await run(['user', 'add', 'alice', '--password-stdin'], 'other\n');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('dualgate: An account with username "alice" already exists\n');
  });

  it('never takes a password as an argument, and will not prompt without a terminal', async () => {
    const noTty = await run(['user', 'add', 'bob']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toBe('dualgate: no terminal to prompt for the password on; pipe it in with --password-stdin\n');
    const asArg = await run(['user', 'add', 'bob', '--password', 'x']);
    expect(asArg.code).not.toBe(0);
    expect(asArg.stderr).toContain("unknown option '--password'");
  });

  it('refuses a password over 72 bytes and an over-long username', async () => {
    const long = await run(['user', 'add', 'bob', '--password-stdin'], `${'x'.repeat(73)}\n`);
    expect(long).toMatchObject({ code: 1, stderr: 'dualgate: Invalid password: longer than 72 bytes\n' });
    const name = await run(['user', 'add', 'u'.repeat(129), '--password-stdin'], 'pw\n');
    expect(name).toMatchObject({ code: 1, stderr: 'dualgate: Invalid username: longer than 128 characters\n' });
  });

  it('changes a password, locks, unlocks and deletes', async () => {
    await run(['user', 'add', 'carol', '--password-stdin'], 'one\n');
    expect(await run(['user', 'passwd', 'carol', '--password-stdin'], 'two\n')).toMatchObject({ code: 0, stdout: 'password changed for carol\n' });
    expect(await run(['user', 'lock', 'carol'])).toMatchObject({ code: 0, stdout: 'locked carol\n' });
    expect((await run(['user', 'list'])).stdout).toMatch(/carol\s+user\s+yes\s+until unlocked\s/);
    expect(await run(['user', 'unlock', 'carol'])).toMatchObject({ code: 0, stdout: 'unlocked carol\n' });
    expect((await run(['user', 'list'])).stdout).toMatch(/carol\s+user\s+yes\s+no/);
    expect(await run(['user', 'delete', 'carol'])).toMatchObject({ code: 0, stdout: 'deleted carol and ended its sessions\n' });
    expect(await run(['user', 'delete', 'carol'])).toMatchObject({ code: 1, stderr: 'dualgate: no such user: carol\n' });
  });

  it('lists, revokes and purges sessions', async () => {
    expect(await run(['session', 'list'])).toMatchObject({ code: 0, stdout: '(none)\n' });
    expect(await run(['session', 'revoke', 'nope'])).toMatchObject({ code: 1, stderr: 'dualgate: no such session: nope\n' });
    expect(await run(['session', 'purge'])).toMatchObject({ code: 0, stdout: 'purged 0 ended sessions\n' });
    expect(await run(['session', 'list', '--json'])).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('stops with one line naming a bad setting', async () => {
    const bad = await run(['user', 'list'], undefined, { DUALGATE_BCRYPT_COST: 'abc' });
    expect(bad).toMatchObject({ code: 1, stdout: '', stderr: 'dualgate: invalid setting DUALGATE_BCRYPT_COST: expected a whole number from 4 to 31 (got "abc")\n' });
    const secret = await run(['user', 'list'], undefined, { DUALGATE_JWT_SECRET: 'short-secret' });
    expect(secret.stderr).toBe('dualgate: invalid setting DUALGATE_JWT_SECRET: expected at least 32 bytes\n');
  });

  it('reads settings from the JSON file named by DUALGATE_CONFIG, under the environment', async () => {
    const file = join(tempDir(), 'dualgate.json');
    writeFileSync(file, JSON.stringify({ DUALGATE_SESSION_TTL: 'soon' }));
    const bad = await run(['user', 'list'], undefined, { DUALGATE_CONFIG: file });
    expect(bad.stderr).toBe(`dualgate: invalid setting DUALGATE_SESSION_TTL in ${file}: expected a whole number from 1 to 31536000 (got "soon")\n`);
    const overridden = await run(['user', 'list'], undefined, { DUALGATE_CONFIG: file, DUALGATE_SESSION_TTL: '60' });
    expect(overridden.code).toBe(0);
    writeFileSync(file, '{"NO_SUCH_SETTING": 1}');
    expect((await run(['user', 'list'], undefined, { DUALGATE_CONFIG: file })).stderr).toBe(
      `dualgate: invalid setting NO_SUCH_SETTING in ${file}: unknown setting\n`,
    );
  });

  itOnSqlite('stops with one line when the database directory cannot be created', async () => {
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, '');
    const result = await runCli(['init'], { DUALGATE_DB: join(blocker, 'sub', 'x.db') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^dualgate: cannot create the directory .*sub: ENOTDIR at .*\n$/);
    expect(result.stderr.split('\n')).toHaveLength(2);
  });
});

describe('dualgate backup', () => {
  itOnSqlite('writes a consistent copy that opens as a dualgate database with the same accounts', async () => {
    const dir = tempDir();
    const db = join(dir, 'live.db');
    const copy = join(dir, 'copy.db');
    await runCli(['init'], { DUALGATE_DB: db });
    await runCli(['user', 'add', 'dora', '--password-stdin'], { DUALGATE_DB: db }, 'pw\n');
    expect(await runCli(['backup', copy], { DUALGATE_DB: db })).toMatchObject({ code: 0, stdout: `backed up to ${copy}\n` });
    const listed = await runCli(['user', 'list', '--json'], { DUALGATE_DB: copy });
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ username: 'admin' }), expect.objectContaining({ username: 'dora' })]);
    const bad = await runCli(['backup', join(dir, 'no', 'such', 'dir', 'x.db')], { DUALGATE_DB: db });
    expect(bad).toMatchObject({ code: 1, stdout: '', stderr: `dualgate: cannot back up to ${join(dir, 'no', 'such', 'dir', 'x.db')}: the directory ${join(dir, 'no', 'such', 'dir')} does not exist\n` });
  });
});

describe('dualgate backup on PostgreSQL', () => {
  const itOnPostgres = TEST_STORE === 'postgres' ? it : it.skip;
  itOnPostgres("says in one line that PostgreSQL's own tools do it, and writes nothing", async () => {
    const database = await testDatabase();
    try {
      const where = /^postgres:\/\/[^@]*@([^/]+)\/(\w+)$/.exec(database.db)!;
      const copy = join(tempDir(), 'copy.db');
      const result = await runCli(['backup', copy], { DUALGATE_DB: database.db });
      expect(result).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `dualgate: backup copies a SQLite file; this store is PostgreSQL (${where[1]}/${where[2]}): back it up with pg_dump (e.g. pg_dump --format=custom --file=<path> <database>) or a base backup, see docs/operations.md\n`,
      });
      expect(existsSync(copy)).toBe(false);
    } finally {
      await database.remove();
    }
  });
});
