import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the test environment (test/support/environment.cjs) keeps the directories to remove. */
const REGISTRY = Symbol.for('dualgate.test.tempDirs');

/**
 * A fresh temporary directory. The test environment removes it after the test file's last hook, so a test
 * that fails half-way, or a server stopped by the test itself, leaves nothing in the system's temp directory.
 */
export function tempDir(prefix = 'dualgate-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const registry = (globalThis as { [REGISTRY]?: string[] })[REGISTRY];
  if (!registry) throw new Error('tempDir() needs the test environment of jest.config.js');
  registry.push(dir);
  return dir;
}
