import { StoreFault, UniqueViolation } from '../errors';

/** SQLite's result codes, in the few words an operator or a 500 body may show. */
export const FAULT_REASONS: Record<string, string> = {
  SQLITE_BUSY: 'database is locked',
  SQLITE_LOCKED: 'database is locked',
  SQLITE_READONLY: 'database is read-only',
  SQLITE_FULL: 'disk is full',
  SQLITE_CANTOPEN: 'database file cannot be opened',
  SQLITE_IOERR: 'database I/O error',
  SQLITE_CORRUPT: 'database is corrupt',
  SQLITE_NOTADB: 'file is not a database',
  SQLITE_PERM: 'database access denied',
};

/** A better-sqlite3 error as the store's own: `UniqueViolation`, or a `StoreFault` in a few safe words. */
export function translate(err: unknown, context?: string): Error {
  if (err instanceof StoreFault || err instanceof UniqueViolation) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
    const column = /UNIQUE constraint failed: \w+\.(\w+)/.exec((err as Error).message)?.[1] ?? 'value';
    return new UniqueViolation(column);
  }
  if (typeof code === 'string') {
    const base = Object.keys(FAULT_REASONS).find((known) => code === known || code.startsWith(`${known}_`));
    const reason = base ? FAULT_REASONS[base]! : 'database error';
    return new StoreFault(context ? `${context}: ${reason}` : reason, { cause: err });
  }
  if (err instanceof TypeError && /not open/.test(err.message)) {
    return new StoreFault('database is closed', { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Thrown inside a reservation's transaction to roll its first count back when the second is refused. */
export class Refused extends Error {
  constructor(readonly busy: boolean) {
    super('refused');
  }
}
