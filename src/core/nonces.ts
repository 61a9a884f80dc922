import { createHash } from 'node:crypto';
import type { Store } from '../store/types';

/**
 * Nonces that are good once, across every worker and node: kept in the store (by hash), not in memory. A
 * WS-Security UsernameToken's nonce is one; the purge forgets those whose record has run out.
 */
export class Nonces {
  constructor(private readonly store: Store) {}

  /**
   * True the first time `nonce` is presented (until `keepUntil`); false for a replay. Whoever presents it: a
   * captured message replayed under another spelling of the user name is still a replay.
   */
  claim(nonce: Buffer, keepUntil: number, now: number): Promise<boolean> {
    const hash = createHash('sha256').update(nonce).digest();
    return this.store.claimNonce(hash, keepUntil, now);
  }
}
