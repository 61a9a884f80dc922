import Database from 'better-sqlite3';
import { Client } from 'pg';
import { StoreFault } from './errors';
import { openPostgresStore } from './postgres';

/**
 * `dualgate store copy --to <url>`: every row of a SQLite store (accounts, sessions, tokens, audit, secrets,
 * throttle and failure counts) into an empty PostgreSQL database, in one transaction on each side: one consistent read of
 * the file (safe while it serves), one commit in PostgreSQL. The tables and columns are the same in both
 * schemas, so rows move as they are; ids keep their values and the id sequences continue after them.
 */

/** The tables copied, parents before children; `health` is the probe's scratch row and is left behind. */
const TABLES = ['accounts', 'sessions', 'tokens', 'audit', 'secrets', 'login_attempts', 'login_failures', 'nonces'] as const;
/** Tables whose ids PostgreSQL generates: their sequences must continue after the copied ids. */
const IDENTITIES = ['accounts', 'audit'] as const;
/** Rows sent in one statement. */
const CHUNK = 500;

export interface CopyTarget {
  url: string;
  where: string;
  timeoutMs: number;
}

/** Copies; what it copied, table by table. Refuses a target that holds any row already. */
export async function copySqliteToPostgres(sqlitePath: string, target: CopyTarget): Promise<Record<string, number>> {
  // First the schema, migrated as a node would at start (under the same lock).
  const store = await openPostgresStore({ url: target.url, where: target.where, pool: 1, timeoutMs: target.timeoutMs });
  await store.close();

  const source = readSnapshot(sqlitePath);
  const client = new Client({ connectionString: target.url, connectionTimeoutMillis: Math.max(1000, target.timeoutMs) });
  try {
    await client.connect();
  } catch (err) {
    throw new StoreFault(`cannot open the PostgreSQL database ${target.where}: ${(err as Error).message}`);
  }
  try {
    await client.query('BEGIN');
    // Nobody else writes while the copy decides the target is empty and fills it.
    await client.query(`LOCK TABLE ${TABLES.join(', ')} IN EXCLUSIVE MODE`);
    const present = await client.query<{ n: string; t: string }>(
      TABLES.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(' UNION ALL '),
    );
    const filled = present.rows.filter((r) => Number(r.n) > 0).map((r) => `${r.n} ${r.t}`);
    if (filled.length > 0) {
      throw new StoreFault(`the PostgreSQL database ${target.where} is not empty (${filled.join(', ')}): copy only into an empty database`);
    }
    const copied: Record<string, number> = {};
    for (const table of TABLES) {
      const rows = source[table] ?? [];
      for (let at = 0; at < rows.length; at += CHUNK) {
        await client.query(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(null::${table}, $1)`, [
          JSON.stringify(rows.slice(at, at + CHUNK)),
        ]);
      }
      copied[table] = rows.length;
    }
    for (const table of IDENTITIES) {
      await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce(max(id), 0) + 1, false) FROM ${table}`);
    }
    await client.query('COMMIT');
    return copied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof StoreFault) throw err;
    throw new StoreFault(`copy to ${target.where} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Every row of every copied table, read in one read transaction (a consistent snapshot of a live file). */
function readSnapshot(path: string): Record<string, Record<string, unknown>[]> {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new StoreFault(`cannot open ${path}: ${(err as Error).message}`);
  }
  try {
    return db.transaction(() => {
      const snapshot: Record<string, Record<string, unknown>[]> = {};
      for (const table of TABLES) {
        snapshot[table] = (db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]).map(asPostgresRow);
      }
      return snapshot;
    })();
  } finally {
    db.close();
  }
}

/** A SQLite row as json_populate_recordset reads it: blobs as bytea's hex text, 0/1 flags as booleans. */
function asPostgresRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (Buffer.isBuffer(value)) out[column] = `\\x${value.toString('hex')}`;
    else if (column === 'is_active') out[column] = value === 1;
    else out[column] = value;
  }
  return out;
}
