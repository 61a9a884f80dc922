import { Conflict, BadInput, NotFound } from '../../src/core';
import { cliContext } from '../../src/core/context';
import { openTestCore, type TestCore } from '../support/core';

describe('accounts', () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await openTestCore();
  });
  afterEach(() => t.core.close());

  it('stores a bcrypt hash, never the password, and gives each account a stable customer key', async () => {
    const created = await t.core.accounts.create({ username: 'ann', password: 'correct horse', role: 'integrator' }, cliContext);
    expect(created).not.toHaveProperty('passwordHash');
    expect(created.customerKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.name).toBe('ann');
    const db = t.raw();
    const row = db.prepare('SELECT * FROM accounts WHERE username = ?').get('ann') as Record<string, unknown>;
    db.close();
    expect(row.password_hash).toMatch(/^\$2b\$04\$/);
    expect(JSON.stringify(row)).not.toContain('correct horse');
    expect((await t.core.accounts.get(created.id)).customerKey).toBe(created.customerKey);
  });

  it.each([
    ['an empty username', '', 'missing'],
    ['a username over 128 characters', 'u'.repeat(129), 'invalid'],
    ['a username with a control character', 'ann\r\nX-Evil: 1', 'invalid'],
  ])('refuses %s', async (_what, username, problem) => {
    const err = await t.core.accounts.create({ username, password: 'pw' }, cliContext).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadInput);
    expect(err).toMatchObject({ field: 'username', problem });
    expect(await t.core.accounts.count()).toBe(0);
  });

  it('takes a username of exactly 128 characters, counted as characters', async () => {
    await t.core.accounts.create({ username: 'é'.repeat(128), password: 'pw' }, cliContext);
    expect(await t.core.accounts.findByUsername('é'.repeat(128))).toBeDefined();
  });

  it('refuses a password over 72 UTF-8 bytes instead of truncating it, and takes exactly 72', async () => {
    const tooLong = 'é'.repeat(37); // 74 bytes, 37 characters
    await expect(t.core.accounts.create({ username: 'ann', password: tooLong }, cliContext)).rejects.toMatchObject({
      code: 'BadInput',
      field: 'password',
      message: 'Invalid password: longer than 72 bytes',
    });
    await t.core.accounts.create({ username: 'ann', password: 'é'.repeat(36) }, cliContext);
    await expect(t.core.accounts.create({ username: 'bob', password: '' }, cliContext)).rejects.toMatchObject({
      code: 'BadInput',
      problem: 'missing',
    });
  });

  it('refuses a duplicate username (compared as RFC 8265 compares them) or name', async () => {
    await t.core.accounts.create({ username: 'ann', password: 'pw' }, cliContext);
    await expect(t.core.accounts.create({ username: 'ann', password: 'pw2' }, cliContext)).rejects.toBeInstanceOf(Conflict);
    await expect(t.core.accounts.create({ username: 'other', name: 'ann', password: 'pw2' }, cliContext)).rejects.toMatchObject({
      code: 'Conflict',
      field: 'name',
    });
    await expect(t.core.accounts.create({ username: 'Ann', name: 'Ann', password: 'pw' }, cliContext)).rejects.toMatchObject({
      code: 'Conflict',
      field: 'username',
      value: 'Ann',
    });
    await expect(t.core.accounts.create({ username: '\uff21nn', name: 'Ann2', password: 'pw' }, cliContext)).rejects.toBeInstanceOf(Conflict);
    expect((await t.core.accounts.list()).map((a) => a.username)).toEqual(['ann']);
  });

  it('validates role, ttl and is_active', async () => {
    await expect(t.core.accounts.create({ username: 'a', password: 'p', role: 'root' }, cliContext)).rejects.toMatchObject({ field: 'role' });
    await expect(t.core.accounts.create({ username: 'a', password: 'p', ttl: -5 }, cliContext)).rejects.toMatchObject({ field: 'ttl' });
    await expect(t.core.accounts.create({ username: 'a', password: 'p', ttl: 'abc' }, cliContext)).rejects.toMatchObject({ field: 'ttl' });
    await expect(t.core.accounts.create({ username: 'a', password: 'p', isActive: 'abc' }, cliContext)).rejects.toMatchObject({ field: 'is_active' });
    const ok = await t.core.accounts.create({ username: 'a', password: 'p', ttl: '60', isActive: 'false' }, cliContext);
    expect(ok).toMatchObject({ ttl: 60, isActive: false });
  });

  it('edits, filters the list by a substring of name or username, and deletes', async () => {
    const ann = await t.core.accounts.create({ username: 'ann', name: 'Sales', password: 'pw' }, cliContext);
    await t.core.accounts.create({ username: 'bob', password: 'pw' }, cliContext);
    expect((await t.core.accounts.list('ale')).map((a) => a.username)).toEqual(['ann']);
    expect((await t.core.accounts.list('bo')).map((a) => a.username)).toEqual(['bob']);
    const edited = await t.core.accounts.edit(ann.id, { name: 'Support', ttl: 30 }, cliContext);
    expect(edited).toMatchObject({ name: 'Support', ttl: 30, username: 'ann' });
    await expect(t.core.accounts.edit(ann.id, { username: 'bob' }, cliContext)).rejects.toBeInstanceOf(Conflict);
    await t.core.accounts.remove(ann.id, cliContext);
    await expect(t.core.accounts.get(ann.id)).rejects.toBeInstanceOf(NotFound);
  });

  it('creates admin with a random password only on an empty database', async () => {
    const password = await t.core.accounts.bootstrapAdmin(cliContext);
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await t.core.accounts.findByUsername('admin')).toMatchObject({ role: 'admin' });
    expect(await t.core.accounts.bootstrapAdmin(cliContext)).toBeUndefined();
  });
});
