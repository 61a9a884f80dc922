import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, configFrom, doorSettings, loadConfig, SETTING_KEYS, settingsTable } from '../../src/config';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The README's settings table: the lines from its header row to the first line that is not a row. */
function readmeTable(): string {
  const lines = README.split('\n');
  const start = lines.indexOf('| setting | default | meaning |');
  if (start < 0) throw new Error('README has no settings table');
  let end = start;
  while (end < lines.length && lines[end]!.startsWith('|')) end += 1;
  return lines.slice(start, end).join('\n');
}

describe('the settings table', () => {
  it('is the README table, row for row (rewrite the README from settingsTable() in src/config.ts)', () => {
    expect(readmeTable()).toBe(settingsTable());
  });

  it('parses every default it declares, and a setting left unset is undefined', () => {
    const config = configFrom({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, bcryptCost: 12, loginRateExempt: [], trustProxy: false, metrics: false });
    expect(config.xweb).toEqual({ expiration: 'absolute', tokenTtl: 1200, graceSeconds: 30, keyOverride: undefined, wsAddressing: true });
    expect(config.jwtSecret).toBeUndefined();
    expect(config.metricsPort).toBeUndefined();
  });

  it('names the first bad setting in its order, without echoing a secret', () => {
    expect(() => loadConfig({}, { PORT: 'x', DUALGATE_BCRYPT_COST: 'y' })).toThrow(new ConfigError('invalid setting PORT: expected a whole number from 0 to 65535 (got "x")'));
    expect(() => loadConfig({}, { DUALGATE_JWT_SECRET: 'short' })).toThrow(new ConfigError('invalid setting DUALGATE_JWT_SECRET: expected at least 32 bytes'));
  });

  it('declares each key once', () => {
    expect(new Set(SETTING_KEYS).size).toBe(SETTING_KEYS.length);
  });

  it('gives each door its own settings and nothing else', () => {
    const own = doorSettings(loadConfig({}, { DUALGATE_XWEB_EXPIRATION: 'sliding', DUALGATE_CRAFTER_PREFIX: '/cms' }));
    expect(Object.keys(own.zato).sort()).toEqual(['jsonLimit', 'sessionRetention', 'xmlLimit']);
    expect(Object.keys(own.xweb).sort()).toEqual(['expiration', 'graceSeconds', 'jsonLimit', 'keyOverride', 'tokenTtl', 'wsAddressing', 'xmlLimit']);
    expect(own.xweb.expiration).toBe('sliding');
    expect(own.crafter).toEqual({ crafterPrefix: '/cms', jsonLimit: 16384 });
    expect(own.console).toEqual({ jsonLimit: 16384 });
  });
});
