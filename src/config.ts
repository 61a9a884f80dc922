import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { addressList } from './core/throttle';
import { parseStoreLocation, redactStoreLocation, type StoreLocation } from './store/location';

/**
 * Every setting, read once at start from the environment and, under it, the JSON file named by
 * DUALGATE_CONFIG (same keys; the environment wins). A bad value stops the start with one line naming it.
 */
export interface Config {
  host: string;
  port: number;
  /** DUALGATE_DB as given: a file path, or a PostgreSQL URL (which may hold a password: never log it). */
  dbPath: string;
  /** Which store DUALGATE_DB names, and where. */
  store: StoreLocation;
  /** Connections in the PostgreSQL pool (DUALGATE_DB_POOL). */
  dbPool: number;
  /** Where the first admin's password is written (DUALGATE_INITIAL_PASSWORD_FILE; unset: src/initial-password-file.ts). */
  initialPasswordFile?: string;
  jwtSecret?: string;
  bcryptCost: number;
  sessionTtl: number;
  sessionMaxAge: number;
  sessionRetention: number;
  lockoutThreshold: number;
  lockoutAccountThreshold: number;
  lockoutMinutes: number;
  loginRatePerMinute: number;
  /** Addresses and CIDRs the log-in rate never applies to. */
  loginRateExempt: string[];
  /** Seconds an audit row is kept. */
  auditRetention: number;
  trustProxy: boolean | number | string;
  /** Count requests and serve Prometheus metrics (DUALGATE_METRICS, or DUALGATE_METRICS_PORT set). */
  metrics: boolean;
  /** Serve the metrics on a listener of their own, off the public port (with `--workers`: the primary's sum). */
  metricsPort?: number;
  metricsHost: string;
  /** Seconds a stop waits for requests in flight before it closes their connections. */
  stopGraceSeconds: number;
  logLevel: LogLevel;
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  xmlLimit: number;
  jsonLimit: number;
  /** How long a client may take to send its request headers, and its whole request; idle keep-alive time. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  purgeIntervalSeconds: number;
  xweb: {
    expiration: 'absolute' | 'sliding';
    tokenTtl: number;
    graceSeconds: number;
    keyOverride?: string;
    wsAddressing: boolean;
  };
  crafterPrefix: string;
}

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

const DAY = 86_400;

/** The settings table: key, parser, default. README's settings table lists the same rows. */
const settings = z.object({
  HOST: z.string().trim().min(1, 'expected a host name or address').default('127.0.0.1'),
  PORT: whole(0, 65535).default(8080),
  DUALGATE_DB: z
    .string()
    .trim()
    .min(1, 'expected a file path or a postgres:// URL')
    .superRefine((v, ctx) => {
      const refusal = parseStoreLocation(v, 1).refusal;
      if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
    })
    .default('./var/dualgate.db'),
  DUALGATE_DB_POOL: whole(1, 1000).default(10),
  DUALGATE_INITIAL_PASSWORD_FILE: z.string().trim().min(1, 'expected a file path').optional(),
  DUALGATE_JWT_SECRET: z
    .string()
    .refine((v) => Buffer.byteLength(v, 'utf8') >= 32, 'expected at least 32 bytes')
    .optional(),
  DUALGATE_BCRYPT_COST: whole(4, 31).default(12),
  DUALGATE_SESSION_TTL: whole(1, 365 * DAY).default(3600),
  DUALGATE_SESSION_MAX_AGE: whole(1, 365 * DAY).default(43_200),
  DUALGATE_SESSION_RETENTION: whole(0, 3650 * DAY).default(7 * DAY),
  DUALGATE_LOCKOUT_THRESHOLD: whole(1, 1000).default(5),
  DUALGATE_LOCKOUT_ACCOUNT_THRESHOLD: whole(1, 1_000_000).default(50),
  DUALGATE_LOCKOUT_MINUTES: whole(1, 525_600).default(15),
  DUALGATE_LOGIN_RATE: whole(0, 1_000_000).default(20),
  DUALGATE_LOGIN_RATE_EXEMPT: z
    .string()
    .transform((v) => v.split(',').map((entry) => entry.trim()).filter(Boolean))
    .refine((entries) => {
      try {
        addressList(entries);
        return true;
      } catch {
        return false;
      }
    }, 'expected addresses or CIDRs separated by commas')
    .default([]),
  DUALGATE_AUDIT_RETENTION: whole(1, 3650 * DAY).default(90 * DAY),
  DUALGATE_TRUST_PROXY: z
    .string()
    .trim()
    .regex(/^(true|false|\d+|[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*|loopback|linklocal|uniquelocal)$/, 'expected false, true, a hop count, or addresses/CIDRs separated by commas')
    .default('false'),
  DUALGATE_METRICS: flag.default(false),
  DUALGATE_METRICS_PORT: whole(0, 65535).optional(),
  DUALGATE_METRICS_HOST: z.string().trim().min(1, 'expected a host name or address').default('127.0.0.1'),
  DUALGATE_STOP_GRACE: whole(0, 3600).default(10),
  DUALGATE_LOG_LEVEL: oneOf(LOG_LEVELS).default('info'),
  DUALGATE_SYNCHRONOUS: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(oneOf(['NORMAL', 'FULL'] as const))
    .default('NORMAL'),
  DUALGATE_BUSY_TIMEOUT_MS: whole(0, 600_000).default(5000),
  DUALGATE_XML_LIMIT: whole(1024, 16 * 1024 * 1024).default(64 * 1024),
  DUALGATE_JSON_LIMIT: whole(256, 16 * 1024 * 1024).default(16 * 1024),
  DUALGATE_HEADERS_TIMEOUT_MS: whole(100, 600_000).default(10_000),
  DUALGATE_REQUEST_TIMEOUT_MS: whole(100, 3_600_000).default(30_000),
  DUALGATE_KEEPALIVE_TIMEOUT_MS: whole(100, 600_000).default(5_000),
  DUALGATE_PURGE_INTERVAL: whole(0, 30 * DAY).default(3600),
  DUALGATE_XWEB_EXPIRATION: oneOf(['absolute', 'sliding'] as const).default('absolute'),
  DUALGATE_XWEB_TOKEN_TTL: whole(1, 365 * DAY).default(1200),
  DUALGATE_XWEB_GRACE: whole(0, 3600).default(30),
  DUALGATE_XWEB_KEY_OVERRIDE: z.string().min(1, 'expected a non-empty secret').optional(),
  DUALGATE_XWEB_WS_ADDRESSING: flag.default(true),
  DUALGATE_CRAFTER_PREFIX: z
    .string()
    .trim()
    .regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, 'expected a path such as /studio')
    .default('/studio'),
});

export type SettingKey = keyof typeof settings.shape;
export const SETTING_KEYS = Object.keys(settings.shape) as SettingKey[];

/** Keys whose values are never echoed, even in an error line. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['DUALGATE_JWT_SECRET', 'DUALGATE_XWEB_KEY_OVERRIDE']);

function readConfigFile(path: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const reason = err instanceof SyntaxError ? 'not valid JSON' : ((err as NodeJS.ErrnoException).code ?? 'unreadable');
    throw new ConfigError(`invalid setting DUALGATE_CONFIG: ${path}: ${reason}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`invalid setting DUALGATE_CONFIG: ${path}: expected a JSON object of settings`);
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(SETTING_KEYS as string[]).includes(key)) {
      throw new ConfigError(`invalid setting ${key} in ${path}: unknown setting`);
    }
    if (value === null || typeof value === 'object') {
      throw new ConfigError(`invalid setting ${key} in ${path}: expected a string, number or boolean`);
    }
    values[key] = String(value);
  }
  return values;
}

/** Express's `trust proxy` from the setting: off, on, a hop count, or the addresses trusted to forward. */
function trustProxyValue(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** Parses and checks every setting; throws `ConfigError` with one line naming the first bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<SettingKey, string>> = {}): Config {
  const fromFile = env.DUALGATE_CONFIG ? readConfigFile(env.DUALGATE_CONFIG) : {};
  const raw: Record<string, string> = { ...fromFile };
  for (const key of SETTING_KEYS) {
    const value = overrides[key] ?? env[key];
    if (value !== undefined) raw[key] = value;
  }
  const result = settings.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0]);
    // A database URL is shown with its password masked.
    const value = key === 'DUALGATE_DB' && raw[key] !== undefined ? redactStoreLocation(raw[key]) : raw[key];
    const shown = SECRET_KEYS.has(key) || value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
    throw new ConfigError(`invalid setting ${key}: ${issue.message}${shown}`);
  }
  const s = result.data;
  if (s.DUALGATE_HEADERS_TIMEOUT_MS > s.DUALGATE_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      `invalid setting DUALGATE_HEADERS_TIMEOUT_MS: expected at most DUALGATE_REQUEST_TIMEOUT_MS (${s.DUALGATE_REQUEST_TIMEOUT_MS}) (got "${s.DUALGATE_HEADERS_TIMEOUT_MS}")`,
    );
  }
  return {
    host: s.HOST,
    port: s.PORT,
    dbPath: s.DUALGATE_DB,
    store: parseStoreLocation(s.DUALGATE_DB, s.DUALGATE_DB_POOL).location!,
    dbPool: s.DUALGATE_DB_POOL,
    initialPasswordFile: s.DUALGATE_INITIAL_PASSWORD_FILE,
    jwtSecret: s.DUALGATE_JWT_SECRET,
    bcryptCost: s.DUALGATE_BCRYPT_COST,
    sessionTtl: s.DUALGATE_SESSION_TTL,
    sessionMaxAge: s.DUALGATE_SESSION_MAX_AGE,
    sessionRetention: s.DUALGATE_SESSION_RETENTION,
    lockoutThreshold: s.DUALGATE_LOCKOUT_THRESHOLD,
    lockoutAccountThreshold: s.DUALGATE_LOCKOUT_ACCOUNT_THRESHOLD,
    lockoutMinutes: s.DUALGATE_LOCKOUT_MINUTES,
    loginRatePerMinute: s.DUALGATE_LOGIN_RATE,
    loginRateExempt: s.DUALGATE_LOGIN_RATE_EXEMPT,
    auditRetention: s.DUALGATE_AUDIT_RETENTION,
    trustProxy: trustProxyValue(s.DUALGATE_TRUST_PROXY),
    metrics: s.DUALGATE_METRICS || s.DUALGATE_METRICS_PORT !== undefined,
    metricsPort: s.DUALGATE_METRICS_PORT,
    metricsHost: s.DUALGATE_METRICS_HOST,
    stopGraceSeconds: s.DUALGATE_STOP_GRACE,
    logLevel: s.DUALGATE_LOG_LEVEL,
    synchronous: s.DUALGATE_SYNCHRONOUS,
    busyTimeoutMs: s.DUALGATE_BUSY_TIMEOUT_MS,
    xmlLimit: s.DUALGATE_XML_LIMIT,
    jsonLimit: s.DUALGATE_JSON_LIMIT,
    headersTimeoutMs: s.DUALGATE_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: s.DUALGATE_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: s.DUALGATE_KEEPALIVE_TIMEOUT_MS,
    purgeIntervalSeconds: s.DUALGATE_PURGE_INTERVAL,
    xweb: {
      expiration: s.DUALGATE_XWEB_EXPIRATION,
      tokenTtl: s.DUALGATE_XWEB_TOKEN_TTL,
      graceSeconds: s.DUALGATE_XWEB_GRACE,
      keyOverride: s.DUALGATE_XWEB_KEY_OVERRIDE,
      wsAddressing: s.DUALGATE_XWEB_WS_ADDRESSING,
    },
    crafterPrefix: s.DUALGATE_CRAFTER_PREFIX,
  };
}
