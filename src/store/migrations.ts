/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run. Append only:
 * a released migration is never edited, a change is a new entry.
 */
export const migrations: readonly string[] = [
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
  // WS-Security UsernameToken nonces, each good once (by hash), kept until a replay would be refused anyway.
  `
  CREATE TABLE nonces (
    hash       BLOB    PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX nonces_by_expiry ON nonces (expires_at);
  `,
];
