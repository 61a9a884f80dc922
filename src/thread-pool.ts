import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setPriority } from 'node:os';

/** The nice value the pool's threads get: well below the event loop (0), so it always comes first. */
const POOL_NICE = 10;

function threadIds(): Set<string> | undefined {
  try {
    return new Set(readdirSync('/proc/self/task'));
  } catch {
    return undefined;
  }
}

/**
 * Lowers the scheduling priority of libuv's thread pool, where bcrypt runs, below the event loop's. With
 * four pool threads on a two-core machine, a log-in storm otherwise keeps every core busy with bcrypt and the
 * event loop waits for its turn like any of them: every other request (a log-out, a validate) slows down.
 * At a lower priority the pool still gets all the CPU the event loop does not use, so log-ins lose nothing
 * when the rest is quiet.
 *
 * The pool starts all its threads on its first job; the threads that appear in /proc/self/task then are its
 * own (Linux only). Elsewhere, or when the pool was already running before this was called, nothing changes.
 * Answers how many threads it lowered.
 */
export async function lowerThreadPoolPriority(): Promise<number> {
  const before = process.platform === 'linux' ? threadIds() : undefined;
  if (!before) return 0;
  await stat('.');
  let lowered = 0;
  for (const id of threadIds() ?? []) {
    if (before.has(id)) continue;
    try {
      setPriority(Number(id), POOL_NICE);
      lowered++;
    } catch {
      // Not allowed here (a sandbox): the pool keeps the event loop's priority, as without this.
    }
  }
  return lowered;
}
