/** @type {import('jest').Config} */
module.exports = {
  // node's, and it removes the temporary directories each test file made (test/support/temp.ts).
  testEnvironment: '<rootDir>/test/support/environment.cjs',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // Two cores: more workers than that only queue for CPU, and bcrypt wants the thread pool.
  maxWorkers: 2,
  watchman: false,
};
