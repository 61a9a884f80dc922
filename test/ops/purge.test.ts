import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliContext } from '../../src/core/context';
import { openTestCore } from '../support/core';
import { runCli, startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';
import { Doors, until } from './ops-support';

/**
 * The purge: sessions that ended longer ago than the retention are deleted in bounded batches, by the timer
 * and by `dualgate session purge`, while requests keep being answered; live sessions and recently ended
 * ones stay.
 */
const DAY = 86_400_000;
const USER = { username: 'ann', password: 'ann-password' };
const INTEGRATOR = { username: 'integ', password: 'integ-password' };

interface Seeded {
  ended: number;
  recent: number;
  live: number;
}

/**
 * Straight into the file, in one transaction, through a connection of its own: `ended` sessions that ended
 * over the retention ago (revoked, idle-expired, past their absolute expiry, in turn, some ended several
 * ways), `recent` ended within the retention, `live` alive; each with a token.
 */
function seed(dbPath: string, now: number, counts: Seeded): void {
  const db = new Database(dbPath);
  db.pragma('busy_timeout = 5000');
  const session = db.prepare(
    `INSERT INTO sessions (id, account_id, username, door, created_at, last_seen_at, idle_ttl, idle_expires_at,
       absolute_expires_at, revoked_at, revoke_reason)
     VALUES (?, NULL, 'seeded', 'zato', ?, ?, 3600, ?, ?, ?, ?)`,
  );
  const token = db.prepare(`INSERT INTO tokens (hash, session_id, kind, created_at) VALUES (?, ?, 'guid', ?)`);
  const add = (createdAt: number, idleExpiresAt: number, absoluteExpiresAt: number, revokedAt: number | null) => {
    const id = randomBytes(16).toString('hex');
    session.run(id, createdAt, createdAt, idleExpiresAt, absoluteExpiresAt, revokedAt, revokedAt === null ? null : 'logout');
    token.run(randomBytes(32), id, createdAt);
  };
  db.transaction(() => {
    for (let i = 0; i < counts.ended; i++) {
      const created = now - 20 * DAY - i;
      switch (i % 3) {
        case 0: // revoked 8 days ago (and past its absolute expiry too)
          add(created, now + DAY, created + DAY / 2, now - 8 * DAY);
          break;
        case 1: // idle expiry long past
          add(created, created + 3_600_000, now + DAY, null);
          break;
        default: // absolute expiry long past
          add(created, now + DAY, created + DAY / 2, null);
      }
    }
    for (let i = 0; i < counts.recent; i++) add(now - 2 * DAY, now + DAY, now + DAY, now - DAY);
    for (let i = 0; i < counts.live; i++) add(now, now + 3_600_000, now + DAY, null);
  })();
  db.close();
}

function count(dbPath: string, sql: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('the purge', () => {
  let process_: ServeProcess | undefined;
  afterEach(() => {
    if (process_ && process_.child.exitCode === null) process_.child.kill('SIGKILL');
    process_ = undefined;
  });

  it('deletes 50,000 ended sessions on its timer, in batches, while requests keep being answered; live and recent ones stay', async () => {
    const db = join(tempDir(), 'purge.db');
    const { core } = await openTestCore({}, { dbPath: db });
    await core.accounts.create({ ...USER }, cliContext);
    await core.accounts.create({ ...INTEGRATOR, role: 'integrator' }, cliContext);
    await core.close();
    seed(db, Date.now(), { ended: 50_000, recent: 100, live: 100 });
    const before = count(db, 'SELECT count(*) AS n FROM sessions');

    process_ = await startServeProcess({ DUALGATE_DB: db, DUALGATE_PURGE_INTERVAL: '1', DUALGATE_LOGIN_RATE: '0' });
    const server = process_;
    const doors = new Doors(server.url);
    doors.integrator = await doors.xwebAuthenticate(INTEGRATOR.username, INTEGRATOR.password);
    const liveTokens = [await doors.login('zato', USER.username, USER.password), await doors.login('crafter', USER.username, USER.password)];

    // Two clients ask all along, each answer timed, until the purge has logged its run.
    const purged = /"time":"([^"]+)","pid":\d+,"deleted":(\d+),"durationMs":(\d+),"msg":"purged ended sessions"/;
    const answers: { at: number; ms: number }[] = [];
    const client = async () => {
      while (!purged.test(server.stdout())) {
        const started = Date.now();
        expect(await doors.crafterActive(liveTokens[1]!)).toBe(true);
        answers.push({ at: Date.now(), ms: Date.now() - started });
      }
    };
    await Promise.race([
      Promise.all(Array.from({ length: 2 }, client)),
      until('the purge to run', 20_000, () => purged.test(server.stdout()), 50),
    ]);
    const [, loggedAt, deleted, durationMs] = purged.exec(server.stdout())!;
    expect(Number(deleted)).toBe(50_000);
    expect(count(db, 'SELECT count(*) AS n FROM sessions')).toBe(before - 50_000 + 3); // + integrator, two log-ins
    expect(count(db, 'SELECT count(*) AS n FROM tokens WHERE session_id NOT IN (SELECT id FROM sessions)')).toBe(0);

    // Batches, with the server free between them: requests were answered all the while the purge ran, and
    // none waited long. (One DELETE of everything answers nothing until it is done.) A generous safety bound.
    const end = Date.parse(loggedAt!);
    const during = answers.filter((a) => a.at > end - Number(durationMs) && a.at <= end);
    expect(Number(durationMs)).toBeGreaterThan(0);
    expect(during.length).toBeGreaterThan(10);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1000);

    // What is alive, or ended within the retention, stays.
    for (const token of liveTokens) expect(await doors.alive(token)).toBe(true);
    expect(count(db, "SELECT count(*) AS n FROM sessions WHERE username = 'seeded'")).toBe(200);
    expect(await server.stop()).toBe(0);
  }, 40_000);

  it('runs on demand: dualgate session purge', async () => {
    const db = join(tempDir(), 'cli.db');
    const { core } = await openTestCore({}, { dbPath: db });
    await core.close();
    seed(db, Date.now(), { ended: 1_234, recent: 5, live: 5 });
    expect(await runCli(['session', 'purge'], { DUALGATE_DB: db })).toMatchObject({ code: 0, stdout: 'purged 1234 ended sessions\n' });
    expect(count(db, 'SELECT count(*) AS n FROM sessions')).toBe(10);
    expect(await runCli(['session', 'purge'], { DUALGATE_DB: db })).toMatchObject({ code: 0, stdout: 'purged 0 ended sessions\n' });
  });
});
