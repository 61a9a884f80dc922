import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreFault } from '../errors';
import { FileIdentity } from '../file-identity';
import { Checkpointer } from '../checkpointer';
import { migrations } from '../migrations';
import { createPrivateFile, makePrivateDirectory } from '../private-files';
import { translate } from './errors';
import { SqliteStore } from './store';

export interface SqliteOptions {
  path: string;
  /** NORMAL survives a process crash; FULL also survives power loss (README, Operations). */
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  /**
   * Checkpoint the write-ahead log from a thread of its own this often, instead of in whichever commit
   * fills it (a server's; a short CLI command leaves it to SQLite).
   */
  checkpointEveryMs?: number;
  /** Open only a database that exists: create neither the file nor its directory (CLI commands). */
  mustExist?: boolean;
}

/**
 * Opens (and creates, owner-only, with its directory) the database, then brings its schema up to date.
 */
export function openSqliteStore(options: SqliteOptions): SqliteStore {
  if (options.path !== ':memory:' && !options.mustExist) {
    makeDirectories(dirname(options.path));
    createPrivateFile(options.path);
  }
  let db: Database.Database;
  try {
    db = new Database(options.path, { fileMustExist: Boolean(options.mustExist) });
  } catch (err) {
    throw translate(err, `cannot open ${options.path}`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    migrate(db);
  } catch (err) {
    // A refused upgrade is no store: its connection (the file, its -wal and -shm held open) goes with it.
    closeQuietly(db);
    throw translate(err, `cannot open ${options.path}`);
  }
  if (options.path === ':memory:') return new SqliteStore(db);
  let checkpointer: Checkpointer | undefined;
  if (options.checkpointEveryMs !== undefined) {
    db.pragma('wal_autocheckpoint = 0');
    checkpointer = new Checkpointer(options.path, options.checkpointEveryMs, options.busyTimeoutMs, () => {
      if (db.open) db.pragma('wal_autocheckpoint = 1000'); // SQLite's default: commits checkpoint again
    });
  }
  return new SqliteStore(db, new FileIdentity(options.path), checkpointer);
}

/**
 * Creates `dir` and its missing parents one level at a time, owner-only. (`mkdirSync(..., { recursive: true })`
 * can spin forever on some virtual file systems, /proc among them.)
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      if (!statSync(current).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new StoreFault(`cannot create the directory ${dir}: ${code ?? 'error'} at ${current}`);
      missing.unshift(current);
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  for (const level of missing) {
    try {
      makePrivateDirectory(level);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StoreFault(`cannot create the directory ${dir}: ${code ?? 'error'} at ${level}`);
    }
  }
}

function migrate(db: Database.Database): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > migrations.length) {
    throw new StoreFault(`the database schema (version ${applied}) is newer than this dualgate (version ${migrations.length})`);
  }
  if (applied === migrations.length) return;
  // Off while migrating, as a table rebuild needs (dropping the old table must not touch the rows that refer
  // to it); the references are checked before each migration commits.
  db.pragma('foreign_keys = OFF');
  try {
    for (let version = applied; version < migrations.length; version++) {
      const migration = migrations[version]!;
      db.transaction(() => {
        if (typeof migration === 'string') db.exec(migration);
        else migration(db);
        if ((db.pragma('foreign_key_check') as unknown[]).length > 0) throw new StoreFault(`migration ${version + 1} broke a reference`);
        db.pragma(`user_version = ${version + 1}`);
      }).immediate();
    }
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

/** Closes a connection given up on, keeping the error that gave it up rather than one from the close. */
function closeQuietly(db: Database.Database): void {
  try {
    db.close();
  } catch {
    // the caller's error is the one to report
  }
}
