import { randomBytes, randomUUID } from 'node:crypto';
import type { AccountChanges, AccountRow, AddressLock, Role, Store } from '../store/types';
import { UniqueViolation } from '../store/errors';
import { usernameKey } from '../precis';
import type { AuditLog } from './audit';
import type { Clock } from './clock';
import type { RequestContext } from './context';
import { PasswordHasher, requireNewName, requireNewUsername, requirePassword } from './credentials';
import { BadInput, Conflict, NotFound } from './errors';
import type { InitialPassword } from './initial-password';

/** Far enough ahead that an operator's lock means "until unlocked". */
export const LOCKED_FOR_GOOD = Date.UTC(9999, 11, 31);

export const ROLES: readonly Role[] = ['user', 'integrator', 'admin'];

/** An account as callers see it: everything but the password hash. */
export type Account = Omit<AccountRow, 'passwordHash'>;

export function publicAccount(row: AccountRow): Account {
  const { passwordHash: _hidden, ...account } = row;
  return account;
}

/**
 * Ends every live session of an account, at every door, each with its own audit row saying why; the ids
 * ended. Whatever changes who an account is (locked, deactivated, a new password set by an admin, deleted)
 * ends what it had open.
 */
export async function endSessionsOf(
  store: Store,
  audit: AuditLog,
  account: Pick<AccountRow, 'id' | 'username'>,
  reason: string,
  now: number,
  ctx: RequestContext,
): Promise<string[]> {
  const ended = await store.revokeAccountSessions(account.id, now, reason, now);
  for (const sessionId of ended) {
    await audit.record(ctx, { event: 'revoke', outcome: 'ok', username: account.username, sessionId, detail: reason });
  }
  return ended;
}

export interface NewAccountInput {
  username: unknown;
  /** Absent: the account gets an unguessable password and cannot log in until one is set. */
  password?: unknown;
  role?: unknown;
  name?: unknown;
  firstName?: unknown;
  lastName?: unknown;
  email?: unknown;
  ttl?: unknown;
  isActive?: unknown;
}

export interface AccountEdit {
  username?: unknown;
  name?: unknown;
  role?: unknown;
  firstName?: unknown;
  lastName?: unknown;
  email?: unknown;
  ttl?: unknown;
  isActive?: unknown;
}

/** Per-account idle TTL: absent/null (the default applies) or whole seconds from 1 to 10 years. */
export function parseTtl(value: unknown, field = 'ttl'): number | null {
  if (value === undefined || value === null || value === '') return null;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 315_360_000) {
    throw new BadInput(field, 'invalid', `Invalid ${field}: expected whole seconds from 1 to 315360000`);
  }
  return n;
}

export function parseBoolean(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new BadInput(field, 'invalid', `Invalid ${field}: expected true or false`);
}

function parseRole(value: unknown): Role {
  if (value === undefined) return 'user';
  if (typeof value === 'string' && (ROLES as string[]).includes(value)) return value as Role;
  throw new BadInput('role', 'invalid', `Invalid role: expected one of ${ROLES.join(', ')}`);
}

function parseText(value: unknown, field: string, max = 256): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || value.length > max) {
    throw new BadInput(field, 'invalid', `Invalid ${field}: expected text of at most ${max} characters`);
  }
  return value;
}

