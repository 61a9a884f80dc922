/**
 * Bench-only seeding: accounts and live sessions written through the store's own class and prepared
 * statements, inside one big transaction, with tokens minted by the core's `TokenMint` and stored as the
 * core stores them (`hashToken`). No bcrypt per token, and one bcrypt hash shared by every account.
 */
import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { hashToken, TokenMint } from '../src/core/tokens';
import { openSqliteStore, SqliteStore } from '../src/store/sqlite';
import type { AccountRow, Role, SessionRow, TokenKind } from '../src/store/types';

export interface Seeder {
  /** Creates `count` accounts `<prefix>0..` with one precomputed password hash. */
  accounts(prefix: string, count: number, role: Role, passwordHash: string): Promise<AccountRow[]>;
  /**
   * Opens `count` live sessions of `kind` spread over `owners`, marked with `pool` (in `user_agent`, so a run
   * can count afterwards how many of them it really ended or touched); answers their tokens in order.
   */
  sessions(pool: string, kind: TokenKind, owners: readonly AccountRow[], count: number, door: string, lifetime?: Lifetime): Promise<string[]>;
  close(): void;
}

/** A session's idle timeout and maximum age, in seconds. */
export interface Lifetime {
  idleTtl: number;
  maxAge: number;
}

/** A session as a door opens it under the default settings: idle for an hour ends it, twelve hours at most. */
const USER_LIFETIME: Lifetime = { idleTtl: 3600, maxAge: 43_200 };

interface TokenInsert {
  hash: Buffer;
  sessionId: string;
  kind: TokenKind;
  createdAt: number;
}

interface BulkStatements {
  insertSession: Database.Statement;
  insertToken: Database.Statement;
}

/**
 * The store's prepared insert statements, reached past TypeScript's `private` (bench only), or undefined
 * when they are not there under these names any more: then seeding goes through `createSession`, slower.
 */
function bulkStatements(store: SqliteStore): BulkStatements | undefined {
  const sql = (store as unknown as { sql?: Partial<BulkStatements> }).sql;
  return sql?.insertSession && sql.insertToken ? (sql as BulkStatements) : undefined;
}

/** Where the bench's pools are marked: a session's user agent. */
export const poolMark = (pool: string): string => `dualgate-bench:${pool}`;

/**
 * Opens `path` for seeding: migrations through the product's own opening, then a second connection set up
 * for bulk writes (no fsync, a big page cache) and wrapped by the store class itself.
 */
export function openSeeder(path: string, jwtSecret: string): Seeder {
  openSqliteStore({ path, synchronous: 'NORMAL', busyTimeoutMs: 5000 }).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -524288');
  // Every token's session is inserted in the same transaction, before it: the check would find it each time.
  db.pragma('foreign_keys = OFF');
  const store = new SqliteStore(db);
  const mint = new TokenMint(jwtSecret);

  /** Runs `work` in one transaction; the store's calls inside it nest as savepoints and answer synchronously. */
  async function bulk<T>(work: (failed: (err: unknown) => void) => T): Promise<T> {
    let failure: unknown;
    const result = db.transaction(() => work((err) => (failure ??= err)))();
    // The store's promises settled inside the transaction; their callbacks run now.
    await new Promise((resolve) => setImmediate(resolve));
    if (failure !== undefined) throw failure;
    return result;
  }

  return {
    async accounts(prefix, count, role, passwordHash) {
      const created: AccountRow[] = [];
      const now = Date.now();
      await bulk((failed) => {
        for (let i = 0; i < count; i++) {
          const username = `${prefix}${i}`;
          store
            .createAccount(
              { username, usernameKey: username, name: username, passwordHash, role, isActive: true, firstName: 'Bench', lastName: String(i), email: `${username}@bench.invalid`, customerKey: randomUUID(), ttl: null },
              now,
            )
            .then((row) => created.push(row), failed);
        }
      });
      if (created.length !== count) throw new Error(`seeded ${created.length} of ${count} accounts`);
      return created;
    },

    async sessions(pool, kind, owners, count, door, lifetime = USER_LIFETIME) {
      const tokens: string[] = new Array(count);
      const sessions: SessionRow[] = new Array(count);
      const rows: TokenInsert[] = new Array(count);
      const now = Date.now();
      const mark = poolMark(pool);
      // The same 128 random bits per id as the core's newSessionId(), drawn in one call rather than a million.
      const entropy = randomBytes(16 * count);
      for (let i = 0; i < count; i++) {
        const owner = owners[i % owners.length]!;
        const session: SessionRow = {
          id: entropy.toString('hex', 16 * i, 16 * i + 16),
          accountId: owner.id,
          username: owner.username,
          door,
          // Seen two seconds ago: the first use of each one is really written (the touch skips uses within a second).
          createdAt: now - 2000,
          lastSeenAt: now - 2000,
          idleTtl: lifetime.idleTtl,
          idleExpiresAt: now - 2000 + Math.min(lifetime.idleTtl, lifetime.maxAge) * 1000,
          absoluteExpiresAt: now - 2000 + lifetime.maxAge * 1000,
          revokedAt: null,
          revokeReason: null,
          clientIp: '127.0.0.1',
          userAgent: mark,
        };
        const token = mint.mint(kind, { username: owner.username, sessionId: session.id, issuedAt: now, expiresAt: session.absoluteExpiresAt });
        tokens[i] = token;
        sessions[i] = session;
        rows[i] = { hash: hashToken(token), sessionId: session.id, kind, createdAt: now };
      }
      const statements = bulkStatements(store);
      if (statements) {
        // The store's own insert statements, rows in key order: appending to each index instead of
        // inserting at random places is what makes a million rows take seconds rather than minutes.
        sessions.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
        const byHash = [...rows].sort((x, y) => Buffer.compare(x.hash, y.hash));
        db.transaction(() => {
          for (const session of sessions) statements.insertSession.run(session);
          for (const row of byHash) statements.insertToken.run(row.hash, row.sessionId, row.kind, row.createdAt, null);
        })();
      } else {
        await bulk((failed) => {
          for (let i = 0; i < count; i++) {
            const { hash, createdAt } = rows[i]!;
            store.createSession(sessions[i]!, { hash, kind, createdAt }).catch(failed);
          }
        });
      }
      return tokens;
    },

    close() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
}
