import type Database from 'better-sqlite3';
import { usernameKey } from '../precis';
import { StoreFault } from './errors';

/** A migration: SQL, or a step that needs code (one run with foreign keys off, as a table rebuild needs). */
export type Migration = string | ((db: Database.Database) => void);

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run. Append only:
 * a released migration is never edited, a change is a new entry.
 */
export const migrations: readonly Migration[] = [
  `
  CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('user', 'integrator', 'admin')),
    is_active     INTEGER NOT NULL DEFAULT 1,
    first_name    TEXT    NOT NULL DEFAULT '',
    last_name     TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    customer_key  TEXT    NOT NULL UNIQUE,
    ttl           INTEGER,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );

  CREATE TABLE sessions (
    id                  TEXT    PRIMARY KEY,
    account_id          INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    username            TEXT    NOT NULL,
    door                TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL,
    idle_ttl            INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    revoked_at          INTEGER,
    revoke_reason       TEXT,
    client_ip           TEXT,
    user_agent          TEXT
  );
  CREATE INDEX sessions_by_account ON sessions (account_id);
  CREATE INDEX sessions_by_username ON sessions (username);
  CREATE INDEX sessions_by_idle_expiry ON sessions (idle_expires_at);
  CREATE INDEX sessions_by_absolute_expiry ON sessions (absolute_expires_at);
  CREATE INDEX sessions_by_revocation ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

  CREATE TABLE tokens (
    hash       BLOB    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('jwt', 'guid', 'cookie')),
    created_at INTEGER NOT NULL,
    retired_at INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX tokens_by_session ON tokens (session_id);

  CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    cid        TEXT,
    event      TEXT    NOT NULL,
    username   TEXT,
    session_id TEXT,
    door       TEXT,
    client_ip  TEXT,
    outcome    TEXT    NOT NULL,
    detail     TEXT
  );
  CREATE INDEX audit_by_time ON audit (at);

  CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE login_attempts (
    client_ip    TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    PRIMARY KEY (client_ip, window_start)
  ) WITHOUT ROWID;
  CREATE INDEX login_attempts_by_window ON login_attempts (window_start);
  `,
  // One row the health probe rewrites: only a committed write shows a read-only or full store.
  `
  CREATE TABLE health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
  );
  `,
  // Credential defense (issue 17). Accounts are rebuilt: ids from AUTOINCREMENT, so a deleted account's id is
  // never handed out again; `username_key`, the name as RFC 8265 compares it, unique; `failures_since`, the
  // start of the account-wide failure window. Failures per account and client address get a table of their
  // own, and the audit can keep one counted row for many refusals of one kind (`tally_key`, `count`).
  rebuildAccounts,
  `
  CREATE TABLE login_failures (
    username_key TEXT    NOT NULL,
    client_ip    TEXT    NOT NULL,
    failures     INTEGER NOT NULL,
    pending      INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    last_at      INTEGER NOT NULL,
    PRIMARY KEY (username_key, client_ip)
  ) WITHOUT ROWID;
  CREATE INDEX login_failures_by_last ON login_failures (last_at);

  ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE audit ADD COLUMN tally_key TEXT;
  CREATE UNIQUE INDEX audit_by_tally_key ON audit (tally_key) WHERE tally_key IS NOT NULL;
  `,
  // WS-Security UsernameToken nonces, each good once (by hash), kept until a replay would be refused anyway.
  `
  CREATE TABLE nonces (
    hash       BLOB    PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX nonces_by_expiry ON nonces (expires_at);
  `,
];

/** A name in quotes, anything beyond ASCII as \uXXXX: look-alikes must look different in the message. */
function quoted(name: string): string {
  return JSON.stringify(name).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * SQLite's table rebuild (its documented twelve steps, run with foreign keys off by `migrate`): the new
 * table, the rows copied with their key, the old table dropped, the new one renamed into its place. Refuses,
 * naming them, accounts whose usernames compare equal.
 */
function rebuildAccounts(db: Database.Database): void {
  const rows = db.prepare('SELECT id, username FROM accounts ORDER BY id').all() as { id: number; username: string }[];
  const byKey = new Map<string, { id: number; username: string }[]>();
  for (const row of rows) {
    const key = usernameKey(row.username);
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const collisions = [...byKey.values()].filter((same) => same.length > 1);
  if (collisions.length > 0) {
    const named = collisions.map((same) => same.map((a) => `${quoted(a.username)} (id ${a.id})`).join(' and ')).join('; ');
    throw new StoreFault(
      `cannot upgrade the database: these accounts have usernames that compare equal under RFC 8265 (case, width, normal form): ${named}; rename or delete all but one of each with the dualgate that made them, then start again`,
    );
  }
  db.function('dualgate_username_key', { deterministic: true }, (username: unknown) => usernameKey(String(username)));
  db.exec(`
    CREATE TABLE accounts_rebuilt (
      id             INTEGER PRIMARY KEY AUTOINCREMENT,
      username       TEXT    NOT NULL UNIQUE,
      username_key   TEXT    NOT NULL UNIQUE,
      name           TEXT    NOT NULL UNIQUE,
      password_hash  TEXT    NOT NULL,
      role           TEXT    NOT NULL CHECK (role IN ('user', 'integrator', 'admin')),
      is_active      INTEGER NOT NULL DEFAULT 1,
      first_name     TEXT    NOT NULL DEFAULT '',
      last_name      TEXT    NOT NULL DEFAULT '',
      email          TEXT    NOT NULL DEFAULT '',
      customer_key   TEXT    NOT NULL UNIQUE,
      ttl            INTEGER,
      failed_logins  INTEGER NOT NULL DEFAULT 0,
      failures_since INTEGER,
      locked_until   INTEGER,
      created_at     INTEGER NOT NULL,
      updated_at     INTEGER NOT NULL
    );
    INSERT INTO accounts_rebuilt (id, username, username_key, name, password_hash, role, is_active, first_name,
      last_name, email, customer_key, ttl, failed_logins, failures_since, locked_until, created_at, updated_at)
    SELECT id, username, dualgate_username_key(username), name, password_hash, role, is_active, first_name,
      last_name, email, customer_key, ttl, 0, NULL, locked_until, created_at, updated_at
    FROM accounts;
    DROP TABLE accounts;
    ALTER TABLE accounts_rebuilt RENAME TO accounts;
  `);
}
