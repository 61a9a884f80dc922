import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';
import { createTestDatabase, dropTestDatabase, withClient } from '../support/postgres';
import { postgresMigrations } from '../../src/store/postgres-migrations';
import { DOORS, Doors, DoorError, eachLimit, exitWithin, type Door } from '../ops/ops-support';

/**
 * dualgate as a cluster, over real HTTP: `dualgate serve` processes sharing one PostgreSQL database (the
 * `postgres` jest project's server, a database of its own per test).
 */
const SECRET = { DUALGATE_JWT_SECRET: 'c'.repeat(48), DUALGATE_LOGIN_RATE: '0' };
const USERS = ['ann', 'bob', 'cid'];
const password = (user: string) => `${user}-password`;

const started: ServeProcess[] = [];
async function node(db: string, settings: Record<string, string> = {}): Promise<ServeProcess> {
  // The first admin's password file, which on PostgreSQL would go to the working directory.
  const server = await startServeProcess({ DUALGATE_DB: db, DUALGATE_INITIAL_PASSWORD_FILE: join(dir, 'initial-admin-password'), ...SECRET, ...settings });
  started.push(server);
  return server;
}

let db: string;
let dir: string;
beforeEach(async () => {
  db = await createTestDatabase();
  dir = tempDir();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => (s.child.exitCode === null && s.child.signalCode === null ? s.stop() : undefined)));
  await dropTestDatabase(db);
  rmSync(dir, { recursive: true, force: true });
});

async function seedUsers(): Promise<void> {
  for (const user of USERS) {
    expect((await runCli(['user', 'add', user, '--password-stdin'], { DUALGATE_DB: db, ...SECRET }, `${password(user)}\n`)).code).toBe(0);
  }
  expect((await runCli(['user', 'add', 'integ', '--password-stdin', '--role', 'integrator'], { DUALGATE_DB: db, ...SECRET }, 'integ-password\n')).code).toBe(0);
}

