import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The default log destination gathers lines into few writes (a performance matter, measured by the bench);
 * what a test can hold it to is that it loses none: not at exit, not on a crash, and not while the process
 * keeps running and logs no more.
 */

const LOGGER = join(__dirname, '..', '..', 'dist', 'logger.js');
const prelude = `const { createLogger } = require(${JSON.stringify(LOGGER)});\n`;

/** Runs `script` in a node process of its own with `createLogger` in scope; its output and exit status. */
function runLogging(script: string): { stdout: string; stderr: string; status: number | null } {
  const { stdout, stderr, status } = spawnSync(process.execPath, ['-e', prelude + script], { encoding: 'utf8', timeout: 20_000 });
  return { stdout, stderr, status };
}

const messages = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg);

describe('the log destination', () => {
  it('loses no line when the process exits at once, dies of an uncaught exception, or ends by itself', () => {
    const exited = runLogging(`const log = createLogger('info'); for (let i = 0; i < 5; i++) log.info('line ' + i); process.exit(3);`);
    expect(exited.status).toBe(3);
    expect(messages(exited.stdout)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);

    const crashed = runLogging(`const log = createLogger('info'); log.info('before'); setImmediate(() => { log.info('last'); throw new Error('boom'); });`);
    expect(crashed.status).toBe(1);
    expect(messages(crashed.stdout)).toEqual(['before', 'last']);

    const ended = runLogging(`const log = createLogger('info'); log.info('only');`);
    expect(ended.status).toBe(0);
    expect(messages(ended.stdout)).toEqual(['only']);

    // More lines than one write gathers: every one of them, in order.
    const many = runLogging(`const log = createLogger('info'); for (let i = 0; i < 2000; i++) log.info({ i }, 'many'); process.exit(0);`);
    expect(messages(many.stdout)).toHaveLength(2000);
  });

  it('writes a line out while the process lives on and logs nothing more', async () => {
    // The process keeps running (an interval keeps it alive) after its one line: the line must still come out.
    const child = spawn(process.execPath, ['-e', `${prelude}createLogger('info').info('alone'); setInterval(() => undefined, 1000);`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('\n')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`the child ended (${code}) before writing its line`)));
        // A bound far above the batching period, so that a line held for good fails here rather than hangs.
        setTimeout(() => reject(new Error('the line was not written within 10 s')), 10_000).unref();
      });
      expect(messages(line)).toEqual(['alone']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('is one for the process, however many loggers it makes: gateways opened and closed leave no flush timers behind', () => {
    // Counts the writes of an idle process that made 200 loggers (each gateway an embedder or a test opens
    // makes one) and logged a line with each. One destination flushes every 20 ms; one per logger would each
    // do so, about 2,000 writes in these 200 ms.
    const idle = runLogging(`
      const fs = require('node:fs');
      const loggers = Array.from({ length: 200 }, () => createLogger('info'));
      loggers.forEach((log, i) => log.info('logger ' + i));
      setTimeout(() => {
        let writes = 0;
        const write = fs.write;
        fs.write = function (...args) { writes++; return write.apply(this, args); };
        setTimeout(() => { fs.write = write; process.stderr.write(String(writes)); process.exit(0); }, 200);
      }, 100);`);
    expect(idle.status).toBe(0);
    expect(Number(idle.stderr)).toBeLessThan(40);
    // And all through the one stream, so in the order they were logged.
    expect(messages(idle.stdout)).toEqual(Array.from({ length: 200 }, (_, i) => `logger ${i}`));
  });
});
