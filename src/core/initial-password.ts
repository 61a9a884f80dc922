/**
 * Where the first admin's password is kept for its operator, out of the log stream (a file beside the
 * database, src/initial-password-file.ts). The core says when to write it and when it has served.
 */
export interface InitialPassword {
  /** The account created on an empty database, and its password. */
  write(accountId: number, password: string): Promise<void>;
  /** The account's password was set again, or the account deleted: the first one is no longer worth keeping. */
  forget(accountId: number): Promise<void>;
}