describe('a cluster of dualgate nodes on one PostgreSQL database', () => {
  it('three nodes started together on an empty database migrate it exactly once and create one admin', async () => {
    const nodes = await Promise.all([node(db), node(db), node(db)]);
    expect(new Set(nodes.map((n) => n.url)).size).toBe(3);
    const versions = await withClient(db, async (c) => (await c.query('SELECT version FROM dualgate_schema ORDER BY version')).rows.map((r) => r.version as number));
    expect(versions).toEqual(postgresMigrations.map((_, i) => i + 1));
    const admins = await withClient(db, async (c) => (await c.query("SELECT count(*)::int AS n FROM accounts WHERE username = 'admin'")).rows[0].n as number);
    expect(admins).toBe(1);
    // Exactly one node created the admin and wrote its password to the file.
    expect(nodes.filter((n) => n.stdout().includes('created the account'))).toHaveLength(1);
    expect(readFileSync(join(dir, 'initial-admin-password'), 'utf8')).toMatch(/^\S+\naccount id \d+\n$/);
    for (const n of nodes) expect((await fetch(`${n.url}/healthz`)).status).toBe(200);
  });

  it('a session opened at node A validates at node B, and logged out at node C is dead at A and B at once', async () => {
    await seedUsers();
    const [a, b, c] = await Promise.all([node(db), node(db), node(db)]);
    const atA = new Doors(a!.url);
    const atB = new Doors(b!.url);
    const atC = new Doors(c!.url);
    atB.integrator = await atB.xwebAuthenticate('integ', 'integ-password');
    // The integrator's token from B works at A too: one JWT secret and one session table for all.
    atA.integrator = atB.integrator;
    atC.integrator = atB.integrator;
    for (const door of DOORS) {
      const token = await atA.login(door, 'ann', password('ann'));
      expect(await atB.alive(token)).toBe(true);
      expect(await atA.alive(token)).toBe(true);
      await atC.logout(pick(DOORS, door), token);
      expect(await atA.alive(token)).toBe(false);
      expect(await atB.alive(token)).toBe(false);
    }
  });

  it('counts failed log-ins across nodes: the lockout reached through three nodes holds at every node', async () => {
    await seedUsers();
    const nodes = await Promise.all([node(db, { DUALGATE_LOCKOUT_THRESHOLD: '5' }), node(db, { DUALGATE_LOCKOUT_THRESHOLD: '5' }), node(db, { DUALGATE_LOCKOUT_THRESHOLD: '5' })]);
    // Five wrong passwords, spread over the nodes and sent at once.
    const wrong = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        fetch(`${nodes[i % 3]!.url}/zato/json/zato.security.jwt.log-in`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'bob', password: 'wrong' }),
        }).then((r) => r.status),
      ),
    );
    expect(wrong.every((s) => s >= 400)).toBe(true);
    // Now the right password is refused at every node.
    for (const n of nodes) {
      await expect(new Doors(n.url).login('zato', 'bob', password('bob'))).rejects.toBeInstanceOf(DoorError);
    }
    // The lock of bob from this address is one row in the shared database, not five counts in three processes.
    const locks = await withClient(db, async (c) => (await c.query("SELECT failures, locked_until IS NOT NULL AS locked FROM login_failures WHERE username_key = 'bob'")).rows);
    expect(locks).toEqual([{ failures: 5, locked: true }]);
    // ann is not touched by bob's lockout.
    await new Doors(nodes[2]!.url).login('zato', 'ann', password('ann'));
  });

  it('a node killed with kill -9 under load: the other nodes lose nothing that was acknowledged', async () => {
    await seedUsers();
    const nodes = await Promise.all([node(db), node(db), node(db)]);
    const integrator = await new Doors(nodes[0]!.url).xwebAuthenticate('integ', 'integ-password');
    const doors = nodes.map((n) => new Doors(n.url, integrator));
    const live: { token: string; door: Door }[] = [];
    const dead = new Set<string>();
    const unknown = new Set<string>();
    let killed = false;
    let acknowledged = 0;
    const worker = async (w: number) => {
      const at = doors[w % 3]!;
      const victimNode = w % 3 === 0;
      for (let i = 0; i < 60; i++) {
        const door = DOORS[i % 3]!;
        if (i % 3 === 2 && live.length > 0) {
          const [victim] = live.splice(Math.floor(Math.random() * live.length), 1);
          try {
            await at.logout(door, victim!.token);
            dead.add(victim!.token);
          } catch (err) {
            if (!(killed && victimNode)) throw err;
            unknown.add(victim!.token);
          }
        } else {
          const user = USERS[i % USERS.length]!;
          try {
            live.push({ token: await at.login(door, user, password(user)), door });
          } catch (err) {
            if (!(killed && victimNode)) throw err;
          }
        }
        if (++acknowledged === 150) {
          killed = true;
          nodes[0]!.child.kill('SIGKILL');
        }
        if (killed && victimNode) return;
      }
    };
    await Promise.all(Array.from({ length: 9 }, (_, w) => worker(w)));
    expect(killed).toBe(true);
    expect((await exitWithin(nodes[0]!.child, 5000)).signal).toBe('SIGKILL');

    // Every acknowledged answer holds, asked at the nodes still running.
    const survivor = doors[1]!;
    const wrong: string[] = [];
    await eachLimit([...dead], 8, async (token) => {
      if (await survivor.alive(token)) wrong.push(`acknowledged log-out is alive: ${token.slice(0, 12)}…`);
    });
    await eachLimit(live.filter((l) => !unknown.has(l.token)), 8, async ({ token, door }) => {
      if (!(await doors[2]!.alive(token))) wrong.push(`acknowledged ${door} log-in is dead: ${token.slice(0, 12)}…`);
    });
    expect(wrong).toEqual([]);
    expect(dead.size + live.length).toBeGreaterThan(200);
  }, 60_000);

  it('an unreachable database at start: one line naming host and database, never the password, and a non-zero exit', async () => {
    const url = new URL(db);
    url.port = '1'; // nothing listens there
    const result = await runCli(['serve', '--port', '0'], { DUALGATE_DB: url.toString(), ...SECRET });
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`dualgate: cannot open the PostgreSQL database 127.0.0.1:1${url.pathname}: database is unreachable (ECONNREFUSED)`);
    expect(result.stdout + result.stderr).not.toContain(decodeURIComponent(url.password));

    // A wrong password: the server's own words, still without the password.
    const wrongPassword = new URL(db);
    wrongPassword.password = 'not-the-password';
    const refused = await runCli(['user', 'list'], { DUALGATE_DB: wrongPassword.toString() });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^dualgate: cannot open the PostgreSQL database 127\.0\.0\.1:\d+\/dualgate_test_\w+: password authentication failed for user "postgres"\n$/);
    expect(refused.stderr).not.toContain('not-the-password');
  });
});

/** A door other than `not`, so a log-out crosses doors as well as nodes. */
function pick(doors: readonly Door[], not: Door): Door {
  return doors[(doors.indexOf(not) + 1) % doors.length]!;
}