export class Accounts {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly initialPassword?: InitialPassword,
  ) {}

  async create(input: NewAccountInput, ctx: RequestContext): Promise<Account> {
    const { username, key } = requireNewUsername(input.username);
    const name = input.name === undefined ? username : requireNewName(input.name, 'name');
    const password =
      input.password === undefined || input.password === null
        ? randomBytes(32).toString('base64url')
        : requirePassword(input.password);
    const row = {
      username,
      usernameKey: key,
      name,
      role: parseRole(input.role),
      isActive: input.isActive === undefined ? true : parseBoolean(input.isActive, 'is_active'),
      firstName: parseText(input.firstName, 'first_name'),
      lastName: parseText(input.lastName, 'last_name'),
      email: parseText(input.email, 'email'),
      ttl: parseTtl(input.ttl),
      customerKey: randomUUID(),
    };
    await this.assertFree(key, row.username, row.name);
    const passwordHash = await this.hasher.hash(password);
    const created = await this.unique(() => this.store.createAccount({ ...row, passwordHash }, this.clock.now()), row);
    await this.audit.record(ctx, { event: 'account-create', outcome: 'ok', username, detail: `role ${row.role}` });
    return publicAccount(created);
  }

  /** Changes an account; deactivating it ends its sessions. */
  async edit(id: number, edit: AccountEdit, ctx: RequestContext): Promise<Account> {
    return (await this.change(id, edit, ctx)).account;
  }

  /** Activates or deactivates an account; the ids of the sessions deactivation ended. */
  async setActive(id: number, active: boolean, ctx: RequestContext): Promise<{ account: Account; ended: string[] }> {
    return this.change(id, { isActive: active }, ctx);
  }

  private async change(id: number, edit: AccountEdit, ctx: RequestContext): Promise<{ account: Account; ended: string[] }> {
    const current = await this.require(id);
    const changes: AccountChanges = {};
    if (edit.username !== undefined) {
      const { username, key } = requireNewUsername(edit.username);
      changes.username = username;
      changes.usernameKey = key;
    }
    if (edit.name !== undefined) changes.name = requireNewName(edit.name, 'name');
    if (edit.role !== undefined) changes.role = parseRole(edit.role);
    if (edit.firstName !== undefined) changes.firstName = parseText(edit.firstName, 'first_name');
    if (edit.lastName !== undefined) changes.lastName = parseText(edit.lastName, 'last_name');
    if (edit.email !== undefined) changes.email = parseText(edit.email, 'email');
    if (edit.ttl !== undefined) changes.ttl = parseTtl(edit.ttl);
    if (edit.isActive !== undefined) changes.isActive = parseBoolean(edit.isActive, 'is_active');
    await this.assertFree(
      changes.usernameKey !== undefined && changes.usernameKey !== current.usernameKey ? changes.usernameKey : undefined,
      changes.username ?? current.username,
      changes.name !== undefined && changes.name !== current.name ? changes.name : undefined,
    );
    await this.unique(() => this.store.updateAccount(id, changes, this.clock.now()), {
      username: changes.username ?? current.username,
      name: changes.name ?? current.name,
    });
    await this.audit.record(ctx, {
      event: 'account-edit',
      outcome: 'ok',
      username: changes.username ?? current.username,
      detail: Object.keys(changes).filter((k) => k !== 'usernameKey').join(',') || 'nothing',
    });
    const ended =
      changes.isActive === false && current.isActive
        ? await endSessionsOf(this.store, this.audit, { id, username: changes.username ?? current.username }, 'account deactivated', this.clock.now(), ctx)
        : [];
    return { account: publicAccount((await this.store.findAccountById(id))!), ended };
  }

  /**
   * An admin (or the CLI) sets an account's password: every session it had ends, and if it is the first
   * admin's, the file holding its first password goes.
   */
  async setPassword(id: number, password: unknown, ctx: RequestContext, field = 'password'): Promise<void> {
    const account = await this.require(id);
    const hash = await this.hasher.hash(requirePassword(password, field));
    await this.store.updateAccount(id, { passwordHash: hash }, this.clock.now());
    await this.audit.record(ctx, { event: 'account-password', outcome: 'ok', username: account.username });
    await endSessionsOf(this.store, this.audit, account, 'password changed', this.clock.now(), ctx);
    await this.initialPassword?.forget(account.id);
  }

  /** Ends every session of the account, then deletes it. Its id is never given to another account. */
  async remove(id: number, ctx: RequestContext): Promise<void> {
    const account = await this.require(id);
    await endSessionsOf(this.store, this.audit, account, 'account deleted', this.clock.now(), ctx);
    // The deletion and its audit row: one unit of work, neither without the other.
    await this.store.atomically([
      { write: 'deleteAccount', id },
      { write: 'appendAudit', row: this.audit.rowFor(ctx, { event: 'account-delete', outcome: 'ok', username: account.username }) },
    ]);
    await this.initialPassword?.forget(account.id);
  }

  /** An operator's lock (`until`, by default until unlocked): it ends the account's sessions too. */
  async lock(id: number, until: number, ctx: RequestContext): Promise<string[]> {
    const account = await this.require(id);
    await this.store.setLock(id, until, this.clock.now());
    await this.audit.record(ctx, { event: 'account-lock', outcome: 'ok', username: account.username });
    return endSessionsOf(this.store, this.audit, account, 'account locked', this.clock.now(), ctx);
  }

  /** Lifts any lock: the operator's, the account-wide count's, and every address's. */
  async unlock(id: number, ctx: RequestContext): Promise<void> {
    const account = await this.require(id);
    await this.store.unlockAccount(id, account.usernameKey, this.clock.now());
    await this.audit.record(ctx, { event: 'account-unlock', outcome: 'ok', username: account.username });
  }

  /** The client addresses each account is locked out for now, by account id. */
  async addressLocks(): Promise<Map<number, AddressLock[]>> {
    const locks = await this.store.listAddressLocks(this.clock.now());
    const byId = new Map<number, AddressLock[]>();
    if (locks.length === 0) return byId;
    const idOf = new Map((await this.store.listAccounts()).map((a) => [a.usernameKey, a.id]));
    for (const lock of locks) {
      const id = idOf.get(lock.usernameKey);
      if (id !== undefined) byId.set(id, [...(byId.get(id) ?? []), lock]);
    }
    return byId;
  }

  async get(id: number): Promise<Account> {
    return publicAccount(await this.require(id));
  }

  /** By username as RFC 8265 compares it: whatever width, case or normal form it is typed in. */
  async findByUsername(username: string): Promise<Account | undefined> {
    const row = await this.store.findAccountByUsernameKey(usernameKey(username));
    return row && publicAccount(row);
  }

  async findByName(name: string): Promise<Account | undefined> {
    const row = await this.store.findAccountByName(name);
    return row && publicAccount(row);
  }

  async list(query?: string): Promise<Account[]> {
    return (await this.store.listAccounts(query || undefined)).map(publicAccount);
  }

  count(): Promise<number> {
    return this.store.countAccounts();
  }

  /**
   * On an empty database, creates `admin` with a random password and answers that password (stored in the
   * clear only in the initial password file, when there is one). Undefined when any account exists already.
   */
  async bootstrapAdmin(ctx: RequestContext): Promise<string | undefined> {
    if ((await this.store.countAccounts()) > 0) return undefined;
    const password = randomBytes(18).toString('base64url');
    let admin: Account;
    try {
      admin = await this.create({ username: 'admin', password, role: 'admin' }, ctx);
    } catch (err) {
      if (err instanceof Conflict) return undefined; // another worker got there first
      throw err;
    }
    await this.initialPassword?.write(admin.id, password);
    return password;
  }

  private async require(id: number): Promise<AccountRow> {
    const row = Number.isSafeInteger(id) ? await this.store.findAccountById(id) : undefined;
    if (!row) throw new NotFound(`No such account: ${id}`);
    return row;
  }

  /** `key` (when given) and `name` must be free; `username` is how the conflict is told. */
  private async assertFree(key: string | undefined, username: string, name: string | undefined): Promise<void> {
    if (key !== undefined && (await this.store.findAccountByUsernameKey(key))) {
      throw new Conflict('username', username);
    }
    if (name !== undefined && (await this.store.findAccountByName(name))) throw new Conflict('name', name);
  }

  /** Two creates can race past `assertFree`; the unique index has the last word. */
  private async unique<T>(work: () => Promise<T>, values: { username: string; name: string }): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof UniqueViolation) {
        const field = err.column === 'name' ? 'name' : 'username'; // username or username_key
        throw new Conflict(field, values[field]);
      }
      throw err;
    }
  }
}
