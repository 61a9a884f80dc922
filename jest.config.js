const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const shared = {
  // node's, and it removes the temporary directories each test file made (test/support/temp.ts).
  testEnvironment: '<rootDir>/test/support/environment.cjs',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

/**
 * The store contract, door, cross-door and durability suites run twice: on SQLite, and on PostgreSQL (the
 * `postgres` project: DUALGATE_TEST_POSTGRES_URL, else a throwaway cluster the global setup starts), and so
 * does every CLI command (test/cli/cli.test.ts). The
 * cluster suites (test/cluster) need PostgreSQL and run only there.
 */
const POSTGRES_SUITES = [
  '<rootDir>/test/store/contract.test.ts',
  '<rootDir>/test/zato/**/*.test.ts',
  '<rootDir>/test/xweb/**/*.test.ts',
  '<rootDir>/test/crafter/**/*.test.ts',
  '<rootDir>/test/cross-door/every-door.test.ts',
  '<rootDir>/test/ops/crash.test.ts',
  '<rootDir>/test/cli/cli.test.ts',
  '<rootDir>/test/cluster/**/*.test.ts',
];

function postgresAvailable() {
  if (process.env.DUALGATE_TEST_POSTGRES_URL) return true;
  const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  return found.status === 0 && existsSync(join(found.stdout.trim(), 'initdb'));
}

function postgresProjects() {
  if (postgresAvailable()) {
    return [
      {
        ...shared,
        displayName: 'postgres',
        testMatch: POSTGRES_SUITES,
        globals: { DUALGATE_TEST_STORE: 'postgres' },
        globalSetup: '<rootDir>/test/support/postgres-setup.ts',
        globalTeardown: '<rootDir>/test/support/postgres-teardown.ts',
      },
    ];
  }
  const line = 'PostgreSQL is not installed (no pg_config with initdb) and DUALGATE_TEST_POSTGRES_URL is not set';
  if (process.env.CI === 'true') throw new Error(`${line}: under CI the PostgreSQL suites must run`);
  process.stderr.write(`dualgate tests: ${line}; the PostgreSQL suites are skipped\n`);
  return [];
}

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'sqlite',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
    },
    ...postgresProjects(),
  ],
  testTimeout: 30000,
  // Two cores: more workers than that only queue for CPU, and bcrypt wants the thread pool.
  maxWorkers: 2,
  // A worker that has grown past this (each test file's modules and servers add to its heap) is replaced before
  // its next file: a worker of a gigabyte took longer than jest's half second to end, and was killed.
  workerIdleMemoryLimit: '600MB',
  watchman: false,
};
