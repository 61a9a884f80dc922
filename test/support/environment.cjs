// The test environment: node's, plus the removal of every temporary directory a test file made through
// `tempDir()` (test/support/temp.ts), once the file's last hook has run, whatever the tests left.
const { rmSync } = require('node:fs');
const { TestEnvironment } = require('jest-environment-node');

const REGISTRY = Symbol.for('dualgate.test.tempDirs');

class DualgateEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.tempDirs = [];
    this.global[REGISTRY] = this.tempDirs;
  }

  async teardown() {
    for (const dir of this.tempDirs.splice(0)) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch (err) {
        // A directory still mounted (the ops tests' tmpfs) is its test's own to unmount; say so, fail nothing.
        process.stderr.write(`could not remove ${dir}: ${err.message}\n`);
      }
    }
    await super.teardown();
  }
}

module.exports = DualgateEnvironment;
