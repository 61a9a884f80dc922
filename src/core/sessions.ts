import { setTimeout as delay } from 'node:timers/promises';
import type { AccountRow, FoundToken, LoginAttempt, SessionUse, TokenUse, UsedToken, Reservation, Role, SessionFilter, SessionRow, Store, TokenKind, TokenRow } from '../store/types';
import { usernameKey } from '../precis';
import { endSessionsOf, publicAccount, type Account } from './accounts';
import type { AuditLog } from './audit';
import type { Clock } from './clock';
import type { RequestContext } from './context';
import { PasswordHasher, requirePassword, requireUsername } from './credentials';
import { InvalidCredentials, InvalidToken, NotFound, Throttled, TokenExpired } from './errors';
import type { LoginThrottle } from './throttle';
import { hashToken, newSessionId, TokenMint } from './tokens';

export interface SessionSettings {
  /** Idle seconds, when neither the account nor the door says otherwise. */
  idleTtl: number;
  /** Absolute seconds a session may live. */
  maxAge: number;
  /** Failures from one client address that lock that address out of an account. */
  lockoutThreshold: number;
  /** Failures from any address within the lockout window that lock the whole account. */
  lockoutAccountThreshold: number;
  lockoutMinutes: number;
  /** Seconds an ended session is kept before purging. */
  retention: number;
  /** Seconds an audit row is kept before purging. */
  auditRetention: number;
}

/** How long an attempt waits for other processes' checks of the same name and address, and how often it asks. */
const BUSY_WAIT_MS = 5000;
const BUSY_POLL_MS = 20;

/** Rows the purge deletes per statement. */
const PURGE_BATCH = 200;

export interface LoginOptions {
  kind: TokenKind;
  /** Only these roles may log in here; others get the same error as a wrong password. */
  roles?: readonly Role[];
  /** Idle seconds for this door's sessions; the account's own ttl still wins. */
  idleTtl?: number;
  /** Absolute seconds for this door's sessions (capped by the core's maximum). */
  maxAge?: number;
  /** Renew this session instead of opening another, if it is the same account's and alive. */
  renewToken?: string;
}

export interface LiveSession {
  session: SessionRow;
  account: Account;
  token: TokenRow;
}

export interface Issued {
  token: string;
  session: SessionRow;
  account: Account;
}

/** Idle-expiry writes closer together than this are skipped: the expiry is exact to within a second. */
const TOUCH_GRANULARITY_MS = 1000;

/**
 * When a session seen at `now` goes idle: never later than its absolute expiry, past which an idle expiry
 * means nothing (and would only keep moving, each move a write to its index).
 */
function idleExpiryAt(session: Pick<SessionRow, 'idleTtl' | 'absoluteExpiresAt'>, now: number): number {
  return Math.min(now + session.idleTtl * 1000, session.absoluteExpiresAt);
}

