import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { LoadJob, LoadResult } from './driver';

export type { LoadJob, LoadResult } from './driver';

const DRIVER = join(__dirname, 'driver.js');

/** Runs one load job in a forked load-generator process (autocannon) and answers its figures. */
export function load(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(DRIVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answered = false;
    child.once('message', (message: { result?: LoadResult; error?: string }) => {
      answered = true;
      if (message.result) resolve(message.result);
      else reject(new Error(`load generator failed: ${message.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`load generator exited (${code}) without a result`));
    });
    child.send(job);
  });
}
