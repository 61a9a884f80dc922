import type { Store } from '../store/types';
import type { Clock } from './clock';
import { Throttled } from './errors';

const WINDOW_MS = 60_000;

/**
 * Log-in attempts per client address and minute, counted in the store so every worker process shares
 * them. It sits in front of bcrypt: a throttled attempt costs no hash. Off when the limit is 0.
 */
export class LoginThrottle {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly perMinute: number,
  ) {}

  async attempt(clientIp: string | null | undefined): Promise<void> {
    if (this.perMinute === 0 || !clientIp) return;
    const now = this.clock.now();
    const windowStart = now - (now % WINDOW_MS);
    const attempts = await this.store.countLoginAttempt(clientIp, windowStart);
    if (attempts > this.perMinute) {
      throw new Throttled(Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000)));
    }
  }

  /** Drops windows that can no longer matter. */
  forgetOld(): Promise<void> {
    return this.store.forgetLoginAttempts(this.clock.now() - 2 * WINDOW_MS);
  }
}
