import bcrypt from 'bcrypt';
import { InvalidCredentials, Throttled } from '../../src/core';
import { cliContext, type RequestContext } from '../../src/core/context';
import { openTestCore } from '../support/core';

const from = (clientIp: string): RequestContext => ({ cid: null, door: 'test', clientIp });

describe('log-in throttle per client address', () => {
  it('refuses attempts past the limit within the minute, before any bcrypt, and forgives the next minute', async () => {
    const t = await openTestCore({ loginRatePerMinute: 3 });
    await t.core.accounts.create({ username: 'ann', password: 'pw' }, cliContext);
    t.clock.set(Date.UTC(2026, 5, 1, 12, 0, 15));
    const login = (ip: string, password = 'wrong') => t.core.sessions.login('ann', password, { kind: 'guid' }, from(ip));
    for (let i = 0; i < 3; i++) await expect(login('10.0.0.1')).rejects.toBeInstanceOf(InvalidCredentials);
    const compare = jest.spyOn(bcrypt, 'compare');
    const refused = await login('10.0.0.1', 'pw').catch((e: unknown) => e);
    expect(compare).not.toHaveBeenCalled();
    compare.mockRestore();
    expect(refused).toBeInstanceOf(Throttled);
    expect((refused as Throttled).retryAfterSeconds).toBe(45);
    // Another address is not held back, and the throttled attempts did not count toward lockout.
    await expect(login('10.0.0.2', 'pw')).resolves.toBeDefined();
    t.clock.advance(45_000);
    await expect(login('10.0.0.1', 'pw')).resolves.toBeDefined();
    const audit = await t.core.audit.recent(3);
    expect(audit.map((a) => a.detail)).toEqual([null, null, 'throttled']);
    await t.core.close();
  });

  it('counts failures only: good log-ins never fill the window', async () => {
    const t = await openTestCore({ loginRatePerMinute: 2 });
    await t.core.accounts.create({ username: 'ann', password: 'pw' }, cliContext);
    for (let i = 0; i < 10; i++) await expect(t.core.sessions.login('ann', 'pw', { kind: 'guid' }, from('10.0.0.1'))).resolves.toBeDefined();
    await expect(t.core.sessions.login('ann', 'x', { kind: 'guid' }, from('10.0.0.1'))).rejects.toBeInstanceOf(InvalidCredentials);
    await expect(t.core.sessions.login('ann', 'pw', { kind: 'guid' }, from('10.0.0.1'))).resolves.toBeDefined();
    await expect(t.core.sessions.login('ann', 'x', { kind: 'guid' }, from('10.0.0.1'))).rejects.toBeInstanceOf(InvalidCredentials);
    await expect(t.core.sessions.login('ann', 'pw', { kind: 'guid' }, from('10.0.0.1'))).rejects.toBeInstanceOf(Throttled);
    await t.core.close();
  });

  it('never applies to an exempt address or network', async () => {
    const t = await openTestCore({ loginRatePerMinute: 1, loginRateExempt: ['10.1.0.0/16', '192.0.2.5'] });
    await t.core.accounts.create({ username: 'ann', password: 'pw' }, cliContext);
    for (const ip of ['10.1.2.3', '192.0.2.5', '::ffff:10.1.9.9']) {
      for (let i = 0; i < 3; i++) await expect(t.core.sessions.login('nobody', 'x', { kind: 'guid' }, from(ip))).rejects.toBeInstanceOf(InvalidCredentials);
    }
    await expect(t.core.sessions.login('nobody', 'x', { kind: 'guid' }, from('10.2.0.1'))).rejects.toBeInstanceOf(InvalidCredentials);
    await expect(t.core.sessions.login('nobody', 'x', { kind: 'guid' }, from('10.2.0.1'))).rejects.toBeInstanceOf(Throttled);
    await t.core.close();
  });

  it('is shared by every process on the database file', async () => {
    const a = await openTestCore({ loginRatePerMinute: 2 });
    const b = await openTestCore({ loginRatePerMinute: 2 }, { dbPath: a.dbPath, clock: a.clock });
    await a.core.accounts.create({ username: 'ann', password: 'pw' }, cliContext);
    await a.core.sessions.login('nobody', 'pw', { kind: 'guid' }, from('10.0.0.9')).catch(() => undefined);
    await b.core.sessions.login('nobody', 'pw', { kind: 'guid' }, from('10.0.0.9')).catch(() => undefined);
    await expect(a.core.sessions.login('ann', 'pw', { kind: 'guid' }, from('10.0.0.9'))).rejects.toBeInstanceOf(Throttled);
    await a.core.close();
    await b.core.close();
  });
});
