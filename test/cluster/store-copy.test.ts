import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startServeProcess, type ServeProcess } from '../support/process';
import { createTestDatabase, dropTestDatabase, withClient } from '../support/postgres';
import { tempDir } from '../support/server';
import { DOORS, Doors, type Door } from '../ops/ops-support';

/**
 * Moving a deployment: `dualgate store copy --to <url>` from a SQLite store that is serving, into an empty
 * PostgreSQL database; the tokens handed out by the SQLite node then validate at a node on PostgreSQL.
 */
describe('dualgate store copy --to <url>', () => {
  let dir: string;
  let target: string;
  const servers: ServeProcess[] = [];
  beforeEach(async () => {
    dir = tempDir();
    target = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await dropTestDatabase(target);
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies a live SQLite deployment into an empty database in one go; its sessions keep working there', async () => {
    // No DUALGATE_JWT_SECRET: the generated one lives in the store, and must move with it.
    const sqlite = { DUALGATE_DB: join(dir, 'live.db'), DUALGATE_LOGIN_RATE: '0' };
    // The CLI works only on a database that exists: init makes it, with its first admin.
    expect((await runCli(['init'], sqlite)).code).toBe(0);
    for (const user of ['ann', 'bob']) await runCli(['user', 'add', user, '--password-stdin'], sqlite, `${user}-pw\n`);
    await runCli(['user', 'add', 'integ', '--password-stdin', '--role', 'integrator'], sqlite, 'integ-pw\n');
    const old = await startServeProcess(sqlite);
    servers.push(old);
    const atOld = new Doors(old.url);
    atOld.integrator = await atOld.xwebAuthenticate('integ', 'integ-pw');
    const live: { token: string; door: Door }[] = [];
    for (const door of DOORS) live.push({ token: await atOld.login(door, 'ann', 'ann-pw'), door });
    const ended = await atOld.login('zato', 'bob', 'bob-pw');
    await atOld.logout('crafter', ended);

    // Copied while the SQLite node serves.
    const copied = await runCli(['store', 'copy', '--to', target], sqlite);
    const where = /^postgres:\/\/[^@]*@([^/]+\/\w+)$/.exec(target)![1];
    expect(copied).toMatchObject({ code: 0, stderr: '' });
    expect(copied.stdout).toMatch(
      new RegExp(`^copied .*live\\.db to ${where!.replace(/\./g, '\\.')}: 4 accounts, 5 sessions, 5 tokens, \\d+ audit, 1 secrets, 0 login_attempts, 0 login_failures, 0 nonces\\n$`),
    );
    expect(copied.stdout + copied.stderr).not.toContain(new URL(target).password);

    // A second copy into the now non-empty database is refused, and changes nothing.
    const again = await runCli(['store', 'copy', '--to', target], sqlite);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^dualgate: the PostgreSQL database ${where!.replace(/\./g, '\\.')} is not empty \\(4 accounts, 5 sessions, 5 tokens, \\d+ audit, 1 secrets\\): copy only into an empty database\\n$`));
    expect(await withClient(target, async (c) => (await c.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n)).toBe(4);

    // A node on PostgreSQL, without the SQLite file: every live token still validates, the ended one does not.
    const moved = await startServeProcess({ DUALGATE_DB: target, DUALGATE_LOGIN_RATE: '0' });
    servers.push(moved);
    const atNew = new Doors(moved.url, atOld.integrator);
    for (const { token } of live) expect(await atNew.alive(token)).toBe(true);
    expect(await atNew.alive(ended)).toBe(false);
    // New rows continue after the copied ids.
    const added = await runCli(['user', 'add', 'cid', '--password-stdin'], { DUALGATE_DB: target }, 'cid-pw\n');
    expect(added.stdout).toMatch(/^created user cid \(id 5, /);
    await atNew.logout('xweb', live[0]!.token);
    expect(await atNew.alive(live[0]!.token)).toBe(false);
  }, 60_000);

  it('refuses a target that is not a PostgreSQL URL, and a store that is PostgreSQL already', async () => {
    const sqlite = { DUALGATE_DB: join(dir, 'x.db') };
    expect(await runCli(['store', 'copy', '--to', join(dir, 'y.db')], sqlite)).toMatchObject({
      code: 1,
      stderr: 'dualgate: store copy --to: expected a postgres:// or postgresql:// URL\n',
    });
    const fromPostgres = await runCli(['store', 'copy', '--to', target], { DUALGATE_DB: target });
    expect(fromPostgres.code).toBe(1);
    expect(fromPostgres.stderr).toMatch(/^dualgate: store copy reads a SQLite store; this one is PostgreSQL already \(.*\): use pg_dump and pg_restore\n$/);
    expect(fromPostgres.stderr).not.toContain(new URL(target).password);
  });
});
