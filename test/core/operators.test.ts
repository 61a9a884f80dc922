import { NotFound, TokenExpired } from '../../src/core';
import { cliContext, type RequestContext } from '../../src/core/context';
import { openTestCore, type TestCore } from '../support/core';

const ctx: RequestContext = { cid: null, door: 'test', clientIp: '127.0.0.1' };
const operator: RequestContext = { cid: null, door: 'console', actor: 'root' };
const MINUTE = 60_000;

describe('what operators need of the core', () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await openTestCore({ idleTtl: 600 });
    await t.core.accounts.create({ username: 'ann', password: 'secret-1' }, cliContext);
    await t.core.accounts.create({ username: 'bob', password: 'secret-2' }, cliContext);
  });
  afterEach(() => t.core.close());

  const login = (username: string, password: string, kind: 'jwt' | 'guid' | 'cookie' = 'jwt') =>
    t.core.sessions.login(username, password, { kind }, { ...ctx, door: kind });
  const idOf = async (username: string) => (await t.core.accounts.findByUsername(username))!.id;

  describe('sessions.revokeAllOf', () => {
    it('ends every live session of one account, whatever door opened it, each with its audit row', async () => {
      const ann = [await login('ann', 'secret-1', 'jwt'), await login('ann', 'secret-1', 'guid'), await login('ann', 'secret-1', 'cookie')];
      const bob = await login('bob', 'secret-2');

      const ended = await t.core.sessions.revokeAllOf(await idOf('ann'), 'ended from the console', operator);
      expect(ended.sort()).toEqual(ann.map((i) => i.session.id).sort());
      for (const issued of ann) await expect(t.core.sessions.verify(issued.token)).rejects.toBeInstanceOf(TokenExpired);
      await expect(t.core.sessions.verify(bob.token)).resolves.toBeDefined();
      const rows = (await t.core.audit.recent(20)).filter((r) => r.event === 'revoke');
      expect(rows.map((r) => [r.username, r.sessionId, r.door, r.detail]).sort()).toEqual(
        ann.map((i) => ['ann', i.session.id, 'console', 'ended from the console by root']).sort(),
      );
      expect(await t.core.sessions.revokeAllOf(await idOf('ann'), 'again', operator)).toEqual([]);
    });

    it('leaves sessions that merely expired as they are: their history says expired, not revoked', async () => {
      const old = await login('ann', 'secret-1');
      t.clock.advance(11 * MINUTE);
      const live = await login('ann', 'secret-1');
      expect(await t.core.sessions.revokeAllOf(await idOf('ann'), 'x', operator)).toEqual([live.session.id]);
      const db = t.raw();
      const revokedAt = db.prepare('SELECT revoked_at FROM sessions WHERE id = ?').pluck().get(old.session.id);
      db.close();
      expect(revokedAt).toBeNull();
    });

    it('answers NotFound for an unknown account', async () => {
      await expect(t.core.sessions.revokeAllOf(999, 'x', operator)).rejects.toBeInstanceOf(NotFound);
      await expect(t.core.sessions.revokeAllOf(Number.NaN, 'x', operator)).rejects.toBeInstanceOf(NotFound);
    });
  });

  describe('audit.counts', () => {
    it('counts audit rows per minute, event and outcome from a given time on', async () => {
      // The next whole five minutes after the set-up's own rows.
      const start = t.clock.now() - (t.clock.now() % (5 * MINUTE)) + 5 * MINUTE;
      t.clock.set(start + 1_000);
      const { token } = await login('ann', 'secret-1');
      await login('ann', 'wrong').catch(() => undefined);
      await login('ann', 'wrong').catch(() => undefined);
      t.clock.set(start + 2 * MINUTE + 59_999);
      await t.core.sessions.logout(token, ctx);
      await login('bob', 'secret-2');

      expect(await t.core.audit.counts(start)).toEqual([
        { bucket: start, event: 'login', outcome: 'failed', count: 2 },
        { bucket: start, event: 'login', outcome: 'ok', count: 1 },
        { bucket: start + 2 * MINUTE, event: 'login', outcome: 'ok', count: 1 },
        { bucket: start + 2 * MINUTE, event: 'logout', outcome: 'ok', count: 1 },
      ]);
      expect(await t.core.audit.counts(start + MINUTE)).toHaveLength(2);
      // Any bucket size: the start was on a whole five minutes, so all of it falls in one bucket.
      expect(await t.core.audit.counts(start, 5 * MINUTE)).toEqual([
        { bucket: start, event: 'login', outcome: 'failed', count: 2 },
        { bucket: start, event: 'login', outcome: 'ok', count: 2 },
        { bucket: start, event: 'logout', outcome: 'ok', count: 1 },
      ]);
    });
  });

  describe('audit.activity', () => {
    it("counts the chart's series per minute over the last minutes, the current one last", async () => {
      const start = t.clock.now() - (t.clock.now() % MINUTE) + 10 * MINUTE;
      t.clock.set(start + 1_000);
      const { token } = await login('ann', 'secret-1');
      await login('ann', 'wrong').catch(() => undefined);
      t.clock.set(start + 2 * MINUTE + 5_000);
      await t.core.sessions.logout(token, ctx);

      const activity = await t.core.audit.activity(t.clock.now(), 3);
      expect(activity).toEqual({
        now: start + 2 * MINUTE + 5_000,
        from: start,
        bucketMs: MINUTE,
        buckets: 3,
        series: { logins: [1, 0, 0], failures: [1, 0, 0], lockouts: [0, 0, 0], logouts: [0, 0, 1], revocations: [0, 0, 0] },
      });
      // A window that starts after those minutes sees none of them.
      expect((await t.core.audit.activity(start + 10 * MINUTE, 2)).series.logins).toEqual([0, 0]);
    });
  });
});
