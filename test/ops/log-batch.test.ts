import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createLogger, LineBatch } from '../../src/logger';

/**
 * The default log destination batches lines (one asynchronous write for many) and loses none at exit.
 * A sink that records what it is handed, as pino's own destination would write it.
 */
function recordingSink() {
  const writes: string[] = [];
  return {
    writes,
    write(data: string) {
      writes.push(data);
      return true;
    },
    flush(cb?: (err?: Error) => void) {
      cb?.();
    },
    flushSync() {},
  };
}

const LOGGER = join(__dirname, '..', '..', 'dist', 'logger.js');

/** Runs `script` in a node process of its own with `createLogger` in scope; its stdout and exit status. */
function runLogging(script: string): { stdout: string; status: number | null } {
  const { stdout, status } = spawnSync(process.execPath, ['-e', `const { createLogger } = require(${JSON.stringify(LOGGER)});\n${script}`], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { stdout, status };
}

const messages = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg);

describe('the log destination', () => {
  afterEach(() => jest.useRealTimers());

  it('hands the lines of a few milliseconds to the sink as one write, none held longer', () => {
    jest.useFakeTimers();
    const sink = recordingSink();
    const log = createLogger('info', new LineBatch(sink));
    log.info('one');
    log.info('two');
    log.child({ door: 'xweb' }).info('three');
    expect(sink.writes).toEqual([]);
    jest.advanceTimersByTime(20);
    expect(sink.writes).toHaveLength(1);
    expect(messages(sink.writes[0]!)).toEqual(['one', 'two', 'three']);
    log.info('four');
    jest.advanceTimersByTime(20);
    expect(sink.writes.map(messages)).toEqual([['one', 'two', 'three'], ['four']]);
  });

  it('hands what is pending over at once on flush, and a large batch without waiting', () => {
    jest.useFakeTimers();
    const sink = recordingSink();
    const log = createLogger('info', new LineBatch(sink));
    log.info('pending');
    log.flush();
    expect(sink.writes.map(messages)).toEqual([['pending']]);
    for (let i = 0; i < 1000; i++) log.info({ i }, 'many');
    // 64 KiB of lines go at once, before the timer.
    expect(sink.writes.length).toBeGreaterThan(1);
    jest.advanceTimersByTime(20);
    expect(sink.writes.slice(1).flatMap(messages)).toEqual(Array.from({ length: 1000 }, () => 'many'));
  });

  it('loses no line when the process exits at once, or dies of an uncaught exception', () => {
    const exited = runLogging(`const log = createLogger('info'); for (let i = 0; i < 5; i++) log.info('line ' + i); process.exit(3);`);
    expect(exited.status).toBe(3);
    expect(messages(exited.stdout)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);

    const crashed = runLogging(`const log = createLogger('info'); log.info('before'); setImmediate(() => { log.info('last'); throw new Error('boom'); });`);
    expect(crashed.status).toBe(1);
    expect(messages(crashed.stdout)).toEqual(['before', 'last']);

    // And a process that ends by itself, its event loop empty.
    const ended = runLogging(`const log = createLogger('info'); log.info('only');`);
    expect(ended.status).toBe(0);
    expect(messages(ended.stdout)).toEqual(['only']);
  });
});
