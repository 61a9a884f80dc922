import { linkSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Config } from '../config';
import { NotFound, type Core } from '../core';
import { LOCKED_FOR_GOOD } from '../core/accounts';
import { systemClock } from '../core/clock';
import { cliContext } from '../core/context';
import { openCore } from '../open-core';
import { copySqliteToPostgres } from '../store/copy';
import { parseStoreLocation } from '../store/location';
import { createPrivateFile } from '../store/private-files';
import type { SessionRow } from '../store/types';
import { CliError } from './errors';

/** The configured database in words fit for output: an absolute path, or PostgreSQL's host and database. */
export function databaseName(config: Config): string {
  return config.store.kind === 'sqlite' ? resolve(config.store.path) : config.store.where;
}

/** Whether the configured SQLite file is there (a PostgreSQL database counts as there: its server decides). */
export function databaseExists(config: Config): boolean {
  if (config.store.kind !== 'sqlite' || config.store.path === ':memory:') return true;
  return statOf(config.store.path) !== undefined;
}

/**
 * Runs `work` against the core on the configured database, closing it afterwards. Only `create` (`init`, and
 * `serve --workers` preparing the database) makes a database that is not there; every other command refuses
 * in one line, creating nothing, so that a CLI run from the wrong directory cannot work on an empty copy.
 */
export async function withCore<T>(config: Config, work: (core: Core) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  if (!options.create) requireDatabase(config);
  const core = await openCore(config, systemClock, false, Boolean(options.create));
  try {
    return await work(core);
  } finally {
    await core.close();
  }
}

