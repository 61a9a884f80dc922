import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config, type SettingKey } from '../../src/config';
import { ManualClock } from '../../src/core/clock';
import { cliContext } from '../../src/core/context';
import { createLogger, type Logger } from '../../src/logger';
import { startServer, type RunningServer } from '../../src/server';
import type { Role } from '../../src/store/types';
import { testDatabase } from './store';

export interface TestServer extends RunningServer {
  config: Config;
  clock: ManualClock;
  dir: string;
  /** DUALGATE_DB: the SQLite file, or the PostgreSQL database's URL. */
  dbPath: string;
  /** Creates an account through the core, as the CLI would. */
  addUser(username: string, password: string, role?: Role, extra?: Record<string, unknown>): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

export type Settings = Partial<Record<SettingKey, string>>;

/** A fresh temporary directory for a database file. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dualgate-test-'));
}

/**
 * A real server on a free port over a real SQLite file in a fresh directory, with a clock the test moves.
 * bcrypt cost 4 keeps the suite fast; the cost itself is a setting like any other.
 */
export async function startTestServer(
  settings: Settings = {},
  options: { dir?: string; clock?: ManualClock; /** Instead of the silent default, e.g. one writing to a stream the test reads. */ log?: Logger } = {},
): Promise<TestServer> {
  const dir = options.dir ?? tempDir();
  // The project's store: a file in `dir`, or a PostgreSQL database of its own (test/support/store.ts).
  const database = await testDatabase({ dir });
  const dbPath = database.db;
  const config = loadConfig(
    {},
    {
      HOST: '127.0.0.1',
      PORT: '0',
      DUALGATE_DB: dbPath,
      DUALGATE_BCRYPT_COST: '4',
      DUALGATE_LOG_LEVEL: 'silent',
      DUALGATE_PURGE_INTERVAL: '0',
      // Suites log in far more than 20 times a minute from 127.0.0.1; the throttle has its own tests.
      DUALGATE_LOGIN_RATE: '0',
      // Beside a SQLite file it lands in `dir` anyway; on PostgreSQL it would land in the working directory.
      DUALGATE_INITIAL_PASSWORD_FILE: join(dir, 'initial-admin-password'),
      ...settings,
    },
  );
  const clock = options.clock ?? new ManualClock(Date.now());
  const running = await startServer(config, { clock, log: options.log ?? createLogger('silent') }).catch(async (err: unknown) => {
    await database.remove();
    throw err;
  });
  return {
    ...running,
    config,
    clock,
    dir,
    dbPath,
    async addUser(username, password, role = 'user', extra = {}) {
      await running.core.accounts.create({ username, password, role, ...extra }, cliContext);
    },
    async stop() {
      await running.close(1000);
      await database.remove();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
