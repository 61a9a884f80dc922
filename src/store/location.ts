/**
 * Where the store lives, from DUALGATE_DB: a file path (SQLite) or a `postgres://` / `postgresql://` URL
 * (PostgreSQL; libpq's URL form: user, password, host, port, database, `sslmode` and the other parameters).
 * A URL may carry a password: only `where` (host, port, database) is ever shown.
 */
export type StoreLocation =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres';
      url: string;
      /** Connections in the pool (DUALGATE_DB_POOL). */
      pool: number;
      /** `host:port/database`, without user or password: what a log line or an error may name. */
      where: string;
    };

import { parse as parsePostgresUrl } from 'pg-connection-string';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;
/** Any other scheme (two letters at least, so a Windows drive letter stays a path). */
const OTHER_SCHEME = /^([a-z][a-z0-9+.-]+):/i;

export function parseStoreLocation(value: string, pool: number): { location?: StoreLocation; refusal?: string } {
  if (POSTGRES_URL.test(value)) {
    // pg's own reading of the URL (libpq's forms: a socket directory as ?host=, several hosts...).
    let parts: ReturnType<typeof parsePostgresUrl>;
    try {
      parts = parsePostgresUrl(value);
    } catch {
      return { refusal: 'expected a URL such as postgres://user:password@host:5432/database' };
    }
    return { location: { kind: 'postgres', url: value, pool, where: describe(parts) } };
  }
  const scheme = OTHER_SCHEME.exec(value)?.[1];
  if (scheme) return { refusal: `expected a file path or a postgres:// URL, not a ${scheme}: URL` };
  return { location: { kind: 'sqlite', path: value } };
}

/** host:port/database of a PostgreSQL URL, with libpq's defaults for what it leaves out. */
function describe(parts: ReturnType<typeof parsePostgresUrl>): string {
  const host = parts.host || 'localhost';
  const port = parts.port || '5432';
  const database = parts.database || parts.user || 'postgres';
  return `${host}:${port}/${database}`;
}

/** DUALGATE_DB with any password in it masked, for an error line. */
export function redactStoreLocation(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@]*@/i, '$1***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

/** The store as an operator should see it named: the file, or host:port/database. */
export function storeWhere(location: StoreLocation): string {
  return location.kind === 'sqlite' ? location.path : location.where;
}
