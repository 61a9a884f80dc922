import { cliContext } from '../../src/core/context';
import { startTestServer, type TestServer } from '../support/server';
import { addAlice, ALICE, expectAnswer, StudioBrowser, studioForEachTest, type StudioResponse } from './studio-browser';

const MINUTE = 60_000;

describe('Crafter Studio door: login.json', () => {
  const studio = studioForEachTest();
  beforeEach(async () => {
    await studio.browser.ensureXsrf();
  });

  const post = (body: unknown): Promise<StudioResponse> => studio.browser.call('POST', 'login.json', { body });

  const aliveSessions = () => studio.server.core.sessions.list({ alive: true });

  it('answers a wrong password with 401 Unauthorized, sets no session cookie, and counts the failure', async () => {
    const res = await studio.browser.login(ALICE.username, 'wrong');
    expectAnswer(res, 401, 'unauthorized');
    expect(await studio.browser.cookie('JSESSIONID')).toBeUndefined();
    const [latest] = await studio.server.core.audit.recent(1);
    expect(latest).toMatchObject({ event: 'login', outcome: 'failed', username: 'alice', door: 'crafter', detail: 'bad password' });
  });

  it('answers an unknown user exactly as a wrong password', async () => {
    const unknown = await studio.browser.login('nobody', ALICE.password);
    const wrong = await studio.browser.login(ALICE.username, 'wrong');
    expectAnswer(unknown, 401, 'unauthorized');
    expect(unknown.text).toBe(wrong.text);
  });

  it('locks the address out after five wrong passwords: the answer of a wrong password even to the right one, until the lock runs out', async () => {
    for (let i = 0; i < 5; i++) expectAnswer(await studio.browser.login(ALICE.username, 'wrong'), 401, 'unauthorized');
    expectAnswer(await studio.browser.login(), 401, 'unauthorized');
    expect(await aliveSessions()).toHaveLength(0);
    studio.server.clock.advance(15 * MINUTE);
    expectAnswer(await studio.browser.login(), 200, 'login-ok');
  });

  it('answers an account an operator locked as a wrong password too', async () => {
    const alice = (await studio.server.core.accounts.findByUsername(ALICE.username))!;
    await studio.server.core.accounts.lock(alice.id, studio.server.clock.now() + 60 * MINUTE, cliContext);
    expectAnswer(await studio.browser.login(), 401, 'unauthorized');
  });

  it.each([
    ['a body that is not JSON', '{"username": "alice", "password": '],
    ['a JSON array', '["alice", "wonderland-1"]'],
    ['a JSON string', '"alice"'],
    ['an empty body', ''],
    ['a body that is not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ])('answers %s with 400 Bad Request', async (_what, body) => {
    expectAnswer(await post(body), 400, 'bad-request');
    expect(await aliveSessions()).toHaveLength(0);
  });

  it.each([
    ['the username is missing', { password: ALICE.password }, 'username'],
    ['the password is missing', { username: ALICE.username }, 'password'],
    ['the username is a number', { username: 42, password: ALICE.password }, 'username'],
    ['the password is an object', { username: ALICE.username, password: { value: ALICE.password } }, 'password'],
    ['the password is null', { username: ALICE.username, password: null }, 'password'],
    ['the password is over 72 bytes', { username: ALICE.username, password: 'p'.repeat(73) }, 'password'],
  ])('answers 400 Bad Request naming the field when %s', async (_what, body, field) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ message: 'Bad Request', field });
    expect(await aliveSessions()).toHaveLength(0);
  });

  it('ignores fields it does not know', async () => {
    expectAnswer(await post({ username: ALICE.username, password: ALICE.password, remember: true }), 200, 'login-ok');
  });

  it('answers a body over the JSON limit with 413 Payload Too Large', async () => {
    const res = await post({ username: ALICE.username, password: ALICE.password, padding: 'x'.repeat(studio.server.config.jsonLimit) });
    expectAnswer(res, 413, 'payload-too-large');
  });

  it('never echoes the password, in any answer', async () => {
    const secret = 'never-echo-this-secret';
    for (const res of [await studio.browser.login(ALICE.username, secret), await post({ username: 7, password: secret }), await post({ password: secret })]) {
      expect(res.text).not.toContain(secret);
    }
  });
});

describe('Crafter Studio door: login.json under the log-in rate limit', () => {
  let server: TestServer;
  afterEach(() => server.stop());

  it('answers log-ins past DUALGATE_LOGIN_RATE failures a minute with 429 and Retry-After, then takes them again the next minute', async () => {
    server = await startTestServer({ DUALGATE_LOGIN_RATE: '2' });
    await addAlice(server);
    const browser = new StudioBrowser(server.url);
    expectAnswer(await browser.login(ALICE.username, 'wrong'), 401, 'unauthorized');
    expectAnswer(await browser.login(), 200, 'login-ok'); // a good log-in is no failure
    expectAnswer(await browser.login(ALICE.username, 'wrong'), 401, 'unauthorized');
    const throttled = await browser.login();
    expectAnswer(throttled, 429, 'too-many-requests');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    server.clock.advance(60_000);
    expectAnswer(await browser.login(), 200, 'login-ok');
  });
});
