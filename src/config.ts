import { readFileSync } from 'node:fs';
import { closest } from 'fastest-levenshtein';
import { z } from 'zod';
import { addressList } from './core/throttle';
import { parseStoreLocation, redactStoreLocation, type StoreLocation } from './store/location';

/**
 * Every setting, declared once in `SETTINGS` below: its name, its parser (type and bounds), its default and
 * its meaning. The `Config` type, the reading of the environment and of the JSON file named by
 * DUALGATE_CONFIG (same keys; the environment wins) and the README's settings table all come from that table
 * (test/consumers/settings-table.test.ts fails when the README's differs). A bad value stops the start with
 * one line naming it.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {}

const whole = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected a whole number from ${min} to ${max}`);

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), 'expected true or false')
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .trim()
    .refine((v): v is T[number] => (values as readonly string[]).includes(v), `expected one of ${values.join(', ')}`);

const host = z.string().trim().min(1, 'expected a host name or address');

/** Express's `trust proxy` from the setting: off, on, a hop count, or the addresses trusted to forward. */
const trustProxy = z
  .string()
  .trim()
  .regex(/^(true|false|\d+|[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*|loopback|linklocal|uniquelocal)$/, 'expected false, true, a hop count, or addresses/CIDRs separated by commas')
  .transform((v): boolean | number | string => (v === 'true' || v === 'false' ? v === 'true' : /^\d+$/.test(v) ? Number(v) : v));

const addresses = z
  .string()
  .transform((v) => v.split(',').map((entry) => entry.trim()).filter(Boolean))
  .refine((entries) => {
    try {
      addressList(entries);
      return true;
    } catch {
      return false;
    }
  }, 'expected addresses or CIDRs separated by commas');

const PUBLIC_URL_EXPECTED = 'expected an http or https URL such as https://auth.example.com or https://example.com/dualgate';

/** An absolute http(s) URL with no credentials, query or fragment; answered without its trailing slash. */
const publicUrl = z
  .string()
  .trim()
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: PUBLIC_URL_EXPECTED });
      return z.NEVER;
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash || value.includes('?') || value.includes('#')) {
      ctx.addIssue({ code: 'custom', message: PUBLIC_URL_EXPECTED });
      return z.NEVER;
    }
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });

const DAY = 86_400;

/**
 * One setting. `field` is where it lands in `Config` (`section.name` for a door's own section); `default` is
 * the value as it would be written (and is parsed like one); without it the setting is unset unless given,
 * and `shown` says what that means in the README's default column. `secret`: never echoed, even in an error.
 */
interface Setting<P extends z.ZodType<unknown, string>, F extends string> {
  field: F;
  parse: P;
  default?: string;
  shown?: string;
  meaning: string;
  secret?: true;
}

const setting = <P extends z.ZodType<unknown, string>, const F extends string, const D extends string | undefined = undefined>(
  row: Setting<P, F> & { default?: D },
) => row as Setting<P, F> & { default: D };

