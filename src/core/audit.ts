import type { Clock } from './clock';
import type { RequestContext } from './context';
import type { AuditCount, AuditRow, Store, StoredAuditRow } from '../store/types';

export type AuditEvent =
  | 'login'
  | 'logout'
  | 'renew'
  | 'lockout'
  | 'revoke'
  | 'account-create'
  | 'account-edit'
  | 'account-password'
  | 'account-delete'
  | 'account-lock'
  | 'account-unlock';

export interface AuditEntry {
  event: AuditEvent;
  outcome: 'ok' | 'failed';
  username?: string | null;
  sessionId?: string | null;
  /** Why, in a word or two ("bad-password", "expired"); never a password or token. */
  detail?: string | null;
}

/** The append-only record of who logged in, out, was locked, and which admin changed what. */
export class AuditLog {
  private readonly listeners: ((entry: AuditEntry) => void)[] = [];
  private readonly purgeListeners: ((deleted: number) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Calls `listener` with every entry as it is recorded (metrics count log-in failures and lockouts so). */
  onEntry(listener: (entry: AuditEntry) => void): void {
    this.listeners.push(listener);
  }

  /** Calls `listener` with how many rows each purge batch deleted (metrics count them). */
  onPurge(listener: (deleted: number) => void): void {
    this.purgeListeners.push(listener);
  }

  record(ctx: RequestContext, entry: AuditEntry): Promise<void> {
    return this.store.appendAudit(this.rowFor(ctx, entry));
  }

  /** The row `record` would append, for a unit of work that writes it with other changes (listeners told now). */
  rowFor(ctx: RequestContext, entry: AuditEntry): AuditRow {
    for (const listener of this.listeners) listener(entry);
    return this.row(ctx, entry);
  }

  /**
   * Records `entry` as one more event of the row kept for `key` (one row per address and window, say): a
   * refusal that is repeated thousands of times adds one row, with its count.
   */
  tally(ctx: RequestContext, entry: AuditEntry, key: string): Promise<void> {
    for (const listener of this.listeners) listener(entry);
    return this.store.tallyAudit(this.row(ctx, entry), key);
  }

  /** Deletes rows older than `before`, in batches (each its own transaction); how many. */
  async purge(before: number, batch: number, signal?: AbortSignal): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.store.purgeAudit(before, batch);
      total += deleted;
      if (deleted > 0) for (const listener of this.purgeListeners) listener(deleted);
      if (deleted < batch || signal?.aborted) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private row(ctx: RequestContext, entry: AuditEntry): AuditRow {
    const detail = ctx.actor ? [entry.detail, `by ${ctx.actor}`].filter(Boolean).join(' ') : entry.detail;
    return {
      at: this.clock.now(),
      cid: ctx.cid,
      event: entry.event,
      username: entry.username ?? null,
      sessionId: entry.sessionId ?? null,
      door: ctx.door,
      clientIp: ctx.clientIp ?? null,
      outcome: entry.outcome,
      detail: detail ?? null,
    };
  }

  recent(limit: number): Promise<StoredAuditRow[]> {
    return this.store.listAudit(limit);
  }

  /** Entries from `since` on, counted per `bucketMs` (a minute unless told), event and outcome. */
  counts(since: number, bucketMs = 60_000): Promise<AuditCount[]> {
    return this.store.countAudit(since, bucketMs);
  }
}
