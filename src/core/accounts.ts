import { randomBytes, randomUUID } from 'node:crypto';
import type { AccountChanges, AccountRow, Role, Store } from '../store/types';
import { UniqueViolation } from '../store/errors';
import type { AuditLog } from './audit';
import type { Clock } from './clock';
import type { RequestContext } from './context';
import { PasswordHasher, requireNewUsername, requirePassword } from './credentials';
import { BadInput, Conflict, NotFound } from './errors';

export const ROLES: readonly Role[] = ['user', 'integrator', 'admin'];

/** An account as callers see it: everything but the password hash. */
export type Account = Omit<AccountRow, 'passwordHash'>;

export function publicAccount(row: AccountRow): Account {
  const { passwordHash: _hidden, ...account } = row;
  return account;
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
  ) {}

  async create(input: NewAccountInput, ctx: RequestContext): Promise<Account> {
    const username = requireNewUsername(input.username);
    const name = input.name === undefined ? username : requireNewUsername(input.name, 'name');
    const password =
      input.password === undefined || input.password === null
        ? randomBytes(32).toString('base64url')
        : requirePassword(input.password);
    const row = {
      username,
      name,
      role: parseRole(input.role),
      isActive: input.isActive === undefined ? true : parseBoolean(input.isActive, 'is_active'),
      firstName: parseText(input.firstName, 'first_name'),
      lastName: parseText(input.lastName, 'last_name'),
      email: parseText(input.email, 'email'),
      ttl: parseTtl(input.ttl),
      customerKey: randomUUID(),
    };
    await this.assertFree(row.username, row.name);
    const passwordHash = await this.hasher.hash(password);
    const created = await this.unique(() => this.store.createAccount({ ...row, passwordHash }, this.clock.now()), row);
    await this.audit.record(ctx, { event: 'account-create', outcome: 'ok', username, detail: `role ${row.role}` });
    return publicAccount(created);
  }

  async edit(id: number, edit: AccountEdit, ctx: RequestContext): Promise<Account> {
    const current = await this.require(id);
    const changes: AccountChanges = {};
    if (edit.username !== undefined) changes.username = requireNewUsername(edit.username);
    if (edit.name !== undefined) changes.name = requireNewUsername(edit.name, 'name');
    if (edit.role !== undefined) changes.role = parseRole(edit.role);
    if (edit.firstName !== undefined) changes.firstName = parseText(edit.firstName, 'first_name');
    if (edit.lastName !== undefined) changes.lastName = parseText(edit.lastName, 'last_name');
    if (edit.email !== undefined) changes.email = parseText(edit.email, 'email');
    if (edit.ttl !== undefined) changes.ttl = parseTtl(edit.ttl);
    if (edit.isActive !== undefined) changes.isActive = parseBoolean(edit.isActive, 'is_active');
    await this.assertFree(
      changes.username !== undefined && changes.username !== current.username ? changes.username : undefined,
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
      detail: Object.keys(changes).join(',') || 'nothing',
    });
    return publicAccount((await this.store.findAccountById(id))!);
  }

  async setPassword(id: number, password: unknown, ctx: RequestContext, field = 'password'): Promise<void> {
    const account = await this.require(id);
    const hash = await this.hasher.hash(requirePassword(password, field));
    await this.store.updateAccount(id, { passwordHash: hash }, this.clock.now());
    await this.audit.record(ctx, { event: 'account-password', outcome: 'ok', username: account.username });
  }

  /** Ends every session of the account, then deletes it. */
  async remove(id: number, ctx: RequestContext): Promise<void> {
    const account = await this.require(id);
    const now = this.clock.now();
    await this.store.atomically([
      { write: 'revokeAccountSessions', accountId: id, at: now, reason: 'account deleted' },
      { write: 'deleteAccount', id },
      { write: 'appendAudit', row: this.audit.row(ctx, { event: 'account-delete', outcome: 'ok', username: account.username }) },
    ]);
  }

  async lock(id: number, until: number, ctx: RequestContext): Promise<void> {
    const account = await this.require(id);
    await this.store.setLock(id, until, this.clock.now());
    await this.audit.record(ctx, { event: 'account-lock', outcome: 'ok', username: account.username });
  }

  async unlock(id: number, ctx: RequestContext): Promise<void> {
    const account = await this.require(id);
    await this.store.clearLoginFailures(id, this.clock.now());
    await this.audit.record(ctx, { event: 'account-unlock', outcome: 'ok', username: account.username });
  }

  async get(id: number): Promise<Account> {
    return publicAccount(await this.require(id));
  }

  async findByUsername(username: string): Promise<Account | undefined> {
    const row = await this.store.findAccountByUsername(username);
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
   * On an empty database, creates `admin` with a random password and answers that password (shown once,
   * never stored in the clear). Undefined when any account exists already.
   */
  async bootstrapAdmin(ctx: RequestContext): Promise<string | undefined> {
    if ((await this.store.countAccounts()) > 0) return undefined;
    const password = randomBytes(18).toString('base64url');
    try {
      await this.create({ username: 'admin', password, role: 'admin' }, ctx);
    } catch (err) {
      if (err instanceof Conflict) return undefined; // another worker got there first
      throw err;
    }
    return password;
  }

  private async require(id: number): Promise<AccountRow> {
    const row = Number.isSafeInteger(id) ? await this.store.findAccountById(id) : undefined;
    if (!row) throw new NotFound(`No such account: ${id}`);
    return row;
  }

  private async assertFree(username: string | undefined, name: string | undefined): Promise<void> {
    if (username !== undefined && (await this.store.findAccountByUsername(username))) {
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
        const field = err.column === 'name' ? 'name' : 'username';
        throw new Conflict(field, values[field]);
      }
      throw err;
    }
  }
}
