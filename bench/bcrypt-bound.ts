/**
 * Baseline (b) of the bench: how many `bcrypt.compare` a second this machine's thread pool completes at the
 * configured cost, done the way the server does it: the async API from the main thread, with as many compares
 * in flight as the log-in scenario has connections (per process, as many processes as server workers), and
 * the same UV_THREADPOOL_SIZE. Forked by `bench/run.ts`: 'ready' once the hash exists, then on 'go' it runs
 * and answers how many compares finished.
 */
import bcrypt from 'bcrypt';

export interface BoundJob {
  cost: number;
  concurrency: number;
  seconds: number;
}

async function main(job: BoundJob): Promise<void> {
  const password = 'dualgate-bench-password';
  const hash = await bcrypt.hash(password, job.cost);
  await bcrypt.compare(password, hash);
  process.send!({ ready: true });
  await new Promise((resolve) => process.once('message', resolve));
  const started = process.hrtime.bigint();
  const end = Date.now() + job.seconds * 1000;
  let completed = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (Date.now() < end) {
        if (!(await bcrypt.compare(password, hash))) throw new Error('bcrypt.compare answered false');
        completed++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.send!({ completed, seconds }, () => process.exit(0));
}

if (require.main === module) {
  process.once('message', (job: BoundJob) => {
    main(job).catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
}
