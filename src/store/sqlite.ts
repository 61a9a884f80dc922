/**
 * The SQLite store. Its rooms, in src/store/sqlite/: opening the file and migrating it (open.ts), the
 * statements and transactions prepared once (statements.ts), rows read by position (rows.ts), SQLite's
 * errors in the store's words (errors.ts), and the `Store` itself (store.ts).
 */
export { openSqliteStore, type SqliteOptions } from './sqlite/open';
export { SqliteStore } from './sqlite/store';
