import { startServeProcess, runCli, type ServeProcess } from '../support/process';
import { postgresBinDir, startLocalCluster, type LocalCluster } from '../support/postgres';
import { DOORS, Doors, DoorError, eachLimit, until, type Door } from '../ops/ops-support';

/**
 * PostgreSQL stopped (`pg_ctl stop -m fast`, as an operator's restart does) and started again under load,
 * with a `dualgate serve` process on it: every door answers its own error at once (none waits past the busy
 * timeout), /healthz answers 503, the node recovers by itself once the server is back, and nothing that was
 * acknowledged is lost. This test stops the server, so it runs a cluster of its own (Debian's initdb, pg_ctl).
 */
const binDir = postgresBinDir();
const describeWithPostgres = binDir ? describe : describe.skip;
if (!binDir) process.stderr.write('database-restart: skipped, this test needs initdb and pg_ctl (pg_config --bindir)\n');

const BUSY_TIMEOUT_MS = 1000;
/** What a loaded, shared 2-core machine may add to the busy timeout before an answer counts as hanging. */
const SLACK_MS = 1500;
const USERS = ['ann', 'bob', 'cid'];
const password = (user: string) => `${user}-password`;

describeWithPostgres('PostgreSQL stopped and started under load', () => {
  let cluster: LocalCluster;
  let server: ServeProcess | undefined;
  beforeAll(async () => {
    cluster = await startLocalCluster(binDir!);
  });
  afterAll(async () => {
    // A node that died says why here.
    if (server && server.child.exitCode !== null) process.stderr.write(`dualgate exited ${server.child.exitCode}: ${server.stderr().slice(-2000)}\n`);
    if (server && server.child.exitCode === null) await server.stop();
    cluster?.remove();
  });

  it('answers errors in time and 503 health while it is down, recovers without a restart, and loses nothing acknowledged', async () => {
    const settings = { DUALGATE_DB: cluster.url, DUALGATE_JWT_SECRET: 'r'.repeat(48), DUALGATE_LOGIN_RATE: '0', DUALGATE_BUSY_TIMEOUT_MS: String(BUSY_TIMEOUT_MS), DUALGATE_METRICS: 'true' };
    for (const user of USERS) await runCli(['user', 'add', user, '--password-stdin'], settings, `${password(user)}\n`);
    await runCli(['user', 'add', 'integ', '--password-stdin', '--role', 'integrator'], settings, 'integ-password\n');
    server = await startServeProcess(settings);
    const doors = new Doors(server.url);
    doors.integrator = await doors.xwebAuthenticate('integ', 'integ-password');

    const live: { token: string; door: Door }[] = [];
    const dead = new Set<string>();
    const unknown = new Set<string>();
    const slow: string[] = [];
    let failures = 0;
    let phase: 'before' | 'down' | 'after' = 'before';
    let afterAcks = 0;
    const timed = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      try {
        return await work();
      } finally {
        const took = Date.now() - started;
        if (took > BUSY_TIMEOUT_MS + SLACK_MS) slow.push(`${what} took ${took} ms`);
      }
    };
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const door = DOORS[(i + w) % 3]!;
        if (i % 3 === 2 && live.length > 0) {
          const [victim] = live.splice(Math.floor(Math.random() * live.length), 1);
          try {
            await timed(`${door} log-out`, () => doors.logout(door, victim!.token));
            dead.add(victim!.token);
            if (phase === 'after') afterAcks++;
          } catch (err) {
            if (!(err instanceof DoorError)) throw err;
            failures++;
            unknown.add(victim!.token);
            live.push(victim!); // still counted: asked about again at the end, either answer is right
          }
        } else {
          const user = USERS[i % 3]!;
          try {
            live.push({ token: await timed(`${door} log-in`, () => doors.login(door, user, password(user))), door });
            if (phase === 'after') afterAcks++;
          } catch (err) {
            if (!(err instanceof DoorError)) throw err;
            failures++;
          }
        }
        if (phase === 'down') await new Promise((r) => setTimeout(r, 20));
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
    await until('some acknowledged answers', 20_000, () => live.length + dead.size > 60, 20);

    await cluster.stopServer('fast');
    phase = 'down';
    // While it is down: health says so, and each door answers its own error format, in time.
    const health = await timed('healthz', () => fetch(`${server!.url}/healthz`));
    expect(health.status).toBe(503);
    const zato = await timed('zato', () => fetch(`${server!.url}/zato/json/zato.security.jwt.log-in`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'ann', password: password('ann') }) }));
    expect(zato.status).toBe(500);
    expect(((await zato.json()) as { zato_env: { result: string } }).zato_env.result).toBe('ZATO_ERROR');
    const xweb = await timed('xweb', () => fetch(`${server!.url}/xweb/JSON/Authenticate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ Authenticate: { userName: 'integ', password: 'integ-password' } }) }));
    expect(xweb.status).toBe(503);
    expect(await xweb.json()).toEqual({ Message: 'The service is temporarily unavailable', ExceptionType: 'SystemException' });
    const crafter = await timed('crafter', () => fetch(`${server!.url}/studio/api/1/services/api/1/security/validate-session.json`, { headers: { Cookie: `JSESSIONID=${live[0]!.token}` } }));
    expect(crafter.status).toBe(500);
    expect(((await crafter.json()) as { message: string }).message).toMatch(/^Internal server error\. database /);
    await new Promise((r) => setTimeout(r, 500)); // the load keeps failing meanwhile

    await cluster.startServer();
    phase = 'after';
    // No restart: the same process answers again once PostgreSQL is back.
    await until('health to answer 200 again', 15_000, async () => (await fetch(`${server!.url}/healthz`)).status === 200, 100);
    await until('acknowledged answers after the restart', 20_000, () => afterAcks > 60, 20);
    stop = true;
    await load;

    expect(failures).toBeGreaterThan(0);
    expect(slow).toEqual([]);
    const wrong: string[] = [];
    await eachLimit([...dead], 8, async (token) => {
      if (await doors.alive(token)) wrong.push(`acknowledged log-out is alive: ${token.slice(0, 12)}…`);
    });
    await eachLimit(live.filter((l) => !unknown.has(l.token)), 8, async ({ token, door }) => {
      if (!(await doors.alive(token))) wrong.push(`acknowledged ${door} log-in is dead: ${token.slice(0, 12)}…`);
    });
    expect(wrong).toEqual([]);
    expect(server.child.exitCode).toBeNull();
    // The failures were logged (with their reasons), the password in DUALGATE_DB never, nor in /metrics.
    expect(server.stdout()).toContain('"request failed"');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('dualgate_');
    for (const text of [server.stdout(), server.stderr(), metrics]) expect(text).not.toContain(cluster.password);
  }, 90_000);
});
