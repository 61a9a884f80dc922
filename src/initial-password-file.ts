import { readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { InitialPassword } from './core/initial-password';
import { parseStoreLocation } from './store/location';

export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

/**
 * Where the first admin's password goes: DUALGATE_INITIAL_PASSWORD_FILE when set, else `initial-admin-password`
 * beside the database file, or, with PostgreSQL (DUALGATE_DB a URL, no place for a file), in the working
 * directory of the node that created the account.
 */
export function initialPasswordPath(dbPath: string, configured?: string): string {
  if (configured !== undefined) return resolve(configured);
  if (parseStoreLocation(dbPath, 1).location?.kind === 'postgres') return resolve(INITIAL_PASSWORD_FILE);
  return join(dirname(dbPath), INITIAL_PASSWORD_FILE);
}

/**
 * The first admin's password in a file only its owner can read (0600), never in the log: the password on
 * its first line, the account's id on the second (so that only that account's password change removes it).
 */
export function initialPasswordFile(path: string): InitialPassword {
  return {
    async write(accountId, password) {
      await rm(path, { force: true });
      await writeFile(path, `${password}\naccount id ${accountId}\n`, { mode: 0o600, flag: 'wx' });
      await chmod(path, 0o600); // whatever the umask
    },
    async forget(accountId) {
      const content = await readFile(path, 'utf8').catch(() => undefined);
      if (content?.split('\n')[1] === `account id ${accountId}`) await rm(path, { force: true });
    },
  };
}
