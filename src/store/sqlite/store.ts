import type Database from 'better-sqlite3';
import { statfs } from 'node:fs/promises';
import { StoreFault } from '../errors';
import type { FileIdentity } from '../file-identity';
import type { Checkpointer } from '../checkpointer';
import { GroupCommit, WRITE_REFUSED } from '../group-commit';
import type {
  AccountChanges,
  AccountRow,
  AddressLock,
  AuditCount,
  AuditPage,
  AuditQuery,
  AuditRow,
  FoundToken,
  LockoutLimits,
  LoginAttempt,
  NewAccount,
  Reservation,
  RevokedByToken,
  SessionFilter,
  SessionRow,
  SessionUse,
  Store,
  StoredAuditRow,
  StoreWrite,
  TokenRow,
  TokenUse,
  UsedToken,
} from '../types';
import { FAULT_REASONS, Refused, translate } from './errors';
import { type Columns, foundTokenAt, accountAt, sessionAt, accountOrNone, CHANGEABLE_COLUMNS, optional, auditParams } from './rows';
import { prepareStatements, prepareTransactions, type Statements } from './statements';

/** The `Store` over one SQLite file: every call a unit of work, the units of one event-loop turn one commit. */
export class SqliteStore implements Store {
  private readonly sql: Statements;
  /** Update statements by the set of columns they change, each prepared the first time it is needed. */
  private readonly accountUpdates = new Map<string, Database.Statement>();
  /** Every call's work goes through here: the calls of one event-loop turn share one transaction. */
  private readonly commits: GroupCommit;
  private readonly atomic: ReturnType<typeof prepareTransactions>;

  constructor(
    private readonly db: Database.Database,
    /** Whether the files at the database's path are still the ones open here (absent for `:memory:`). */
    private readonly files?: FileIdentity,
    private readonly checkpointer?: Checkpointer,
  ) {
    // A database file removed or replaced under us: writing on would write into a file nobody will read.
    this.commits = new GroupCommit(db, translate, () => {
      if (this.files?.fault) throw new StoreFault(this.files.fault);
    });
    this.sql = prepareStatements(db);
    this.atomic = prepareTransactions(db, this.sql);
  }


  atomically(writes: readonly StoreWrite[]): Promise<void> {
    return this.commits.write(() => this.atomic.unitOfWork(writes));
  }

  createAccount(account: NewAccount, now: number): Promise<AccountRow> {
    return this.commits.write(() =>
      accountAt(this.sql.insertAccount.get({ ...account, isActive: account.isActive ? 1 : 0, now }) as Columns, 0),
    );
  }

  findAccountById(id: number): Promise<AccountRow | undefined> {
    return this.commits.read(() => accountOrNone(this.sql.accountById.get(id) as Columns | undefined));
  }

  findAccountByUsernameKey(usernameKey: string): Promise<AccountRow | undefined> {
    return this.commits.read(() => accountOrNone(this.sql.accountByUsernameKey.get(usernameKey) as Columns | undefined));
  }

  findAccountByName(name: string): Promise<AccountRow | undefined> {
    return this.commits.read(() => accountOrNone(this.sql.accountByName.get(name) as Columns | undefined));
  }

  listAccounts(query?: string): Promise<AccountRow[]> {
    return this.commits.read(() => {
      const rows = (query ? this.sql.matchingAccounts.all({ query }) : this.sql.allAccounts.all()) as Columns[];
      return rows.map((row) => accountAt(row, 0));
    });
  }

  countAccounts(): Promise<number> {
    return this.commits.read(() => (this.sql.countAccounts.get() as { n: number }).n);
  }

  updateAccount(id: number, changes: AccountChanges, now: number): Promise<void> {
    return this.commits.write(() => {
      const keys = (Object.keys(changes) as (keyof AccountChanges)[]).filter((k) => changes[k] !== undefined).sort();
      if (keys.length === 0) return;
      const signature = keys.join(',');
      let statement = this.accountUpdates.get(signature);
      if (!statement) {
        const assignments = keys.map((k) => `${CHANGEABLE_COLUMNS[k]} = @${k}`).join(', ');
        statement = this.db.prepare(`UPDATE accounts SET ${assignments}, updated_at = @now WHERE id = @id`);
        this.accountUpdates.set(signature, statement);
      }
      const values: Record<string, unknown> = { id, now };
      for (const k of keys) values[k] = k === 'isActive' ? (changes[k] ? 1 : 0) : changes[k];
      statement.run(values);
    });
  }

