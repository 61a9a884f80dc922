import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * PostgreSQL for the tests: DUALGATE_TEST_POSTGRES_URL (a superuser's URL) when it is set, otherwise a
 * throwaway cluster of our own made with Debian's initdb and pg_ctl (`pg_config --bindir`), on a free port in
 * a temporary directory, removed afterwards. Each test server gets a database of its own in it.
 */

/** The directory holding initdb and pg_ctl, when PostgreSQL's server is installed here. */
export function postgresBinDir(): string | undefined {
  const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = found.status === 0 ? found.stdout.trim() : '';
  return dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')) ? dir : undefined;
}

export interface LocalCluster {
  /** The superuser's URL, password included (as a user's would be), over TCP on 127.0.0.1. */
  url: string;
  /** The same over the cluster's Unix socket, as a node on the database's own machine would connect. */
  socketUrl: string;
  password: string;
  dataDir: string;
  /** pg_ctl stop (mode `fast`, as an operator's restart does) and start, for the fault tests. */
  stopServer(mode?: 'fast' | 'immediate'): Promise<void>;
  startServer(): Promise<void>;
  /** Stops the cluster and removes its directory. */
  remove(): void;
}

/** Root runs the PostgreSQL programs as the `postgres` user (the server refuses to run as root). */
function asPostgres(command: string, args: string[]): void {
  const runAsRoot = process.getuid?.() === 0;
  const [file, argv] = runAsRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

/** `asPostgres` without blocking the event loop (servers under test keep answering meanwhile). */
async function asPostgresAsync(command: string, args: string[]): Promise<void> {
  const runAsRoot = process.getuid?.() === 0;
  const [file, argv] = runAsRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  await promisify(execFile)(file, argv, { timeout: 60_000 });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startLocalCluster(binDir: string): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dualgate-pg-'));
  const dataDir = join(dir, 'data');
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const pwFile = join(dir, 'pwfile');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(pwFile, uid, gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  const initdb = join(binDir, 'initdb');
  const pgCtl = join(binDir, 'pg_ctl');
  try {
    // Passwords over TCP (the URL carries one, as a deployment's would); --no-sync: a test cluster need not
    // survive an operating system crash, and no test makes one.
    asPostgres(initdb, ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}`);
  }
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off`;
  const startArgs = ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start'];
  const stopArgs = (mode: string) => ['-D', dataDir, '-w', '-t', '60', '-m', mode, 'stop'];
  try {
    asPostgres(pgCtl, startArgs);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}`);
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    socketUrl: `postgres://postgres:${password}@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`,
    password,
    dataDir,
    stopServer: (mode = 'fast') => asPostgresAsync(pgCtl, stopArgs(mode)),
    startServer: () => asPostgresAsync(pgCtl, startArgs),
    remove() {
      try {
        asPostgres(pgCtl, stopArgs('immediate'));
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The URL of the PostgreSQL the tests use (set by the global setup of the `postgres` jest project). */
export function testPostgresUrl(): string {
  const url = process.env.DUALGATE_TEST_POSTGRES_URL;
  if (!url) throw new Error('DUALGATE_TEST_POSTGRES_URL is not set: run the PostgreSQL tests through jest (the postgres project)');
  return url;
}

/** `url` pointing at another database on the same server. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: testPostgresUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database of its own for one test; its URL (with the password). */
export async function createTestDatabase(): Promise<string> {
  const name = `dualgate_test_${randomBytes(6).toString('hex')}`;
  await asAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  return withDatabase(testPostgresUrl(), name);
}

/** Drops a database `createTestDatabase` made, ending any connection still open to it. */
export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^dualgate_test_[0-9a-f]+$/.test(name)) throw new Error(`not a test database: ${name}`);
  await asAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Runs `work` with a plain client on `url` (to look at what is really stored). */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
