import type { Config } from '../config';
import { NotFound, type Core } from '../core';
import { LOCKED_FOR_GOOD } from '../core/accounts';
import { cliContext } from '../core/context';
import { openCore } from '../open-core';
import { copySqliteToPostgres } from '../store/copy';
import { parseStoreLocation } from '../store/location';
import type { SessionRow } from '../store/types';
import { CliError } from './errors';

/** Runs `work` against the core on the configured database, closing it afterwards. */
export async function withCore<T>(config: Config, work: (core: Core) => Promise<T>): Promise<T> {
  const core = await openCore(config);
  try {
    return await work(core);
  } finally {
    await core.close();
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
    if (a.lockedUntil !== null && a.lockedUntil > now) return `until ${iso(a.lockedUntil)}`;
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

export async function backup(core: Core, path: string): Promise<string> {
  await core.backup(path);
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
  const copied = await copySqliteToPostgres(config.store.path, { url: to, where: target.location.where, timeoutMs: config.busyTimeoutMs });
  const counts = Object.entries(copied).map(([table, n]) => `${n} ${table}`).join(', ');
  return `copied ${config.store.path} to ${target.location.where}: ${counts}`;
}