/** The settings table, in the README's order. */
export const SETTINGS = {
  HOST: setting({ field: 'host', parse: host, default: '127.0.0.1', meaning: 'address to listen on' }),
  PORT: setting({ field: 'port', parse: whole(0, 65535), default: '8080', meaning: 'port (`0` picks a free one; the listening line names it)' }),
  DUALGATE_DB: setting({
    field: 'dbPath',
    parse: z
      .string()
      .trim()
      .min(1, 'expected a file path or a postgres:// URL')
      .superRefine((v, ctx) => {
        const refusal = parseStoreLocation(v, 1).refusal;
        if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
      }),
    default: './var/dualgate.db',
    meaning:
      "the store: a SQLite file (its directory is created), or a `postgres://` / `postgresql://` URL (libpq's form: user, password, host, port, database, `sslmode`...); anything else is refused",
  }),
  DUALGATE_DB_POOL: setting({ field: 'dbPool', parse: whole(1, 1000), default: '10', meaning: 'connections each process keeps to PostgreSQL (1–1000)' }),
  DUALGATE_INITIAL_PASSWORD_FILE: setting({
    field: 'initialPasswordFile',
    parse: z.string().trim().min(1, 'expected a file path'),
    shown: 'beside the database',
    meaning:
      "where the first admin's password is written; with PostgreSQL by default `./initial-admin-password` in the working directory of the node that created the account",
  }),
  DUALGATE_JWT_SECRET: setting({
    field: 'jwtSecret',
    parse: z.string().refine((v) => Buffer.byteLength(v, 'utf8') >= 32, 'expected at least 32 bytes'),
    shown: 'generated',
    meaning: 'HS256 secret, at least 32 bytes; when unset one is generated on first start and kept in the database',
    secret: true,
  }),
  DUALGATE_BCRYPT_COST: setting({ field: 'bcryptCost', parse: whole(4, 31), default: '12', meaning: 'bcrypt cost (4–31)' }),
  DUALGATE_SESSION_TTL: setting({ field: 'sessionTtl', parse: whole(1, 365 * DAY), default: '3600', meaning: "idle seconds before a session expires (sliding); an account's own `ttl` wins" }),
  DUALGATE_SESSION_MAX_AGE: setting({ field: 'sessionMaxAge', parse: whole(1, 365 * DAY), default: '43200', meaning: 'absolute seconds a session may live' }),
  DUALGATE_SESSION_RETENTION: setting({ field: 'sessionRetention', parse: whole(0, 3650 * DAY), default: String(7 * DAY), meaning: 'seconds an ended session is kept before the purge deletes it' }),
  DUALGATE_PURGE_INTERVAL: setting({ field: 'purgeIntervalSeconds', parse: whole(0, 30 * DAY), default: '3600', meaning: 'seconds between purge runs (`0`: only `dualgate session purge`)' }),
  DUALGATE_LOCKOUT_THRESHOLD: setting({ field: 'lockoutThreshold', parse: whole(1, 1000), default: '5', meaning: 'consecutive failed log-ins from one client address that lock that address out of an account' }),
  DUALGATE_LOCKOUT_ACCOUNT_THRESHOLD: setting({ field: 'lockoutAccountThreshold', parse: whole(1, 1_000_000), default: '50', meaning: 'failed log-ins from any addresses within the lockout window that lock the whole account' }),
  DUALGATE_LOCKOUT_MINUTES: setting({ field: 'lockoutMinutes', parse: whole(1, 525_600), default: '15', meaning: "how long a lock lasts (and the account-wide count's window)" }),
  DUALGATE_LOGIN_RATE: setting({ field: 'loginRatePerMinute', parse: whole(0, 1_000_000), default: '20', meaning: 'failed log-ins per client address per minute, across all doors and workers (`0`: off)' }),
  DUALGATE_LOGIN_RATE_EXEMPT: setting({ field: 'loginRateExempt', parse: addresses, default: '', shown: 'none', meaning: 'addresses or CIDRs, separated by commas, that the log-in rate never applies to' }),
  DUALGATE_AUDIT_RETENTION: setting({ field: 'auditRetention', parse: whole(1, 3650 * DAY), default: String(90 * DAY), meaning: 'seconds an audit row is kept (90 days) before the purge deletes it' }),
  DUALGATE_TRUST_PROXY: setting({ field: 'trustProxy', parse: trustProxy, default: 'false', meaning: 'which proxies may set `X-Forwarded-For`/`-Proto`/`-Host`: `true`, a hop count, or addresses/CIDRs' }),
  DUALGATE_PUBLIC_URL: setting({ field: 'publicUrl', parse: publicUrl, shown: 'unset', meaning: 'the address clients use, e.g. `https://auth.example.com` or `https://example.com/dualgate` (scheme, host, port, path prefix): every address dualgate writes (WSDL `soap:address`, OpenAPI `servers`, xWeb `faultactor`) starts with it whatever `Host` says, and a path prefix goes in front of cookie paths' }),
  DUALGATE_XML_LIMIT: setting({ field: 'xmlLimit', parse: whole(1024, 16 * 1024 * 1024), default: String(64 * 1024), meaning: 'largest SOAP body in bytes, after any `Content-Encoding` is undone' }),
  DUALGATE_JSON_LIMIT: setting({ field: 'jsonLimit', parse: whole(256, 16 * 1024 * 1024), default: String(16 * 1024), meaning: 'largest JSON body in bytes, likewise' }),
  DUALGATE_HEADERS_TIMEOUT_MS: setting({ field: 'headersTimeoutMs', parse: whole(100, 600_000), default: '10000', meaning: 'a client must send its request headers within this (else 408 and the socket is closed)' }),
  DUALGATE_REQUEST_TIMEOUT_MS: setting({ field: 'requestTimeoutMs', parse: whole(100, 3_600_000), default: '30000', meaning: 'and its whole request within this' }),
  DUALGATE_KEEPALIVE_TIMEOUT_MS: setting({ field: 'keepAliveTimeoutMs', parse: whole(100, 600_000), default: '5000', meaning: 'an idle keep-alive connection is closed after this' }),
  DUALGATE_XWEB_EXPIRATION: setting({ field: 'xweb.expiration', parse: oneOf(['absolute', 'sliding'] as const), default: 'absolute', meaning: 'integrator token rotation: `absolute` (same token, fixed expiry) or `sliding` (a new token each call)' }),
  DUALGATE_XWEB_TOKEN_TTL: setting({ field: 'xweb.tokenTtl', parse: whole(1, 365 * DAY), default: '1200', meaning: 'integrator token timeout in seconds' }),
  DUALGATE_XWEB_GRACE: setting({ field: 'xweb.graceSeconds', parse: whole(0, 3600), default: '30', meaning: 'seconds a replaced integrator token keeps working under `sliding`' }),
  DUALGATE_XWEB_KEY_OVERRIDE: setting({ field: 'xweb.keyOverride', parse: z.string().min(1, 'expected a non-empty secret'), shown: 'unset', meaning: 'the secret that makes `WebLogin` answer the customer key; off when unset', secret: true }),
  DUALGATE_XWEB_WS_ADDRESSING: setting({ field: 'xweb.wsAddressing', parse: flag, default: 'true', meaning: 'WS-Addressing and `wsu:Timestamp` headers in xWeb responses' }),
  DUALGATE_CRAFTER_PREFIX: setting({
    field: 'crafterPrefix',
    parse: z
      .string()
      .trim()
      .regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, 'expected a path such as /studio'),
    default: '/studio',
    meaning: "where the Crafter door is mounted (and its cookies' `Path`)",
  }),
  DUALGATE_SYNCHRONOUS: setting({
    field: 'synchronous',
    parse: z.string().trim().toUpperCase().pipe(oneOf(['NORMAL', 'FULL'] as const)),
    default: 'NORMAL',
    meaning: 'SQLite `synchronous`: `NORMAL` survives a process crash, `FULL` also a power loss',
  }),
  DUALGATE_BUSY_TIMEOUT_MS: setting({
    field: 'busyTimeoutMs',
    parse: whole(0, 600_000),
    default: '5000',
    meaning:
      "how long a write waits for another process's lock before the request fails; on PostgreSQL also how long a call waits for an answer (plus 100 ms; a new connection gets at least a second)",
  }),
  DUALGATE_METRICS: setting({ field: 'metrics', parse: flag, default: 'false', meaning: 'serve Prometheus metrics at `GET /metrics` on the public port' }),
  DUALGATE_METRICS_PORT: setting({
    field: 'metricsPort',
    parse: whole(0, 65535),
    shown: 'unset',
    meaning: "serve them on a listener of their own instead (turns metrics on); required for metrics with `--workers`, where the primary serves every worker's sum",
  }),
  DUALGATE_METRICS_HOST: setting({ field: 'metricsHost', parse: host, default: '127.0.0.1', meaning: 'the address of that listener' }),
  DUALGATE_STOP_GRACE: setting({ field: 'stopGraceSeconds', parse: whole(0, 3600), default: '10', meaning: 'seconds a stop (`SIGTERM`) lets requests in flight finish before closing their connections' }),
  DUALGATE_LOG_LEVEL: setting({ field: 'logLevel', parse: oneOf(LOG_LEVELS), default: 'info', meaning: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent` (the `dualgate listening on …` line is printed at every level)' }),
};

type Table = typeof SETTINGS;
export type SettingKey = keyof Table;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** A setting's value in `Config`: what its parser makes, or undefined when it has no default. */
type ValueOf<K extends SettingKey> = z.output<Table[K]['parse']> | (Table[K]['default'] extends string ? never : undefined);
/** The settings of one section (`xweb.…`), by their names there. */
type Section<S extends string> = { [K in SettingKey as Table[K]['field'] extends `${S}.${infer N}` ? N : never]: ValueOf<K> };
type TopLevel = { [K in SettingKey as Table[K]['field'] extends `${string}.${string}` ? never : Table[K]['field']]: ValueOf<K> };

/**
 * Every setting, parsed. `metrics` is also on when DUALGATE_METRICS_PORT is set. `dbPath` is DUALGATE_DB as
 * given (a PostgreSQL URL may hold a password: never log it), `store` which store it names and where.
 */
export type Config = TopLevel & {
  xweb: Section<'xweb'>;
  store: StoreLocation;
  /** DUALGATE_PUBLIC_URL's path prefix ('' without one): the proxy strips it, and cookie paths get it back. */
  publicPath: string;
  /** What the start should warn about (an unknown DUALGATE_* variable): one line each. */
  warnings: string[];
};

/** What each door is given: its own settings and nothing else. */
export interface DoorSettings {
  /** `sessionRetention`: how long a WS-Security nonce is remembered. */
  zato: Pick<Config, 'xmlLimit' | 'jsonLimit' | 'sessionRetention'>;
  xweb: Config['xweb'] & Pick<Config, 'xmlLimit' | 'jsonLimit'>;
  crafter: Pick<Config, 'crafterPrefix' | 'jsonLimit'>;
  console: Pick<Config, 'jsonLimit'>;
}

export function doorSettings(config: Config): DoorSettings {
  const limits = { xmlLimit: config.xmlLimit, jsonLimit: config.jsonLimit };
  return {
    zato: { ...limits, sessionRetention: config.sessionRetention },
    xweb: { ...config.xweb, ...limits },
    crafter: { crafterPrefix: config.crafterPrefix, jsonLimit: config.jsonLimit },
    console: { jsonLimit: config.jsonLimit },
  };
}

/** The README's settings table, as the code declares it. */
export function settingsTable(): string {
  const lines = ['| setting | default | meaning |', '| --- | --- | --- |'];
  for (const key of SETTING_KEYS) {
    const row: Setting<z.ZodType<unknown, string>, string> = SETTINGS[key];
    lines.push(`| \`${key}\` | ${row.shown ?? `\`${row.default}\``} | ${row.meaning} |`);
  }
  return lines.join('\n');
}

function readConfigFile(path: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`invalid setting DUALGATE_CONFIG: ${path}: ${err instanceof SyntaxError ? 'not valid JSON' : unreadable(err)}`);
  }
  return settingsObject(parsed, `in ${path}`, `${path}: `);
}

/** Why a file could not be read, in words. */
function unreadable(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return `cannot be read (${code ?? (err as Error).message})`;
}

/** DUALGATE_* variables that are not settings of the table but are read all the same. */
const OTHER_KNOWN_VARIABLES = ['DUALGATE_CONFIG', 'DUALGATE_DEBUG'];

/** One line for each DUALGATE_* variable of the environment that nothing reads, with the known name nearest to it. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = [...SETTING_KEYS.filter((key) => key.startsWith('DUALGATE_')), ...OTHER_KNOWN_VARIABLES];
  return Object.keys(env)
    .filter((name) => name.startsWith('DUALGATE_') && !known.includes(name))
    .sort()
    .map((name) => `unknown setting ${name} in the environment is ignored (did you mean ${closest(name, known)}?)`);
}

/**
 * Settings given as one object (the JSON file's, or `createGateway`'s): known keys only, each a string, a
 * number or a boolean, as the environment would say it.
 */
export function settingsObject(value: unknown, where: string, prefix = ''): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`invalid setting DUALGATE_CONFIG: ${prefix}expected a JSON object of settings`);
  }
  const values: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (!(key in SETTINGS)) throw new ConfigError(`invalid setting ${key} ${where}: unknown setting`);
    if (entry === null || typeof entry === 'object') throw new ConfigError(`invalid setting ${key} ${where}: expected a string, number or boolean`);
    values[key] = String(entry);
  }
  return values;
}

/** Parses and checks every setting; throws `ConfigError` with one line naming the first bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<SettingKey, string>> = {}): Config {
  const fromFile = env.DUALGATE_CONFIG ? readConfigFile(env.DUALGATE_CONFIG) : {};
  const raw: Record<string, string> = { ...fromFile };
  for (const key of SETTING_KEYS) {
    const value = overrides[key] ?? env[key];
    if (value !== undefined) raw[key] = value;
  }
  const fromEnv = (key: string) => overrides[key as SettingKey] !== undefined || env[key] !== undefined;
  const where = (key: string) => (key in fromFile && !fromEnv(key) ? ` in ${env.DUALGATE_CONFIG}` : '');
  return { ...configFrom(raw, where), warnings: unknownVariables(env) };
}

/** The settings parsed from their raw values, defaults filled in, in the table's order. */
export function configFrom(raw: Readonly<Record<string, string>>, where: (key: string) => string = () => ''): Config {
  const config: Record<string, unknown> = { xweb: {}, store: undefined, warnings: [] };
  for (const key of SETTING_KEYS) {
    const row: Setting<z.ZodType<unknown, string>, string> = SETTINGS[key];
    const given = raw[key];
    const value = given ?? row.default;
    let parsed: unknown;
    if (value !== undefined) {
      const result = row.parse.safeParse(value);
      if (!result.success) {
        // A database URL is shown with its password masked.
        const value = key === 'DUALGATE_DB' && given !== undefined ? redactStoreLocation(given) : given;
        const shown = row.secret || value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
        throw new ConfigError(`invalid setting ${key}${where(key)}: ${result.error.issues[0]!.message}${shown}`);
      }
      parsed = result.data;
    }
    const [section, name] = row.field.includes('.') ? row.field.split('.') : [undefined, row.field];
    (section ? (config[section] as Record<string, unknown>) : config)[name!] = parsed;
  }
  const c = config as Config;
  if (c.headersTimeoutMs > c.requestTimeoutMs) {
    throw new ConfigError(`invalid setting DUALGATE_HEADERS_TIMEOUT_MS: expected at most DUALGATE_REQUEST_TIMEOUT_MS (${c.requestTimeoutMs}) (got "${c.headersTimeoutMs}")`);
  }
  c.metrics ||= c.metricsPort !== undefined;
  c.store = parseStoreLocation(c.dbPath, c.dbPool).location!;
  c.publicPath = c.publicUrl === undefined ? '' : new URL(c.publicUrl).pathname.replace(/\/+$/, '');
  return c;
}
