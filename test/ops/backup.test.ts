import { existsSync, renameSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliContext } from '../../src/core/context';
import { openTestCore } from '../support/core';
import { runCli, startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';
import { DOORS, Doors, eachLimit, integrityCheck, type Door } from './ops-support';

/**
 * `dualgate backup <path>` while a server process is under write load, and the restore the README describes:
 * the copy is consistent, the load never notices, and a server started on the restored file knows every
 * log-in and log-out acknowledged before the backup began.
 */
const USERS = ['ann', 'bob'];
const password = (user: string) => `${user}-password`;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

let server: ServeProcess | undefined;
afterEach(() => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  server = undefined;
});

describe('dualgate backup', () => {
  it('copies a database under write load consistently; the restored copy has everything acknowledged before', async () => {
    const dir = tempDir();
    const db = join(dir, 'live.db');
    const copy = join(dir, 'backup.db');
    const seed = await openTestCore({}, { dbPath: db });
    for (const user of USERS) await seed.core.accounts.create({ username: user, password: password(user) }, cliContext);
    await seed.core.accounts.create({ username: 'integ', password: 'integ-password', role: 'integrator' }, cliContext);
    await seed.core.close();

    const settings = { DUALGATE_DB: db, DUALGATE_LOGIN_RATE: '0' };
    server = await startServeProcess(settings);
    const doors = new Doors(server.url);
    doors.integrator = await doors.xwebAuthenticate('integ', 'integ-password');

    const live: { token: string; door: Door }[] = [];
    const dead: string[] = [];
    let running = true;
    let answered = 0;
    const worker = async () => {
      while (running) {
        if (live.length > 10 && Math.random() < 0.4) {
          const [victim] = live.splice(Math.floor(Math.random() * live.length), 1);
          await doors.logout(pick(DOORS), victim!.token);
          dead.push(victim!.token);
        } else {
          const user = pick(USERS);
          const door = pick(DOORS);
          live.push({ token: await doors.login(door, user, password(user)), door });
        }
        answered++;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    while (answered < 250) await new Promise((r) => setImmediate(r));

    // What was acknowledged before the backup began must be in it.
    const aliveBefore = live.map((l) => l.token);
    const deadBefore = [...dead];
    const answeredBefore = answered;
    const backup = await runCli(['backup', copy], { DUALGATE_DB: db });
    const answeredDuring = answered - answeredBefore;
    running = false;
    await load; // every request of the load was answered 200 throughout, or a worker would have thrown
    expect(backup).toMatchObject({ code: 0, stdout: `backed up to ${copy}\n`, stderr: '' });
    expect(answeredDuring).toBeGreaterThan(0);
    expect(await server.stop()).toBe(0);
    expect(integrityCheck(copy)).toBe('ok');
    expect(existsSync(`${copy}-wal`)).toBe(false); // one self-contained file

    // The restore: stopped server, the live file set aside, the copy in its place, start.
    renameSync(db, `${db}.before-restore`);
    copyFileSync(copy, db);
    server = await startServeProcess(settings);
    const restored = new Doors(server.url, doors.integrator);
    const wrong: string[] = [];
    // A token logged in before the backup and out after it is alive again in the copy: the README says so,
    // and says what to do about it. Only what was settled before the backup is checked here.
    const loggedOutLater = new Set(dead.slice(deadBefore.length));
    await eachLimit(aliveBefore, 16, async (token) => {
      if (!loggedOutLater.has(token) && !(await restored.alive(token))) wrong.push(`log-in lost: ${token.slice(0, 12)}…`);
    });
    await eachLimit(deadBefore, 16, async (token) => {
      if (await restored.alive(token)) wrong.push(`log-out lost: ${token.slice(0, 12)}…`);
    });
    expect(wrong).toEqual([]);
    expect(aliveBefore.length + deadBefore.length).toBeGreaterThan(100);

    // The copy knows nothing of the log-outs made after it: the README's restore ends every live session.
    const revoked = await runCli(['session', 'revoke', '--all', '--yes'], { DUALGATE_DB: db });
    expect(revoked).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ended \d+ live sessions\n$/) });
    await eachLimit(aliveBefore, 16, async (token) => {
      if (await restored.crafterActive(token)) wrong.push(`alive after revoke --all: ${token.slice(0, 12)}…`);
    });
    expect(wrong).toEqual([]);
    expect(await runCli(['session', 'revoke'], { DUALGATE_DB: db })).toMatchObject({ code: 1, stderr: 'dualgate: give a session id, --user <username> or --all\n' });
    expect(await server.stop()).toBe(0);
  }, 40_000);
});
