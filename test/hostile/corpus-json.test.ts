import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  basicAuth,
  CORPUS_LIMITS,
  crafterJson,
  expectAnswer,
  expectStillServing,
  hostileFile,
  HOSTILE,
  ROOT,
  startHostileServer,
  STUDIO,
  success,
  victimsAlive,
  xwebJson,
  zatoJson,
  type AuditRowSeen,
  type DoorName,
  type Expected,
  type Hostile,
} from './harness';

/**
 * Every JSON item of the corpus (fixtures/hostile/json, and the generated ones below) to every JSON route that
 * reads a body: the seven Zato services, Zato 3's log-in, xWeb's four methods, Crafter's login. (Zato 3's
 * log-out and Crafter's logout and validate-session read no body; the token corpus covers them.)
 */

type Refusal = 'MalformedJson' | 'EmptyBody' | 'BodyTooLarge' | 'UnsupportedEncoding' | 'MalformedXml' | 'UnreadableBody';

interface Route {
  id: string;
  door: DoorName;
  path: string;
  /** xWeb's methods take `{"<Method>": {...}}`: an item marked `wrap` is put inside. */
  method?: string;
  admin?: boolean;
  /** What the `__proto__` item (which carries no field of its own) gets here. */
  withoutFields(): Expected;
}

const zatoService = (name: string, missing: string | null): Route => ({
  id: `zato ${name}`,
  door: 'zato',
  path: `/zato/json/zato.security.jwt.${name}`,
  admin: !['log-in', 'log-out'].includes(name),
  withoutFields: () =>
    missing
      ? zatoJson(400, `Missing element: ${missing}`)
      : success((answer) => {
          const body = JSON.parse(answer.text);
          expect(body.zato_env).toEqual({ details: '', result: 'ZATO_OK', cid: answer.headers['x-zato-cid'] });
          expect(body.zato_security_jwt_get_list_response.map((d: { username: string }) => d.username)).toEqual(['admin', 'alice', 'root', 'integ']);
        }),
});

const xwebMethod = (method: string, field: string): Route => ({
  id: `xweb ${method}`,
  door: 'xweb',
  path: `/xweb/JSON/${method}`,
  method,
  withoutFields: () => xwebJson(400, `${field} is required`),
});

const ROUTES: Route[] = [
  zatoService('log-in', 'username'),
  zatoService('log-out', 'token'),
  zatoService('create', 'name'),
  zatoService('edit', 'id'),
  zatoService('change-password', 'password1'),
  zatoService('delete', 'id'),
  zatoService('get-list', null),
  { id: 'zato /zato/jwt/log-in', door: 'zato', path: '/zato/jwt/log-in', withoutFields: () => zatoJson(400, 'Missing element: username') },
  xwebMethod('Authenticate', 'userName'),
  xwebMethod('WebLogin', 'userLoginPlain'),
  xwebMethod('WebValidate', 'authenticationToken'),
  xwebMethod('WebLogout', 'authenticationToken'),
  {
    id: 'crafter login.json',
    door: 'crafter',
    path: `${STUDIO}/login.json`,
    withoutFields: () => crafterJson(400, { message: 'Bad Request', field: 'username' }),
  },
];

/** The http layer's refusals, in each door's words. */
function refused(route: Route, code: Refusal, message: string): Expected {
  const status = code === 'BodyTooLarge' ? 413 : 400;
  switch (route.door) {
    case 'zato':
      return zatoJson(status, message);
    case 'xweb':
      return xwebJson(status, message);
    case 'crafter':
      if (code === 'BodyTooLarge') return crafterJson(413, { message: 'Payload Too Large' });
      if (code === 'UnsupportedEncoding') return crafterJson(415, { message: 'Unsupported Media Type' });
      return crafterJson(400, { message: 'Bad Request' });
  }
}

type Outcome = { refused: Refusal; message: string } | 'no-fields';

const NOT_AN_OBJECT = { refused: 'MalformedJson', message: 'The request body must be a JSON object' } as const;
const NOT_UTF8 = { refused: 'MalformedJson', message: 'The request body is not valid UTF-8' } as const;

/** What each file of fixtures/hostile/json must get. `wrap`: sent inside xWeb's `{"<Method>": ...}`. */
const FILES: Record<string, { outcome: Outcome; wrap?: boolean }> = {
  // JSON.parse makes `__proto__` an own key, so nothing is polluted and no field is found.
  'proto-keys.json': { outcome: 'no-fields', wrap: true },
  'top-level-array.json': { outcome: NOT_AN_OBJECT },
  'top-level-number.json': { outcome: NOT_AN_OBJECT },
  'top-level-string.json': { outcome: NOT_AN_OBJECT },
  'top-level-null.json': { outcome: NOT_AN_OBJECT },
  'truncated.json': { outcome: { refused: 'MalformedJson', message: 'The request body is not valid JSON' } },
  'invalid-utf8.json': { outcome: NOT_UTF8 },
  'utf-16le-bom.json': { outcome: NOT_UTF8 },
};