/** Refuses, in one line naming the path and the settings, when the configured SQLite file is not there. */
export function requireDatabase(config: Config): void {
  if (databaseExists(config)) return;
  throw new CliError(
    `no database at ${databaseName(config)}: set DUALGATE_DB to the server's database file (or DUALGATE_CONFIG to its settings file), or create this one with "dualgate init"`,
  );
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function accountId(core: Core, username: string): Promise<number> {
  const account = await core.accounts.findByUsername(username);
  if (!account) throw new NotFound(`no such user: ${username}`);
  return account.id;
}

export interface NewUserOptions {
  role?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  ttl?: string;
}

export async function addUser(core: Core, username: string, password: string, options: NewUserOptions): Promise<string> {
  const account = await core.accounts.create(
    {
      username,
      password,
      role: options.role,
      firstName: options.firstName,
      lastName: options.lastName,
      email: options.email,
      ttl: options.ttl,
    },
    cliContext,
  );
  return `created ${account.role} ${account.username} (id ${account.id}, customer key ${account.customerKey})`;
}

export async function changePassword(core: Core, username: string, password: string): Promise<string> {
  await core.accounts.setPassword(await accountId(core, username), password, cliContext);
  return `password changed for ${username}`;
}

export async function deleteUser(core: Core, username: string): Promise<string> {
  await core.accounts.remove(await accountId(core, username), cliContext);
  return `deleted ${username} and ended its sessions`;
}

export async function lockUser(core: Core, username: string): Promise<string> {
  const ended = await core.accounts.lock(await accountId(core, username), LOCKED_FOR_GOOD, cliContext);
  return ended.length > 0 ? `locked ${username} and ended ${ended.length} live sessions` : `locked ${username}`;
}

/** An inactive account cannot log in, and its open sessions end at every door (as the console does it). */
export async function deactivateUser(core: Core, username: string): Promise<string> {
  const { ended } = await core.accounts.setActive(await accountId(core, username), false, cliContext);
  return `deactivated ${username} and ended ${sessionCount(ended.length)}`;
}

export async function activateUser(core: Core, username: string): Promise<string> {
  await core.accounts.setActive(await accountId(core, username), true, cliContext);
  return `activated ${username}`;
}

const sessionCount = (n: number) => `${n} live session${n === 1 ? '' : 's'}`;

export async function unlockUser(core: Core, username: string): Promise<string> {
  await core.accounts.unlock(await accountId(core, username), cliContext);
  return `unlocked ${username}`;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export async function listUsers(core: Core, json: boolean): Promise<string> {
  const now = core.clock.now();
  const accounts = await core.accounts.list();
  const addressLocks = await core.accounts.addressLocks();
  if (json) {
    return JSON.stringify(
      accounts.map((a) => ({ ...a, lockedAddresses: (addressLocks.get(a.id) ?? []).map(({ clientIp, lockedUntil }) => ({ clientIp, lockedUntil })) })),
      null,
      2,
    );
  }
  // Locked for the whole account (an operator, or failures from many addresses), or only for some addresses.
  const locked = (a: (typeof accounts)[number]): string => {
    if (a.lockedUntil !== null && a.lockedUntil > now) return a.lockedUntil >= LOCKED_FOR_GOOD ? 'until unlocked' : `until ${iso(a.lockedUntil)}`;
    const byAddress = addressLocks.get(a.id) ?? [];
    return byAddress.length === 0 ? 'no' : `for ${byAddress.map((l) => l.clientIp).join(', ')}`;
  };
  return table(
    ['id', 'username', 'role', 'active', 'locked', 'ttl', 'customer_key'],
    accounts.map((a) => [
      String(a.id),
      a.username,
      a.role,
      a.isActive ? 'yes' : 'no',
      locked(a),
      a.ttl === null ? '-' : String(a.ttl),
      a.customerKey,
    ]),
  );
}

export async function listSessions(core: Core, user: string | undefined, json: boolean): Promise<string> {
  if (user !== undefined) await accountId(core, user); // an unknown user is an error, not "(none)"
  const sessions = await core.sessions.list({ username: user, alive: true });
  if (json) return JSON.stringify(sessions, null, 2);
  return table(
    ['id', 'user', 'door', 'created', 'last seen', 'idle expiry', 'absolute expiry', 'client ip'],
    sessions.map((s: SessionRow) => [
      s.id,
      s.username,
      s.door,
      iso(s.createdAt),
      iso(s.lastSeenAt),
      iso(s.idleExpiresAt),
      iso(s.absoluteExpiresAt),
      s.clientIp ?? '-',
    ]),
  );
}

export async function revokeSession(core: Core, id: string): Promise<string> {
  const outcome = await core.sessions.revoke(id, 'revoked by operator', cliContext);
  if (outcome === 'unknown') throw new CliError(`no such session: ${id}`);
  return outcome === 'revoked' ? `revoked session ${id}` : `session ${id} had already ended`;
}

export async function revokeUserSessions(core: Core, username: string): Promise<string> {
  const ended = await core.sessions.revokeAllOf(await accountId(core, username), 'revoked by operator', cliContext);
  return `ended ${sessionCount(ended.length)} of ${username}`;
}

export async function revokeAllSessions(core: Core): Promise<string> {
  return `ended ${await core.sessions.revokeEveryLive('revoked by operator (all)', cliContext)} live sessions`;
}

export async function purgeSessions(core: Core): Promise<string> {
  return `purged ${await core.sessions.purge()} ended sessions`;
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/**
 * Where a backup may go: a file path in an existing directory, not a directory, and not an existing file
 * unless `force`. Checked before the database is opened.
 */
export function checkBackupTarget(path: string, force: boolean): void {
  const target = statOf(path);
  if (target?.isDirectory()) throw new CliError(`${path} is a directory: give the backup's file name, e.g. ${join(path, 'dualgate.db')}`);
  if (target && !force) throw new CliError(`${path} already exists: choose another name, or overwrite it with --force`);
  const dir = statOf(dirname(resolve(path)));
  if (!dir?.isDirectory()) throw new CliError(`cannot back up to ${path}: the directory ${dirname(resolve(path))} does not exist`);
}

/**
 * Copies the database into a new owner-only file beside `path`, then moves it there: a reader of `path` never
 * sees half a backup, and without `force` an existing file is never replaced (not even one made meanwhile).
 */
export async function backup(core: Core, path: string, force: boolean): Promise<string> {
  checkBackupTarget(path, force);
  const target = resolve(path);
  const partial = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  rmSync(partial, { force: true }); // left by a run of ours that was killed
  createPrivateFile(partial);
  try {
    await core.backup(partial);
    if (force) {
      renameSync(partial, target);
    } else {
      try {
        linkSync(partial, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') checkBackupTarget(path, false);
        throw err;
      }
    }
  } finally {
    rmSync(partial, { force: true });
  }
  return `backed up to ${path}`;
}

/** `backup` on a PostgreSQL store: there, PostgreSQL's own tools are the way (docs/operations.md). */
export function postgresBackupAdvice(where: string): string {
  return `backup copies a SQLite file; this store is PostgreSQL (${where}): back it up with pg_dump (e.g. pg_dump --format=custom --file=<path> <database>) or a base backup, see docs/operations.md`;
}

/** `store copy --to <url>`: the configured SQLite store into an empty PostgreSQL database. */
export async function copyStore(config: Config, to: string): Promise<string> {
  const target = parseStoreLocation(to, 1);
  if (target.location?.kind !== 'postgres') throw new CliError('store copy --to: expected a postgres:// or postgresql:// URL');
  if (config.store.kind !== 'sqlite') {
    throw new CliError(`store copy reads a SQLite store; this one is PostgreSQL already (${config.store.where}): use pg_dump and pg_restore`);
  }
  requireDatabase(config);
  const copied = await copySqliteToPostgres(config.store.path, { url: to, where: target.location.where, timeoutMs: config.busyTimeoutMs });
  const counts = Object.entries(copied).map(([table, n]) => `${n} ${table}`).join(', ');
  return `copied ${config.store.path} to ${target.location.where}: ${counts}`;
}
