import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { StoreFault } from './errors';

/**
 * The database, its -wal and -shm, backups and the initial password hold bcrypt hashes, the JWT secret and
 * live tokens' hashes: they are the owner's alone, whatever the umask. (SQLite gives -wal and -shm the
 * database file's own mode.)
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** Creates `path` empty and owner-only; false when it exists already (left as it is). */
export function createPrivateFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreFault(`cannot create ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE); // the umask may have taken bits from the mode `open` was given
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Writes `content` to a new owner-only file; fails when `path` exists. */
export function writePrivateFile(path: string, content: string): void {
  const fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** Makes one directory, owner-only whatever the umask. Throws as `mkdirSync` does (EEXIST included). */
export function makePrivateDirectory(path: string): void {
  mkdirSync(path, PRIVATE_DIR_MODE);
  chmodSync(path, PRIVATE_DIR_MODE);
}

/**
 * One line to warn with when others than the owner may read or write the file at `path` (a database
 * made before dualgate made its files private, or copied in with `cp`); undefined when it is private or absent.
 */
export function exposedFileWarning(path: string, what: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  return `${what} ${path} is open to other users (mode ${mode.toString(8).padStart(4, '0')}); make it private: chmod 600 ${path}`;
}