  deleteAccount(id: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.deleteAccount.run(id);
    });
  }

  reserveLoginAttempt(attempt: LoginAttempt, now: number, limits: LockoutLimits): Promise<Reservation> {
    return this.commits.write(() => {
      try {
        return this.atomic.reserveLoginAttempt(attempt, now, limits);
      } catch (err) {
        if (err instanceof Refused) return { granted: false, busy: err.busy } as const;
        throw err;
      }
    });
  }

  concludeLoginFailure(attempt: LoginAttempt): Promise<void> {
    return this.commits.write(() => {
      this.sql.concludeFailure.run(attempt.usernameKey, attempt.clientIp);
    });
  }

  clearLoginFailures(attempt: LoginAttempt, reservation: Reservation): Promise<void> {
    return this.commits.write(() => this.atomic.clearLoginFailures(attempt, reservation));
  }

  unlockAccount(id: number, usernameKey: string, now: number): Promise<void> {
    return this.commits.write(() => this.atomic.unlockAccount(id, usernameKey, now));
  }

  listAddressLocks(now: number): Promise<AddressLock[]> {
    return this.commits.read(() => this.sql.addressLocks.all(now) as AddressLock[]);
  }

  forgetLoginFailures(before: number): Promise<number> {
    return this.commits.write(() => this.sql.forgetFailures.run({ before }).changes);
  }

  replacePasswordHash(id: number, previous: string, next: string, now: number): Promise<boolean> {
    return this.commits.write(() => this.sql.replaceHash.run(next, now, id, previous).changes > 0);
  }

  setLock(id: number, lockedUntil: number | null, now: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.setLock.run(lockedUntil, now, id);
    });
  }

  createSession(session: SessionRow, token: Omit<TokenRow, 'sessionId' | 'retiredAt'>): Promise<void> {
    return this.commits.write(() => this.atomic.createSession(session, token));
  }

  findToken(hash: Buffer): Promise<FoundToken | undefined> {
    return this.commits.read(() => this.tokenFound(hash));
  }

  useTokens(uses: readonly TokenUse[]): Promise<(UsedToken | undefined)[]> {
    return this.commits.mayWrite((canWrite) => {
      const answers: (UsedToken | undefined)[] = [];
      for (const step of uses) {
        const found = this.tokenFound(step.hash);
        const used = found && step.use(found);
        if (used && !canWrite) throw WRITE_REFUSED;
        if (used) this.touch(found.session.id, used);
        answers.push(found && { ...found, used });
        if (step.next && !step.next(found)) break;
      }
      return answers;
    });
  }

  private tokenFound(hash: Buffer): FoundToken | undefined {
    const row = this.sql.tokenWithAccount.get(hash) as Columns | undefined;
    return row && foundTokenAt(row, hash);
  }

  private touch(id: string, { lastSeenAt, idleExpiresAt }: SessionUse): void {
    if (idleExpiresAt === undefined) this.sql.touchLastSeen.run(lastSeenAt, id);
    else this.sql.touchSession.run(lastSeenAt, idleExpiresAt, id);
  }

  rotateToken(
    previousHash: Buffer,
    next: Omit<TokenRow, 'retiredAt'>,
    retireAt: number,
    touch: { lastSeenAt: number; idleExpiresAt: number },
  ): Promise<boolean> {
    return this.commits.write(() => this.atomic.rotateToken(previousHash, next, retireAt, touch));
  }

  revokeByToken(hash: Buffer, at: number, reason: string): Promise<RevokedByToken | undefined> {
    return this.commits.write(() => {
      const revoked = this.sql.revokeTokenSession.get(at, reason, hash) as { id: string; username: string } | undefined;
      if (revoked) return { sessionId: revoked.id, username: revoked.username, ended: true };
      // Not revoked now: the session had ended already, or the token is unknown.
      const known = this.sql.tokenSessionName.get(hash) as { id: string; username: string } | undefined;
      return known && { sessionId: known.id, username: known.username, ended: false };
    });
  }

  revokeSession(id: string, at: number, reason: string): Promise<boolean> {
    return this.commits.write(() => this.sql.revokeSession.run(at, reason, id).changes > 0);
  }

  revokeAccountSessions(accountId: number, at: number, reason: string, aliveAt?: number): Promise<string[]> {
    return this.commits.write(() =>
      (this.sql.revokeAccountSessions.all({ at, reason, accountId, aliveAt: aliveAt ?? null }) as { id: string }[]).map((r) => r.id),
    );
  }

  findSession(id: string): Promise<SessionRow | undefined> {
    return this.commits.read(() => optional(this.sql.sessionById.get(id) as Columns | undefined, (row) => sessionAt(row, 0)));
  }

  listSessions(filter: SessionFilter): Promise<SessionRow[]> {
    return this.commits.read(() =>
      (
        this.sql.listSessions.all({
          username: filter.username ?? null,
          usernamePart: filter.usernamePart ?? null,
          door: filter.door ?? null,
          aliveAt: filter.aliveAt ?? null,
          limit: filter.limit ?? -1,
        }) as Columns[]
      ).map((row) => sessionAt(row, 0)),
    );
  }

  countLiveSessions(now: number): Promise<number> {
    return this.commits.read(() => (this.sql.countLive.get({ now }) as { n: number }).n);
  }

  purgeSessions(before: number, batch: number): Promise<number> {
    return this.commits.write(() => this.atomic.purgeSessions(before, batch));
  }

  reserveThrottle(clientIp: string, windowStart: number, limit: number): Promise<boolean> {
    return this.commits.write(() => this.sql.reserveThrottle.get({ clientIp, windowStart, limit }) !== undefined);
  }

  releaseThrottle(clientIp: string, windowStart: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.releaseThrottle.run(clientIp, windowStart);
    });
  }

  forgetLoginAttempts(before: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.forgetAttempts.run(before);
    });
  }

  appendAudit(row: AuditRow): Promise<void> {
    return this.commits.write(() => {
      this.sql.insertAudit.run(row);
    });
  }

  tallyAudit(row: AuditRow, tallyKey: string): Promise<void> {
    return this.commits.write(() => {
      this.sql.tallyAudit.run({ ...row, tallyKey });
    });
  }

  purgeAudit(before: number, batch: number): Promise<number> {
    return this.commits.write(() => this.sql.purgeAudit.run({ before, batch }).changes);
  }

  listAudit(limit: number): Promise<StoredAuditRow[]> {
    return this.commits.read(() => this.sql.listAudit.all(limit) as StoredAuditRow[]);
  }

  findAudit(page: AuditPage): Promise<StoredAuditRow[]> {
    const params = { ...auditParams(page), beforeId: page.beforeId ?? null, limit: page.limit };
    return this.commits.read(() => this.sql.findAudit.all(params) as StoredAuditRow[]);
  }

  countAuditMatching(query: AuditQuery): Promise<number> {
    return this.commits.read(() => (this.sql.countAuditMatching.get(auditParams(query)) as { n: number }).n);
  }

  claimNonce(hash: Buffer, expiresAt: number, now: number): Promise<boolean> {
    return this.commits.write(() => this.sql.claimNonce.get({ hash, expiresAt, now }) !== undefined);
  }

  forgetNonces(before: number): Promise<void> {
    return this.commits.write(() => {
      this.sql.forgetNonces.run(before);
    });
  }

  countAudit(since: number, bucketMs: number): Promise<AuditCount[]> {
    return this.commits.read(() => this.sql.countAudit.all({ since, bucketMs }) as AuditCount[]);
  }

  secret(name: string, value: string): Promise<string> {
    return this.commits.write(() => {
      this.sql.insertSecret.run(name, value);
      return (this.sql.getSecret.get(name) as { value: string }).value;
    });
  }

  /**
   * Health: the database file is still the one open here, its file system has room, and a write commits. A
   * `SELECT` would not notice a read-only or full disk, and a write rolled back never reaches the disk; one
   * small row rewritten does. The room is asked of the file system because SQLite reuses the log's space
   * after a checkpoint: on a full disk a small write can still commit while the next larger one fails.
   */
  async ping(): Promise<void> {
    if (this.files) {
      this.files.check();
      if ((await freeBytes(this.files.directory)) < MIN_FREE_BYTES) throw new StoreFault(FAULT_REASONS.SQLITE_FULL!);
    }
    return this.commits.write(() => {
      this.sql.healthProbe.run(Date.now());
    });
  }

  async backup(path: string): Promise<void> {
    try {
      await this.db.backup(path);
    } catch (err) {
      const translated = translate(err, `backup to ${path} failed`);
      // better-sqlite3 checks the target directory itself and throws a plain TypeError for it.
      throw translated instanceof StoreFault ? translated : new StoreFault(`backup to ${path} failed: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.files?.close();
    try {
      if (this.db.open) this.commits.drain();
    } finally {
      await this.checkpointer?.stop();
    }
    try {
      if (this.db.open) this.db.close();
    } catch (err) {
      throw translate(err);
    }
  }
}

/** Less free space than this, for an unprivileged writer, and health reports the disk full. */
const MIN_FREE_BYTES = 1024 * 1024;

/** Free bytes on the file system holding `directory`; Infinity when it cannot tell (the write probe still can). */
async function freeBytes(directory: string): Promise<number> {
  try {
    const { bavail, bsize } = await statfs(directory);
    return bavail * bsize;
  } catch {
    return Infinity;
  }
}