const LIMIT = Number(CORPUS_LIMITS.DUALGATE_JSON_LIMIT);
const TOO_LARGE = { refused: 'BodyTooLarge', message: `Request body larger than ${LIMIT} bytes` } as const;

interface Item {
  name: string;
  body: Buffer;
  headers?: Record<string, string>;
  outcome: Outcome;
  wrap?: boolean;
}

const files = readdirSync(join(HOSTILE, 'json')).sort();
const ITEMS: Item[] = [
  ...files.map((file) => ({ name: file, body: hostileFile('json', file), ...FILES[file]! })),
  {
    name: 'nesting 10,000 deep',
    body: Buffer.from(`{"username": ${'['.repeat(10_000)}${']'.repeat(10_000)}, "password": "x"}`),
    outcome: { refused: 'MalformedJson', message: 'JSON nested deeper than 32 levels' },
  },
  {
    name: 'nesting 33 deep, inside strings too',
    body: Buffer.from(`{"username": "[[[{{{", "x": ${'{"a":'.repeat(33)}1${'}'.repeat(33)}}`),
    outcome: { refused: 'MalformedJson', message: 'JSON nested deeper than 32 levels' },
  },
  { name: 'a body over the limit', body: Buffer.from(JSON.stringify({ username: 'a'.repeat(LIMIT), password: 'x' })), outcome: TOO_LARGE },
  {
    name: 'a gzip body that inflates past the limit (4 MiB from 4 KiB)',
    body: gzipSync(Buffer.from(`{"username": "${' '.repeat(4 * 1024 * 1024)}"}`)),
    headers: { 'Content-Encoding': 'gzip' },
    outcome: TOO_LARGE,
  },
  {
    name: 'a body that claims gzip and is not',
    body: Buffer.from('{"username": "ghost", "password": "x"}'),
    headers: { 'Content-Encoding': 'gzip' },
    outcome: { refused: 'UnreadableBody', message: 'The request body could not be read' },
  },
  {
    name: 'a content encoding nobody can undo',
    body: Buffer.from('{"username": "ghost", "password": "x"}'),
    headers: { 'Content-Encoding': 'compress' },
    outcome: { refused: 'UnsupportedEncoding', message: 'Unsupported content encoding' },
  },
  { name: 'an empty body', body: Buffer.alloc(0), outcome: { refused: 'EmptyBody', message: 'Empty request body' } },
];

describe('the JSON corpus, to every JSON route that reads a body', () => {
  let h: Hostile;
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  beforeAll(async () => {
    h = await startHostileServer();
  });
  afterAll(() => h.stop());

  it('has an expected outcome for every file of fixtures/hostile/json, and a file for every outcome', () => {
    expect(files).toEqual(Object.keys(FILES).sort());
  });

  describe.each(ROUTES.map((route) => [route.id, route] as const))('%s', (_id, route) => {
    it.each(ITEMS.map((item) => [item.name, item] as const))('%s', async (_name, item) => {
      const body = item.wrap && route.method ? Buffer.concat([Buffer.from(`{"${route.method}": `), item.body, Buffer.from('}')]) : item.body;
      const headers: Record<string, string> = { 'Content-Type': 'application/json', ...item.headers };
      // The admin services check the caller before they read the body; the caller here is a real admin.
      if (route.admin) headers.Authorization = basicAuth(ROOT.username, ROOT.password);
      if (route.door === 'xweb') headers.Authorization = `Bearer ${h.integratorToken}`;
      if (route.door === 'crafter') Object.assign(headers, { Cookie: 'XSRF-TOKEN=pair', 'X-XSRF-TOKEN': 'pair' });
      const wire = item.outcome === 'no-fields' ? route.withoutFields() : refused(route, item.outcome.refused, item.outcome.message);
      const adminCheck: AuditRowSeen[] = route.admin ? [{ event: 'login', outcome: 'ok', username: ROOT.username, door: 'zato', detail: 'no session' }] : [];
      await expectAnswer(h, { path: route.path, headers, body }, { ...wire, audit: adminCheck });
      await expectStillServing(h, route.door, 'json');
    });
  });

  it('pollutes no prototype', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).username).toBeUndefined();
  });

  it('leaves the victim sessions alive', async () => {
    expect(await victimsAlive(h)).toEqual([true, true, true]);
  });
});

describe('the JSON items too large for the default limit', () => {
  let h: Hostile;
  beforeAll(async () => {
    h = await startHostileServer({ DUALGATE_JSON_LIMIT: '16384' });
  });
  afterAll(() => h.stop());

  it('nesting 10,000 deep gets 413 at each door', async () => {
    const body = `{"username": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const message = 'Request body larger than 16384 bytes';
    await expectAnswer(h, { path: '/zato/json/zato.security.jwt.log-in', body }, zatoJson(413, message));
    await expectAnswer(h, { path: '/xweb/JSON/Authenticate', body }, xwebJson(413, message));
    await expectAnswer(
      h,
      { path: `${STUDIO}/login.json`, headers: { Cookie: 'XSRF-TOKEN=p', 'X-XSRF-TOKEN': 'p' }, body },
      crafterJson(413, { message: 'Payload Too Large' }),
    );
  });
});