export class Sessions {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly mint: TokenMint,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly settings: SessionSettings,
    private readonly throttle: LoginThrottle,
  ) {}

  /** Rehashes at the configured cost under way, by account id (one at a time per account). */
  private readonly rehashing = new Map<number, Promise<void>>();
  /** Credential checks holding a reservation in this process, by name and address, until they conclude. */
  private readonly checking = new Map<string, Set<Promise<void>>>();

  /** Checks credentials and opens a session (or renews `renewToken`'s), answering with its new token. */
  async login(username: unknown, password: unknown, options: LoginOptions, ctx: RequestContext): Promise<Issued> {
    const name = requireUsername(username);
    const secret = requirePassword(password);
    const account = await this.checkCredentials(name, secret, options.roles, ctx);

    if (options.renewToken !== undefined) {
      const renewable = await this.liveByToken(options.renewToken).catch(() => undefined);
      const token = renewable && renewable.session.accountId === account.id ? await this.rotate(renewable, 0) : undefined;
      if (renewable && token !== undefined) {
        await this.audit.record(ctx, { event: 'renew', outcome: 'ok', username: name, sessionId: renewable.session.id });
        return { token, session: renewable.session, account: publicAccount(account) };
      }
    }

    const now = this.clock.now();
    const idleTtl = account.ttl ?? options.idleTtl ?? this.settings.idleTtl;
    const maxAge = Math.min(options.maxAge ?? this.settings.maxAge, this.settings.maxAge);
    const absoluteExpiresAt = now + maxAge * 1000;
    const session: SessionRow = {
      id: newSessionId(),
      accountId: account.id,
      username: account.username,
      door: ctx.door,
      createdAt: now,
      lastSeenAt: now,
      idleTtl,
      idleExpiresAt: idleExpiryAt({ idleTtl, absoluteExpiresAt }, now),
      absoluteExpiresAt,
      revokedAt: null,
      revokeReason: null,
      clientIp: ctx.clientIp ?? null,
      userAgent: ctx.userAgent ?? null,
    };
    const token = this.mint.mint(options.kind, {
      username: account.username,
      sessionId: session.id,
      issuedAt: now,
      expiresAt: session.absoluteExpiresAt,
    });
    // One unit of work: a session is never open without its audit row, nor the other way round.
    await this.store.atomically([
      { write: 'createSession', session, token: { hash: hashToken(token), kind: options.kind, createdAt: now } },
      { write: 'appendAudit', row: this.audit.rowFor(ctx, { event: 'login', outcome: 'ok', username: name, sessionId: session.id }) },
    ]);
    return { token, session, account: publicAccount(account) };
  }

  /**
   * Checks credentials (lockout and audit included) without opening a session, for a door that answers
   * something other than a token (xWeb's `WebLogin` with `keyOverride` answers the customer key).
   */
  async authenticate(username: unknown, password: unknown, options: Pick<LoginOptions, 'roles'>, ctx: RequestContext): Promise<Account> {
    const name = requireUsername(username);
    const account = await this.checkCredentials(name, requirePassword(password), options.roles, ctx);
    await this.audit.record(ctx, { event: 'login', outcome: 'ok', username: name, detail: 'no session' });
    return publicAccount(account);
  }

  /**
   * The live session behind `token`, its idle expiry moved forward; else `InvalidToken` or `TokenExpired`. The
   * lookup and the use are one store call: the use is decided from the row found, in the same unit of work.
   */
  async verify(token: unknown): Promise<LiveSession> {
    if (!this.issuedHere(token)) throw new InvalidToken();
    const now = this.clock.now();
    const [found] = await this.store.useTokens([{ hash: hashToken(token), use: (row) => this.useAt(row, now) }]);
    return this.liveAfterUse(found, now);
  }

  /**
   * `verify(caller)` and, if `admits` the caller's live session, `verify(token)`, in one store call. The
   * caller's refusal is thrown (`InvalidToken` too when `admits` says no), and then `token` is neither read nor
   * used; `token`'s own refusal is answered, not thrown.
   */
  async verifyAdmitted(
    caller: unknown,
    admits: (live: LiveSession) => boolean,
    token: unknown,
  ): Promise<{ caller: LiveSession; token: LiveSession | InvalidToken | TokenExpired }> {
    if (!this.issuedHere(caller)) throw new InvalidToken();
    const now = this.clock.now();
    const callerUse: TokenUse = {
      hash: hashToken(caller),
      use: (row) => this.useAt(row, now),
      next: (row) => row !== undefined && this.usable(row, now) && admits(this.liveOf(row)),
    };
    const tokenIssued = this.issuedHere(token);
    const steps = tokenIssued ? [callerUse, { hash: hashToken(token), use: (row: FoundToken) => this.useAt(row, now) }] : [callerUse];
    const [callerFound, tokenFound] = await this.store.useTokens(steps);
    const callerLive = this.liveAfterUse(callerFound, now);
    if (!admits(callerLive)) throw new InvalidToken();
    if (!tokenIssued) return { caller: callerLive, token: new InvalidToken() };
    try {
      return { caller: callerLive, token: this.liveAfterUse(tokenFound, now) };
    } catch (err) {
      if (err instanceof InvalidToken || err instanceof TokenExpired) return { caller: callerLive, token: err };
      throw err;
    }
  }

  /** The use a validation at `now` writes for a token found: none when refused or seen within the last second. */
  private useAt(row: FoundToken, now: number): SessionUse | undefined {
    if (!this.usable(row, now) || now - row.session.lastSeenAt < TOUCH_GRANULARITY_MS) return undefined;
    const idleExpiresAt = idleExpiryAt(row.session, now);
    // Held at the absolute expiry (an xWeb integrator's session under `absolute`, every call), the idle
    // expiry does not move: only the last-seen time is written, and its index is left alone.
    return { lastSeenAt: now, idleExpiresAt: idleExpiresAt === row.session.idleExpiresAt ? undefined : idleExpiresAt };
  }

  /** The live session after `useAt`'s use, or the refusal `verify` throws. */
  private liveAfterUse(found: UsedToken | undefined, now: number): LiveSession {
    const live = this.liveFrom(found, now);
    if (found!.used) live.session = { ...live.session, lastSeenAt: now, idleExpiresAt: idleExpiryAt(live.session, now) };
    return live;
  }

  /**
   * A new token for `token`'s session. The old one stops working after `graceSeconds` (0: at once), so
   * concurrent calls that still carry it do not fail.
   */
  async renew(token: unknown, ctx: RequestContext, graceSeconds = 0): Promise<Issued> {
    return this.renewVerified(await this.liveByToken(token), ctx, graceSeconds);
  }

  /**
   * `renew` for a session `verify` answered earlier in the same call, without looking its token up again;
   * `TokenExpired` when the session has been revoked since (the call itself may have logged it out).
   */
  async renewVerified(live: LiveSession, ctx: RequestContext, graceSeconds = 0): Promise<Issued> {
    const next = await this.rotate(live, graceSeconds);
    if (next === undefined) throw new TokenExpired();
    await this.audit.record(ctx, { event: 'renew', outcome: 'ok', username: live.session.username, sessionId: live.session.id });
    return { token: next, session: live.session, account: live.account };
  }

  /**
   * Ends the whole session behind `token`, whichever door issued it. A token whose session already ended is
   * fine (nothing to do, as RFC 7009 has it); a token this server never issued is `InvalidToken`.
   */
  async logout(token: unknown, ctx: RequestContext): Promise<{ ended: boolean }> {
    if (!this.issuedHere(token)) throw new InvalidToken();
    const revoked = await this.store.revokeByToken(hashToken(token), this.clock.now(), 'logout');
    if (!revoked) throw new InvalidToken();
    await this.audit.record(ctx, {
      event: 'logout',
      outcome: 'ok',
      username: revoked.username,
      sessionId: revoked.sessionId,
      detail: revoked.ended ? null : 'already ended',
    });
    return { ended: revoked.ended };
  }

  /** Ends a session by id (operators): whether it was ended now, had ended already, or never existed. */
  async revoke(sessionId: string, reason: string, ctx: RequestContext): Promise<'revoked' | 'already-ended' | 'unknown'> {
    const session = await this.store.findSession(sessionId);
    if (!session) return 'unknown';
    if (!(await this.store.revokeSession(sessionId, this.clock.now(), reason))) return 'already-ended';
    await this.audit.record(ctx, { event: 'revoke', outcome: 'ok', username: session.username, sessionId, detail: reason });
    return 'revoked';
  }

  /**
   * Ends every live session of an account, at every door, each with its own audit row (operators); the ids
   * of the sessions ended. `NotFound` for an unknown account.
   */
  async revokeAllOf(accountId: number, reason: string, ctx: RequestContext): Promise<string[]> {
    const account = Number.isSafeInteger(accountId) ? await this.store.findAccountById(accountId) : undefined;
    if (!account) throw new NotFound(`No such account: ${accountId}`);
    return endSessionsOf(this.store, this.audit, account, reason, this.clock.now(), ctx);
  }

  /**
   * Ends every live session at every door, each with its own audit row (operators: after restoring a
   * backup, whose copy knows nothing of the log-outs made since); how many it ended.
   */
  async revokeEveryLive(reason: string, ctx: RequestContext): Promise<number> {
    let ended = 0;
    for (;;) {
      const live = await this.store.listSessions({ aliveAt: this.clock.now(), limit: 500 });
      if (live.length === 0) return ended;
      for (const session of live) {
        if (!(await this.store.revokeSession(session.id, this.clock.now(), reason))) continue;
        ended++;
        await this.audit.record(ctx, { event: 'revoke', outcome: 'ok', username: session.username, sessionId: session.id, detail: reason });
      }
    }
  }

  countAlive(): Promise<number> {
    return this.store.countLiveSessions(this.clock.now());
  }

  list(filter: Omit<SessionFilter, 'aliveAt'> & { alive?: boolean }): Promise<SessionRow[]> {
    const { alive, ...rest } = filter;
    return this.store.listSessions({ ...rest, aliveAt: alive ? this.clock.now() : undefined });
  }

  /**
   * Deletes sessions that ended more than the retention ago, `batch` rows a statement (each its own
   * transaction, so other writers, other processes included, get their turn between batches); how many in
   * all. `signal` stops it at the next batch.
   */
  async purge(batch = PURGE_BATCH, signal?: AbortSignal): Promise<number> {
    await this.throttle.forgetOld();
    const now = this.clock.now();
    await this.store.forgetNonces(now);
    await this.store.forgetLoginFailures(now - this.settings.lockoutMinutes * 60_000);
    await this.audit.purge(now - this.settings.auditRetention * 1000, batch, signal);
    const before = now - this.settings.retention * 1000;
    let total = 0;
    for (;;) {
      const deleted = await this.store.purgeSessions(before, batch);
      total += deleted;
      if (deleted < batch || signal?.aborted) return total;
      // Let requests waiting on the event loop run between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Waits for work a log-in left running after its answer (a rehash at the configured cost). */
  async settle(): Promise<void> {
    while (this.rehashing.size > 0) await Promise.all(this.rehashing.values());
  }

  isAlive(session: SessionRow, now = this.clock.now()): boolean {
    return session.revokedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now;
  }

  /**
   * The credential check. In order: the address's throttle (a full window costs no bcrypt), the failure
   * counts' reservation (atomic in the store, so a burst gets at most the thresholds compared), then one
   * bcrypt whatever happens: the account's hash, or the dummy for an unknown name or a refused reservation.
   * Every refusal is the same `InvalidCredentials`; the audit says which it was.
   */
  private async checkCredentials(
    username: string,
    password: string,
    roles: readonly Role[] | undefined,
    ctx: RequestContext,
  ): Promise<AccountRow> {
    let window: number | undefined;
    try {
      window = await this.throttle.reserve(ctx);
    } catch (err) {
      if (err instanceof Throttled) {
        // One audit row per address and window, however many attempts it refuses.
        await this.audit.tally(ctx, { event: 'login', outcome: 'failed', username: null, detail: 'throttled' }, `throttled ${ctx.clientIp} ${err.windowStart}`);
      }
      throw err;
    }
    const key = usernameKey(username);
    const account = await this.store.findAccountByUsernameKey(key);
    const attempt: LoginAttempt = { usernameKey: key, clientIp: ctx.clientIp ?? '', accountId: account?.id ?? null };
    const slot = `${key}\n${attempt.clientIp}`;
    const reserve = () =>
      this.store.reserveLoginAttempt(attempt, this.clock.now(), {
        addressThreshold: this.settings.lockoutThreshold,
        accountThreshold: this.settings.lockoutAccountThreshold,
        windowMs: this.settings.lockoutMinutes * 60_000,
      });
    let reservation = await reserve();
    // Refused while other checks of the same name and address are still running (an application logging
    // one account in several times at once): their reservations may be all that fills the count. Once they
    // conclude (a good one clears the count) the attempt asks again; a count of real failures still refuses.
    // Checks in this process are awaited; those of other processes are asked after, for a few seconds.
    const giveUpAt = Date.now() + BUSY_WAIT_MS;
    while (!reservation.granted) {
      const pending = this.checking.get(slot);
      if (pending?.size) await Promise.all(pending);
      else if (reservation.busy && Date.now() < giveUpAt) await delay(BUSY_POLL_MS);
      else break;
      reservation = await reserve();
    }
    if (!reservation.granted) return this.refuseLocked(username, key, password, ctx);
    let concluded!: () => void;
    const running = new Promise<void>((resolve) => (concluded = resolve));
    const checks = this.checking.get(slot) ?? new Set<Promise<void>>();
    this.checking.set(slot, checks.add(running));
    try {
      return await this.compareReserved(username, password, roles, ctx, attempt, reservation, account, window);
    } finally {
      checks.delete(running);
      if (checks.size === 0 && this.checking.get(slot) === checks) this.checking.delete(slot);
      concluded();
    }
  }

  /** A refused reservation: the name is locked for this address, or the account is locked. */
  private async refuseLocked(username: string, key: string, password: string, ctx: RequestContext): Promise<never> {
    await this.hasher.spendCompare(password);
    // One audit row per name, address and minute, so a flood at a locked account adds no rows.
    const now = this.clock.now();
    const minute = now - (now % 60_000);
    await this.audit.tally(ctx, { event: 'login', outcome: 'failed', username, detail: 'locked' }, `locked ${key} ${ctx.clientIp} ${minute}`);
    throw new InvalidCredentials();
  }

  /** The compare, once the attempt holds its place in the failure counts. */
  private async compareReserved(
    username: string,
    password: string,
    roles: readonly Role[] | undefined,
    ctx: RequestContext,
    attempt: LoginAttempt,
    reservation: Reservation & { granted: true },
    account: AccountRow | undefined,
    window: number | undefined,
  ): Promise<AccountRow> {
    const failed = async (detail: string): Promise<never> => {
      await this.audit.record(ctx, { event: 'login', outcome: 'failed', username, detail });
      throw new InvalidCredentials();
    };
    if (!account) {
      await this.hasher.spendCompare(password);
      await this.store.concludeLoginFailure(attempt);
      return failed('unknown user');
    }
    if (!(await this.hasher.matches(password, account.passwordHash))) {
      await this.store.concludeLoginFailure(attempt);
      if (reservation.addressFailures === this.settings.lockoutThreshold) {
        await this.audit.record(ctx, { event: 'lockout', outcome: 'ok', username, detail: `${reservation.addressFailures} failures from ${ctx.clientIp ?? 'an unknown address'}` });
      }
      if (reservation.accountLockedUntil !== null) {
        await this.audit.record(ctx, { event: 'lockout', outcome: 'ok', username, detail: `account: ${reservation.accountFailures} failures from any address` });
      }
      return failed('bad password');
    }
    await this.store.clearLoginFailures(attempt, reservation);
    if (!account.isActive) return failed('inactive');
    if (roles && !roles.includes(account.role)) return failed(`role ${account.role}`);
    await this.throttle.release(ctx, window);
    this.rehashLater(account, password);
    return account;
  }

  /**
   * A hash made at another cost than the configured one is replaced after the answer, off its critical path,
   * unless the password changed meanwhile.
   */
  private rehashLater(account: AccountRow, password: string): void {
    if (!this.hasher.needsRehash(account.passwordHash) || this.rehashing.has(account.id)) return;
    const work = this.hasher
      .hash(password)
      .then((hash) => this.store.replacePasswordHash(account.id, account.passwordHash, hash, this.clock.now()))
      .then(
        () => undefined,
        () => undefined, // the next good log-in tries again
      )
      .finally(() => this.rehashing.delete(account.id));
    this.rehashing.set(account.id, work);
  }

  /** Whether `token` has the form of one this server issues (for a JWT: our header and signature). */
  private issuedHere(token: unknown): token is string {
    if (typeof token !== 'string') return false;
    try {
      this.mint.assertIssuable(token);
      return true;
    } catch {
      return false;
    }
  }

  private async liveByToken(token: unknown): Promise<LiveSession> {
    if (!this.issuedHere(token)) throw new InvalidToken();
    const found = await this.store.findToken(hashToken(token));
    return this.liveFrom(found, this.clock.now());
  }

  /** What `found` is at `now`: a live session, or the error that refuses its token. */
  private liveFrom(found: FoundToken | undefined, now: number): LiveSession {
    if (!found) throw new InvalidToken();
    if (!this.usable(found, now)) throw new TokenExpired();
    return this.liveOf(found);
  }

  private liveOf(found: FoundToken): LiveSession {
    return { session: found.session, token: found.token, account: publicAccount(found.account!) };
  }

  /** Whether a token found is good at `now`: its session alive, the token not retired, the account there. */
  private usable(found: FoundToken, now: number): boolean {
    const retired = found.token.retiredAt !== null && found.token.retiredAt <= now;
    return this.isAlive(found.session, now) && !retired && found.account !== undefined;
  }

  /** The session's new token, the presented one retired; undefined when the session has been revoked meanwhile. */
  private async rotate(live: LiveSession, graceSeconds: number): Promise<string | undefined> {
    const now = this.clock.now();
    const { session } = live;
    const token = this.mint.mint(live.token.kind, {
      username: session.username,
      sessionId: session.id,
      issuedAt: now,
      expiresAt: session.absoluteExpiresAt,
    });
    const idleExpiresAt = idleExpiryAt(session, now);
    const rotated = await this.store.rotateToken(
      live.token.hash,
      { hash: hashToken(token), sessionId: session.id, kind: live.token.kind, createdAt: now },
      now + graceSeconds * 1000,
      { lastSeenAt: now, idleExpiresAt },
    );
    if (!rotated) return undefined;
    live.session = { ...session, lastSeenAt: now, idleExpiresAt };
    return token;
  }
}
