import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/server';

const COLLECTION_FILE = join(__dirname, '..', '..', 'fixtures', 'postman', 'dualgate.postman_collection.json');
const VARIABLES = ['baseUrl', 'username', 'password', 'integrator', 'integratorPassword', 'admin', 'adminPassword'];

/** The little of newman's API (it ships no types) this test uses. */
interface RunSummary {
  run: {
    stats: Record<'requests' | 'assertions' | 'prerequestScripts' | 'testScripts', { total: number; failed: number }>;
    failures: { error: { name: string; message: string; test?: string }; source?: { name?: string } }[];
    executions: { item: { id: string; name: string }; response?: { code: number } }[];
  };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const newman = require('newman') as {
  run(options: Record<string, unknown>, callback: (err: Error | null, summary: RunSummary) => void): unknown;
};

interface Item {
  id?: string;
  name: string;
  item?: Item[];
  request?: unknown;
}

/** Every request of the collection, depth first, as newman runs them. */
function requestsOf(items: Item[]): Item[] {
  return items.flatMap((item) => (item.item ? requestsOf(item.item) : [item]));
}

/** Runs the collection with newman against `server`, with these values for its variables (no reporter). */
function runCollection(values: Record<string, string>): Promise<RunSummary> {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        collection: COLLECTION_FILE,
        environment: { name: 'test', values: Object.entries(values).map(([key, value]) => ({ key, value, enabled: true })) },
        reporters: [],
        timeoutRequest: 10_000,
      },
      (err, summary) => (err ? reject(err) : resolve(summary)),
    );
  });
}

/** Each failure as "request: test: message", readable in a test failure. */
const failuresOf = (summary: RunSummary) =>
  summary.run.failures.map((f) => `${f.source?.name ?? '?'}: ${f.error.test ?? f.error.name}: ${f.error.message}`);

// Passwords with the characters JSON and XML bodies must escape: the collection escapes them once per body.
const ACCOUNTS = {
  username: 'pm-alice',
  password: 'pw <&> "1" \\ \'a\'',
  integrator: 'pm-integ',
  integratorPassword: 'integ & <pw>',
  admin: 'pm-root',
  adminPassword: 'root "pw" \\',
};

describe('the Postman collection', () => {
  const collection = JSON.parse(readFileSync(COLLECTION_FILE, 'utf8')) as {
    info: { schema: string };
    variable: { key: string }[];
    item: Item[];
  };
  const requests = requestsOf(collection.item);
  const TEST_COUNT = (readFileSync(COLLECTION_FILE, 'utf8').match(/pm\.test\(/g) ?? []).length;

  it('is a Collection v2.1 whose variables are the seven a consumer sets', () => {
    expect(collection.info.schema).toBe('https://schema.getpostman.com/json/collection/v2.1.0/collection.json');
    expect(collection.variable.map((v) => v.key)).toEqual(VARIABLES);
    expect(collection.item.map((folder) => folder.name)).toEqual([
      'Zato JSON',
      'Zato SOAP',
      'Zato admin services',
      'xWeb JSON',
      'xWeb SOAP',
      'Crafter Studio',
    ]);
    // Every request tests what it gets back.
    for (const request of requests) {
      const scripts = (request as { event?: { listen: string; script: { exec: string[] } }[] }).event ?? [];
      const tests = scripts.filter((e) => e.listen === 'test').flatMap((e) => e.script.exec).join('\n');
      expect([request.name, /pm\.test\(/.test(tests), /status\(/.test(tests)]).toEqual([request.name, true, true]);
    }
  });

  describe('run by newman against a live server', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
      await server.addUser(ACCOUNTS.username, ACCOUNTS.password, 'user', { firstName: 'Alice' });
      await server.addUser(ACCOUNTS.integrator, ACCOUNTS.integratorPassword, 'integrator');
      await server.addUser(ACCOUNTS.admin, ACCOUNTS.adminPassword, 'admin');
    });
    afterAll(() => server.stop());

    it('runs every request, and every test passes', async () => {
      const summary = await runCollection({ baseUrl: server.url, ...ACCOUNTS });
      expect(failuresOf(summary)).toEqual([]);
      expect(summary.run.executions.map((e) => e.item.name)).toEqual(requests.map((r) => r.name));
      expect(summary.run.stats.requests).toMatchObject({ total: requests.length, failed: 0 });
      expect(summary.run.stats.assertions.failed).toBe(0);
      // Every pm.test of the collection ran (a script that threw half-way would skip the rest).
      expect(summary.run.stats.assertions.total).toBe(TEST_COUNT);

      // What it did is what the server saw: the account it created is gone again, and the only sessions
      // left alive are the two integrators' (JSON and SOAP), which nothing logs out.
      expect((await server.core.accounts.list('postman-')).length).toBe(0);
      const alive = await server.core.sessions.list({ alive: true });
      expect(alive.map((s) => `${s.username}@${s.door}`).sort()).toEqual([
        `${ACCOUNTS.integrator}@xweb`,
        `${ACCOUNTS.integrator}@xweb`,
      ]);
    });

    it('fails, naming the requests, for a user the server does not know', async () => {
      // (An unknown name rather than a wrong password, which would lock the account after five tries.)
      const summary = await runCollection({ baseUrl: server.url, ...ACCOUNTS, username: 'nobody' });
      const failed = new Set(summary.run.failures.map((f) => f.source?.name));
      expect(failed).toEqual(
        new Set(['log-in', 'log-in with the token (renewal)', 'log-out', 'Zato 3 log-in', 'Zato 3 log-out', 'WebLogin', 'WebValidate', 'login', 'validate-session']),
      );
      // The server still answers, and the right password still works.
      expect(failuresOf(await runCollection({ baseUrl: server.url, ...ACCOUNTS }))).toEqual([]);
    });
  });
});
