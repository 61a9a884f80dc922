import { ConfigError, loadConfig } from '../../src/config';
import { runCli } from '../support/process';

// DUALGATE_DB names the store: a file path (SQLite) or a postgres:// URL; anything else is refused at start
// with one line, and a password in it is never shown.
describe('DUALGATE_DB and DUALGATE_DB_POOL', () => {
  const load = (settings: Record<string, string>) => loadConfig({}, settings);
  const refusal = (settings: Record<string, string>) => {
    try {
      load(settings);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('reads a file path as SQLite, and the default as ./var/dualgate.db', () => {
    expect(load({ DUALGATE_DB: '/srv/dualgate/db.sqlite' }).store).toEqual({ kind: 'sqlite', path: '/srv/dualgate/db.sqlite' });
    expect(load({}).store).toEqual({ kind: 'sqlite', path: './var/dualgate.db' });
    expect(load({ DUALGATE_DB: 'C:/data/dualgate.db' }).store.kind).toBe('sqlite');
  });

  it('reads postgres:// and postgresql:// URLs, with the pool size, and names only host, port and database', () => {
    expect(load({ DUALGATE_DB: 'postgres://gate:s3cret@db.example:6432/auth?sslmode=require', DUALGATE_DB_POOL: '25' }).store).toEqual({
      kind: 'postgres',
      url: 'postgres://gate:s3cret@db.example:6432/auth?sslmode=require',
      pool: 25,
      where: 'db.example:6432/auth',
    });
    expect(load({ DUALGATE_DB: 'postgresql://gate@/auth?host=/var/run/postgresql' }).store).toMatchObject({ pool: 10, where: '/var/run/postgresql:5432/auth' });
    expect(load({ DUALGATE_DB: 'postgresql://gate@localhost' }).store).toMatchObject({ where: 'localhost:5432/gate' });
  });

  it('refuses any other URL, a malformed one and a bad pool size with one line, the password masked', () => {
    expect(refusal({ DUALGATE_DB: 'mysql://root:hunter2@db/auth' })).toBe(
      'invalid setting DUALGATE_DB: expected a file path or a postgres:// URL, not a mysql: URL (got "mysql://root:***@db/auth")',
    );
    expect(refusal({ DUALGATE_DB: 'sqlite:dualgate.db' })).toBe(
      'invalid setting DUALGATE_DB: expected a file path or a postgres:// URL, not a sqlite: URL (got "sqlite:dualgate.db")',
    );
    expect(refusal({ DUALGATE_DB: 'postgres://gate:hunter2@[oops/auth' })).toBe(
      'invalid setting DUALGATE_DB: expected a URL such as postgres://user:password@host:5432/database (got "postgres://gate:***@[oops/auth")',
    );
    expect(refusal({ DUALGATE_DB_POOL: '0' })).toBe('invalid setting DUALGATE_DB_POOL: expected a whole number from 1 to 1000 (got "0")');
  });

  it('at the command: one line, a non-zero exit, no directory named "postgres:" and no password', async () => {
    const result = await runCli(['user', 'list'], { DUALGATE_DB: 'mariadb://root:hunter2@db/auth' });
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'dualgate: invalid setting DUALGATE_DB: expected a file path or a postgres:// URL, not a mariadb: URL (got "mariadb://root:***@db/auth")\n',
    });
  });
});
