import { existsSync } from 'node:fs';
import { startServeProcess, type ServeProcess } from '../support/process';
import { openTestCore } from '../support/core';
import { tempDir } from '../support/server';
import { TEST_STORE, testDatabase } from '../support/store';
import { cliContext } from '../../src/core/context';
import { DOORS, Doors, eachLimit, exitWithin, integrityCheck, type Door } from './ops-support';

/**
 * Crash safety, for real: concurrent log-ins and log-outs at every door against a `dualgate serve` process,
 * every acknowledged answer written down, `kill -9` in the middle of it, twice, and a fresh process on the
 * same file. Every acknowledged log-out must still be dead and every acknowledged log-in still alive.
 */
const USERS = ['ann', 'bob', 'cid', 'dee'];
const password = (user: string) => `${user}-password`;
const CONCURRENCY = 12;
/** Acknowledged answers per round before the kill. */
const PER_ROUND = 400;

interface Ledger {
  /** Acknowledged log-ins not (yet) chosen for a log-out. */
  live: { token: string; door: Door }[];
  /** Acknowledged log-outs. */
  dead: Set<string>;
  /** Log-outs sent but not answered when the process died: either outcome is right. */
  unknown: Set<string>;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Runs the load until `PER_ROUND` more answers are acknowledged, then kills the process mid-flight. */
async function loadAndKill(server: ServeProcess, doors: Doors, ledger: Ledger): Promise<number> {
  let acknowledged = 0;
  let inFlight = 0;
  let inFlightAtKill = -1;
  const kill = () => {
    if (inFlightAtKill >= 0) return;
    inFlightAtKill = inFlight;
    server.child.kill('SIGKILL');
  };
  const worker = async () => {
    while (inFlightAtKill < 0) {
      const logOut = ledger.live.length > CONCURRENCY && Math.random() < 0.4;
      if (logOut) {
        const [victim] = ledger.live.splice(Math.floor(Math.random() * ledger.live.length), 1);
        inFlight++;
        try {
          await doors.logout(pick(DOORS), victim!.token);
          ledger.dead.add(victim!.token);
          acknowledged++;
        } catch (err) {
          if (inFlightAtKill < 0) throw err;
          ledger.unknown.add(victim!.token);
        } finally {
          inFlight--;
        }
      } else {
        const door = pick(DOORS);
        const user = pick(USERS);
        inFlight++;
        try {
          ledger.live.push({ token: await doors.login(door, user, password(user)), door });
          acknowledged++;
        } catch (err) {
          if (inFlightAtKill < 0) throw err;
          // Never answered: the token, if the session was made at all, was never seen by anyone.
        } finally {
          inFlight--;
        }
      }
      if (acknowledged >= PER_ROUND) kill();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const exit = await exitWithin(server.child, 5000);
  expect(exit.signal).toBe('SIGKILL');
  return inFlightAtKill;
}

const started: ServeProcess[] = [];
afterAll(() => {
  for (const server of started) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
});

describe('crash safety', () => {
  it('keeps every acknowledged log-out dead and every acknowledged log-in alive across kill -9, at every door', async () => {
    const dir = tempDir();
    // The project's store: this file, or a PostgreSQL database of its own.
    const database = await testDatabase({ dir, name: 'crash.db' });
    const db = database.db;
    const seed = await openTestCore({}, { dbPath: db });
    for (const user of USERS) await seed.core.accounts.create({ username: user, password: password(user) }, cliContext);
    await seed.core.accounts.create({ username: 'integ', password: 'integ-password', role: 'integrator' }, cliContext);
    await seed.core.close();

    const settings = { DUALGATE_DB: db, DUALGATE_LOGIN_RATE: '0', DUALGATE_JWT_SECRET: 's'.repeat(48) };
    const ledger: Ledger = { live: [], dead: new Set(), unknown: new Set() };
    let integrator = '';
    for (let round = 0; round < 2; round++) {
      const server = await startServeProcess(settings);
      started.push(server);
      const doors = new Doors(server.url, integrator);
      if (round === 0) integrator = doors.integrator = await doors.xwebAuthenticate('integ', 'integ-password');
      // Killed with requests in flight, not between them.
      expect(await loadAndKill(server, doors, ledger)).toBeGreaterThan(0);
    }
    if (TEST_STORE === 'sqlite') expect(existsSync(`${db}-wal`)).toBe(true); // nobody closed the database: the crash was real

    const server = await startServeProcess(settings);
    started.push(server);
    try {
      const doors = new Doors(server.url, integrator);
      const live = ledger.live.filter((l) => !ledger.unknown.has(l.token));
      expect(ledger.dead.size).toBeGreaterThan(100);
      expect(live.length).toBeGreaterThan(80);
      expect(new Set(live.map((l) => l.door))).toEqual(new Set(DOORS));

      const wrong: string[] = [];
      await eachLimit([...ledger.dead], 16, async (token) => {
        if (await doors.alive(token)) wrong.push(`acknowledged log-out is alive again: ${token.slice(0, 12)}…`);
      });
      await eachLimit(live, 16, async ({ token, door }) => {
        if (!(await doors.alive(token))) wrong.push(`acknowledged ${door} log-in is dead: ${token.slice(0, 12)}…`);
      });
      expect(wrong).toEqual([]);
      if (TEST_STORE === 'sqlite') expect(integrityCheck(db)).toBe('ok');
    } catch (err) {
      // What the server said about its failures, to tell a test problem from a server one.
      process.stderr.write(`${server.stdout().split('\n').filter((l) => l.includes('"request failed"')).slice(0, 3).join('\n')}\n`);
      throw err;
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    if (TEST_STORE === 'sqlite') expect(integrityCheck(db)).toBe('ok');
    await database.remove();
  }, 60_000);
});
