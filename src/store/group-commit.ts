import type Database from 'better-sqlite3';
import { StoreFault } from './errors';

/**
 * What a unit of `mayWrite` throws when it finds it must write where it may not: it then fails as the writes of
 * its batch did.
 */
export const WRITE_REFUSED = Symbol('write refused');

interface Unit {
  /** `canWrite` is false only for a `mayWrite` unit run again alone after its batch found writes refused. */
  work: (canWrite: boolean) => unknown;
  writes: 'no' | 'yes' | 'maybe';
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * Group commit. Each store call is one unit of work; the units asked for during one turn of the event loop
 * run together in one transaction and are settled after its single commit. Under load, many requests'
 * small commits, each taking the WAL locks and writing the same tail pages (audit rows, index ends) again,
 * become one. A unit that is alone in its turn runs in its own autocommit, as it would without this.
 *
 * Nothing is acknowledged before it is committed: a promise settles only after the commit that holds it.
 */
export class GroupCommit {
  private queue: Unit[] = [];
  private readonly together: Database.Transaction<(units: Unit[]) => unknown[]>;

  constructor(
    db: Database.Database,
    /** SQLite's error as the store's own. */
    private readonly translate: (err: unknown) => Error,
    /** Throws a `StoreFault` when no work may run (the database file was removed or replaced). */
    private readonly assertUsable: () => void,
  ) {
    this.together = db.transaction((units: Unit[]) => units.map((unit) => unit.work(true)));
  }

  read<T>(work: () => T): Promise<T> {
    return this.submit(work, 'no');
  }

  write<T>(work: () => T): Promise<T> {
    return this.submit(work, 'yes');
  }

  /**
   * A unit that reads, and writes only when what it read says so (a validation records a use at most once a
   * second). In a batch it is a write. Should the batch find writes refused, it runs again alone with
   * `canWrite` false: answered when it needs no write, failed as the batch's writes when it does (it throws
   * `WRITE_REFUSED` before writing).
   */
  mayWrite<T>(work: (canWrite: boolean) => T): Promise<T> {
    return this.submit(work, 'maybe');
  }

  /** Runs what is queued now, rather than at the end of this turn (before the database closes). */
  drain(): void {
    const units = this.queue;
    this.queue = [];
    if (units.length > 0) this.runUnits(units);
  }

  private submit<T>(work: (canWrite: boolean) => T, writes: Unit['writes']): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(this.flush);
      this.queue.push({ work, writes, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private readonly flush = (): void => this.drain();

  private runUnits(units: Unit[]): void {
    try {
      this.assertUsable();
    } catch (err) {
      for (const unit of units) unit.reject(this.translate(err));
      return;
    }
    if (units.length === 1) {
      this.runAlone(units[0]!);
      return;
    }
    let results: unknown[];
    try {
      // IMMEDIATE when anything writes: the write lock is taken (or waited for) up front, so the batch never
      // fails halfway for want of it. A batch of reads takes no write lock, so it also runs on a read-only store.
      results = units.some((unit) => unit.writes !== 'no') ? this.together.immediate(units) : this.together.deferred(units);
    } catch (err) {
      const failure = this.translate(err);
      if (failure instanceof StoreFault) {
        // The store refuses writes (locked past the busy timeout, full, read-only): a read may still be
        // answered, as it would have been on its own.
        for (const unit of units) {
          if (unit.writes === 'yes') unit.reject(failure);
          else this.runAlone(unit, failure);
        }
        return;
      }
      // One unit's own error (a duplicate name, say) rolled the whole batch back: each unit again on its own,
      // so only that one fails.
      for (const unit of units) this.runAlone(unit);
      return;
    }
    units.forEach((unit, i) => unit.resolve(results[i]));
  }

  /** Runs a unit in its own autocommit; with `refused` (the batch's failure), one that may not write. */
  private runAlone(unit: Unit, refused?: Error): void {
    try {
      unit.resolve(unit.work(refused === undefined));
    } catch (err) {
      unit.reject(err === WRITE_REFUSED && refused !== undefined ? refused : this.translate(err));
    }
  }
}
