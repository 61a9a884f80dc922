import bcrypt from 'bcrypt';
import jwt from 'jsonwebtoken';
import { InvalidCredentials, InvalidToken, TokenExpired, type Issued } from '../../src/core';
import { cliContext, type RequestContext } from '../../src/core/context';
import { hashToken } from '../../src/core/tokens';
import { openTestCore, type TestCore } from '../support/core';

const ctx: RequestContext = { cid: 'K000000000000000000000000000000000000001', door: 'test', clientIp: '127.0.0.1' };
const HOUR = 3_600_000;

describe('sessions and tokens', () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await openTestCore();
    await t.core.accounts.create({ username: 'ann', password: 'secret-1', role: 'user' }, cliContext);
  });
  afterEach(() => t.core.close());

  const login = (kind: 'jwt' | 'guid' | 'cookie' = 'jwt', password = 'secret-1'): Promise<Issued> =>
    t.core.sessions.login('ann', password, { kind }, ctx);

  describe('log-in', () => {
    it('issues a token of each kind, stored only as its SHA-256', async () => {
      const tokens = [await login('jwt'), await login('guid'), await login('cookie')].map((i) => i.token);
      expect(tokens[1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(tokens[2]).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const db = t.raw();
      const stored = db.prepare('SELECT hash FROM tokens').all() as { hash: Buffer }[];
      const everything = JSON.stringify(db.prepare('SELECT * FROM sessions').all()) + JSON.stringify(db.prepare('SELECT * FROM audit').all());
      db.close();
      expect(stored.map((r) => r.hash.toString('hex')).sort()).toEqual(tokens.map((tk) => hashToken(tk).toString('hex')).sort());
      for (const token of tokens) expect(everything).not.toContain(token);
      expect(everything).not.toContain('secret-1');
    });

    it('signs JWTs with HS256 and the claims sub, sid, jti, iat and exp (the absolute expiry)', async () => {
      const { token, session } = await login('jwt');
      const decoded = jwt.decode(token, { complete: true })!;
      expect(decoded.header).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(decoded.payload).toEqual({
        sub: 'ann',
        sid: session.id,
        jti: expect.stringMatching(/^[0-9a-f]{32}$/),
        iat: Math.floor(t.clock.now() / 1000),
        exp: Math.ceil(session.absoluteExpiresAt / 1000),
      });
      expect(session.absoluteExpiresAt - session.createdAt).toBe(43_200_000);
    });

    it('answers an unknown user and a wrong password with the same error, spending a bcrypt compare on both', async () => {
      const compare = jest.spyOn(bcrypt, 'compare');
      const unknown = await t.core.sessions.login('nobody', 'secret-1', { kind: 'jwt' }, ctx).catch((e: unknown) => e);
      expect(compare).toHaveBeenCalledTimes(1);
      const wrong = await login('jwt', 'wrong').catch((e: unknown) => e);
      expect(compare).toHaveBeenCalledTimes(2);
      compare.mockRestore();
      expect(unknown).toBeInstanceOf(InvalidCredentials);
      expect(wrong).toBeInstanceOf(InvalidCredentials);
      expect((unknown as Error).message).toBe((wrong as Error).message);
    });

    it('answers an inactive account like a wrong password', async () => {
      const ann = (await t.core.accounts.findByUsername('ann'))!;
      await t.core.accounts.edit(ann.id, { isActive: false }, cliContext);
      await expect(login()).rejects.toBeInstanceOf(InvalidCredentials);
    });

    it('refuses a role the door does not admit with the same error', async () => {
      await expect(t.core.sessions.login('ann', 'secret-1', { kind: 'guid', roles: ['integrator'] }, ctx)).rejects.toBeInstanceOf(
        InvalidCredentials,
      );
    });

    it('locks the address out after 5 consecutive failures, with the same error even for the right password, for 15 minutes', async () => {
      for (let i = 0; i < 5; i++) await expect(login('jwt', 'wrong')).rejects.toBeInstanceOf(InvalidCredentials);
      await expect(login('jwt', 'secret-1')).rejects.toBeInstanceOf(InvalidCredentials);
      t.clock.advance(15 * 60_000 - 1);
      await expect(login('jwt', 'secret-1')).rejects.toBeInstanceOf(InvalidCredentials);
      t.clock.advance(1);
      await expect(login('jwt', 'secret-1')).resolves.toBeDefined();
      const audit = await t.core.audit.recent(20);
      expect(audit.filter((a) => a.event === 'lockout')).toHaveLength(1);
    });

    it('resets the failure count on a success', async () => {
      for (let i = 0; i < 4; i++) await expect(login('jwt', 'wrong')).rejects.toBeInstanceOf(InvalidCredentials);
      await login();
      for (let i = 0; i < 4; i++) await expect(login('jwt', 'wrong')).rejects.toBeInstanceOf(InvalidCredentials);
      await expect(login()).resolves.toBeDefined();
    });

    it('counts afresh once a lock has run out', async () => {
      for (let i = 0; i < 5; i++) await login('jwt', 'wrong').catch(() => undefined);
      t.clock.advance(15 * 60_000);
      await expect(login('jwt', 'wrong')).rejects.toBeInstanceOf(InvalidCredentials);
      await expect(login()).resolves.toBeDefined();
    });

    it('renews the given session instead of opening another when it is the same account\'s', async () => {
      const first = await login('jwt');
      const again = await t.core.sessions.login('ann', 'secret-1', { kind: 'jwt', renewToken: first.token }, ctx);
      expect(again.session.id).toBe(first.session.id);
      await expect(t.core.sessions.verify(first.token)).rejects.toBeInstanceOf(TokenExpired);
      await expect(t.core.sessions.verify(again.token)).resolves.toBeDefined();
    });
  });

  describe('verify', () => {
    it('answers the live session and its account', async () => {
      const { token, session } = await login('guid');
      const live = await t.core.sessions.verify(token);
      expect(live.session.id).toBe(session.id);
      expect(live.account.username).toBe('ann');
    });

    it.each(['jwt', 'guid', 'cookie'] as const)('refuses a %s token never issued, and a truncated one, as InvalidToken', async (kind) => {
      const { token } = await login(kind);
      const forged = { jwt: jwt.sign({ sub: 'ann', sid: 'x', jti: 'y' }, 'a'.repeat(40)), guid: '1b4e28ba-2fa1-4d2b-883f-0016d3cca427', cookie: 'A'.repeat(43) }[kind];
      await expect(t.core.sessions.verify(forged)).rejects.toBeInstanceOf(InvalidToken);
      await expect(t.core.sessions.verify(token.slice(0, -3))).rejects.toBeInstanceOf(InvalidToken);
    });

    it('refuses a JWT signed with another secret, or with alg none, even with a real session id', async () => {
      const { token } = await login('jwt');
      const claims = jwt.decode(token) as Record<string, unknown>;
      const resigned = jwt.sign(claims, 'another-secret-another-secret-another-secret');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const unsigned = `${header}.${token.split('.')[1]}.`;
      await expect(t.core.sessions.verify(resigned)).rejects.toBeInstanceOf(InvalidToken);
      await expect(t.core.sessions.verify(unsigned)).rejects.toBeInstanceOf(InvalidToken);
      await expect(t.core.sessions.logout(unsigned, ctx)).rejects.toBeInstanceOf(InvalidToken);
    });

    it('refuses what is not a string', async () => {
      for (const value of [undefined, null, 42, {}, ['x']]) {
        await expect(t.core.sessions.verify(value)).rejects.toBeInstanceOf(InvalidToken);
      }
    });

    it('expires a session left idle past its TTL and slides the expiry on each use', async () => {
      const { token } = await login('guid');
      t.clock.advance(HOUR - 1000);
      await t.core.sessions.verify(token);
      t.clock.advance(HOUR - 1000);
      await t.core.sessions.verify(token);
      t.clock.advance(HOUR);
      await expect(t.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    });

    it('ends a session at its absolute expiry however busy it is', async () => {
      const { token } = await login('cookie');
      for (let elapsed = 0; elapsed < 12 * HOUR - 30 * 60_000; elapsed += 30 * 60_000) {
        t.clock.advance(30 * 60_000);
        await t.core.sessions.verify(token);
      }
      t.clock.advance(30 * 60_000);
      await expect(t.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    });

    it('never sets the idle expiry past the absolute expiry, and then only records when the session was seen', async () => {
      // An xWeb integrator's session under `absolute` expiration: idle timeout and maximum age alike.
      const { token, session } = await t.core.sessions.login('ann', 'secret-1', { kind: 'guid', idleTtl: 1200, maxAge: 1200 }, ctx);
      const end = t.clock.now() + 1_200_000;
      expect(session).toMatchObject({ idleExpiresAt: end, absoluteExpiresAt: end });
      t.clock.advance(600_000);
      expect((await t.core.sessions.verify(token)).session).toMatchObject({ lastSeenAt: t.clock.now(), idleExpiresAt: end });
      const db = t.raw();
      const stored = db.prepare('SELECT last_seen_at, idle_expires_at FROM sessions WHERE id = ?').get(session.id);
      db.close();
      expect(stored).toEqual({ last_seen_at: t.clock.now(), idle_expires_at: end });
      t.clock.advance(600_000);
      await expect(t.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    });

    it("uses the account's own TTL over the default and the door's", async () => {
      const ann = (await t.core.accounts.findByUsername('ann'))!;
      await t.core.accounts.edit(ann.id, { ttl: 60 }, cliContext);
      const { token } = await t.core.sessions.login('ann', 'secret-1', { kind: 'guid', idleTtl: 1200 }, ctx);
      t.clock.advance(60_000);
      await expect(t.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    });
  });

  describe('verifyAdmitted (a caller and the token it asks about, in one store call)', () => {
    const lastSeen = (id: string) => {
      const db = t.raw();
      const row = db.prepare('SELECT last_seen_at FROM sessions WHERE id = ?').get(id) as { last_seen_at: number };
      db.close();
      return row.last_seen_at;
    };
    const guid = (live: { token: { kind: string } }) => live.token.kind === 'guid';

    it('checks and uses both, as verify does each, and answers the token\'s refusal without throwing it', async () => {
      const caller = await login('guid');
      const customer = await login('cookie');
      const ended = await login('cookie');
      await t.core.sessions.logout(ended.token, ctx);
      t.clock.advance(5000);
      const both = await t.core.sessions.verifyAdmitted(caller.token, guid, customer.token);
      expect(both.caller.session).toMatchObject({ id: caller.session.id, lastSeenAt: t.clock.now(), idleExpiresAt: t.clock.now() + HOUR });
      expect(both.token).toMatchObject({ session: { id: customer.session.id, lastSeenAt: t.clock.now() }, account: { username: 'ann' } });
      expect(lastSeen(caller.session.id)).toBe(t.clock.now());
      expect(lastSeen(customer.session.id)).toBe(t.clock.now());
      expect((await t.core.sessions.verifyAdmitted(caller.token, guid, ended.token)).token).toBeInstanceOf(TokenExpired);
      expect((await t.core.sessions.verifyAdmitted(caller.token, guid, 'not a token')).token).toBeInstanceOf(InvalidToken);
      expect((await t.core.sessions.verifyAdmitted(caller.token, guid, undefined)).token).toBeInstanceOf(InvalidToken);
    });

    it("throws the caller's refusal, and then neither reads nor uses the token", async () => {
      const caller = await login('guid');
      const customer = await login('cookie');
      t.clock.advance(5000);
      // Not admitted: the caller's own use is still recorded, as verify records it; the customer's is not.
      await expect(t.core.sessions.verifyAdmitted(caller.token, () => false, customer.token)).rejects.toBeInstanceOf(InvalidToken);
      expect(lastSeen(caller.session.id)).toBe(t.clock.now());
      expect(lastSeen(customer.session.id)).toBe(customer.session.lastSeenAt);
      await expect(t.core.sessions.verifyAdmitted('unknown', guid, customer.token)).rejects.toBeInstanceOf(InvalidToken);
      await t.core.sessions.logout(caller.token, ctx);
      await expect(t.core.sessions.verifyAdmitted(caller.token, guid, customer.token)).rejects.toBeInstanceOf(TokenExpired);
      await expect(t.core.sessions.verifyAdmitted(customer.token, guid, customer.token)).rejects.toBeInstanceOf(InvalidToken);
      expect(lastSeen(customer.session.id)).toBe(t.clock.now());
    });
  });

  describe('renew', () => {
    it('gives a new token for the same session and kills the old one', async () => {
      const first = await login('jwt');
      t.clock.advance(1000);
      const renewed = await t.core.sessions.renew(first.token, ctx);
      expect(renewed.session.id).toBe(first.session.id);
      expect(renewed.token).not.toBe(first.token);
      await expect(t.core.sessions.verify(first.token)).rejects.toBeInstanceOf(TokenExpired);
      await expect(t.core.sessions.verify(renewed.token)).resolves.toBeDefined();
    });

    it('keeps the old token alive through a grace period when asked', async () => {
      const first = await login('guid');
      const renewed = await t.core.sessions.renew(first.token, ctx, 30);
      await expect(t.core.sessions.verify(first.token)).resolves.toBeDefined();
      t.clock.advance(30_000);
      await expect(t.core.sessions.verify(first.token)).rejects.toBeInstanceOf(TokenExpired);
      await expect(t.core.sessions.verify(renewed.token)).resolves.toBeDefined();
    });

    it('refuses a dead token', async () => {
      const first = await login('guid');
      await t.core.sessions.logout(first.token, ctx);
      await expect(t.core.sessions.renew(first.token, ctx)).rejects.toBeInstanceOf(TokenExpired);
    });

    it('renews a session verified earlier in the call without a second lookup, unless it was logged out since', async () => {
      const first = await login('guid');
      const live = await t.core.sessions.verify(first.token);
      const renewed = await t.core.sessions.renewVerified(live, ctx, 30);
      expect(renewed.session.id).toBe(first.session.id);
      await expect(t.core.sessions.verify(renewed.token)).resolves.toBeDefined();

      const again = await t.core.sessions.verify(renewed.token);
      await t.core.sessions.logout(renewed.token, ctx);
      await expect(t.core.sessions.renewVerified(again, ctx)).rejects.toBeInstanceOf(TokenExpired);
      const audit = await t.core.audit.recent(10);
      expect(audit.filter((row) => row.event === 'renew')).toHaveLength(1);
      // Nothing was added to the ended session: its tokens are the two from before, both dead.
      const db = t.raw();
      const tokens = db.prepare('SELECT count(*) AS n FROM tokens WHERE session_id = ?').get(first.session.id) as { n: number };
      db.close();
      expect(tokens.n).toBe(2);
    });
  });

  describe('logout', () => {
    it('ends the whole session, every token of it, and succeeds again on the dead token', async () => {
      const first = await login('jwt');
      const renewed = await t.core.sessions.renew(first.token, ctx, 30);
      await expect(t.core.sessions.logout(renewed.token, ctx)).resolves.toEqual({ ended: true });
      await expect(t.core.sessions.verify(first.token)).rejects.toBeInstanceOf(TokenExpired);
      await expect(t.core.sessions.verify(renewed.token)).rejects.toBeInstanceOf(TokenExpired);
      await expect(t.core.sessions.logout(renewed.token, ctx)).resolves.toEqual({ ended: false });
      await expect(t.core.sessions.logout(first.token, ctx)).resolves.toEqual({ ended: false });
      const logouts = (await t.core.audit.recent(10)).filter((r) => r.event === 'logout');
      expect(logouts.map((r) => [r.username, r.sessionId, r.detail])).toEqual([
        ['ann', first.session.id, 'already ended'],
        ['ann', first.session.id, 'already ended'],
        ['ann', first.session.id, null],
      ]);
    });

    it('succeeds on an expired session and refuses a token never issued', async () => {
      const { token } = await login('cookie');
      t.clock.advance(2 * HOUR);
      await expect(t.core.sessions.logout(token, ctx)).resolves.toEqual({ ended: true });
      await expect(t.core.sessions.logout('0f8fad5b-d9cb-469f-a165-70867728950e', ctx)).rejects.toBeInstanceOf(InvalidToken);
      await expect(t.core.sessions.logout('garbage', ctx)).rejects.toBeInstanceOf(InvalidToken);
    });

    it('ends a session of any kind, whichever door asks', async () => {
      for (const kind of ['jwt', 'guid', 'cookie'] as const) {
        const { token } = await login(kind);
        await t.core.sessions.logout(token, { ...ctx, door: 'elsewhere' });
        await expect(t.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
      }
    });
  });

  it('deleting an account ends its sessions; the dead tokens still log out cleanly', async () => {
    const { token } = await login('guid');
    const ann = (await t.core.accounts.findByUsername('ann'))!;
    await t.core.accounts.remove(ann.id, cliContext);
    await expect(t.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    await expect(t.core.sessions.logout(token, ctx)).resolves.toEqual({ ended: false });
  });

  it('purges sessions that ended more than the retention ago, and no others', async () => {
    const old = await login('guid');
    await t.core.sessions.logout(old.token, ctx);
    t.clock.advance(7 * 24 * HOUR + 1);
    const live = await login('guid');
    expect(await t.core.sessions.purge(1)).toBe(1);
    await expect(t.core.sessions.logout(old.token, ctx)).rejects.toBeInstanceOf(InvalidToken);
    await expect(t.core.sessions.verify(live.token)).resolves.toBeDefined();
  });

  it('audits log-ins, failures and log-outs with the cid, and never a secret', async () => {
    const { token } = await login('jwt');
    await login('jwt', 'wrong').catch(() => undefined);
    await t.core.sessions.logout(token, ctx);
    const rows = await t.core.audit.recent(10);
    expect(rows.map((r) => [r.event, r.outcome, r.detail])).toEqual([
      ['logout', 'ok', null],
      ['login', 'failed', 'bad password'],
      ['login', 'ok', null],
      ['account-create', 'ok', 'role user by cli'],
    ]);
    expect(rows[0]).toMatchObject({ cid: ctx.cid, username: 'ann', door: 'test', clientIp: '127.0.0.1' });
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('keeps the generated JWT secret in the database, so tokens outlive a restart', async () => {
    const { token } = await login('jwt');
    await t.core.close();
    const reopened = await openTestCore({}, { dbPath: t.dbPath, clock: t.clock });
    await expect(reopened.core.sessions.verify(token)).resolves.toBeDefined();
    t = reopened;
  });

  it('sees a log-out made through another connection to the same file at once', async () => {
    const other = await openTestCore({}, { dbPath: t.dbPath, clock: t.clock });
    const { token } = await login('jwt');
    await other.core.sessions.logout(token, ctx);
    await expect(t.core.sessions.verify(token)).rejects.toBeInstanceOf(TokenExpired);
    await other.core.close();
  });
});
