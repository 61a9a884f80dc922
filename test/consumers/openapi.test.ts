import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Config } from '../../src/config';
import type { Core } from '../../src/core';
import type { CookieWriter } from '../../src/doors/crafter/cookies';
import { studioOperations } from '../../src/doors/crafter/operations';
import { OPERATIONS } from '../../src/doors/xweb/operations';
import { SERVICES } from '../../src/doors/zato/services';
import { OPENAPI_FILE } from '../../src/http/openapi';
import { startTestServer, type TestServer } from '../support/server';

const ROOT = join(__dirname, '..', '..');
const DOC = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];
const fixture = (path: string) => JSON.parse(readFileSync(join(ROOT, 'fixtures', path), 'utf8'));

/** The document checked by @seriousme/openapi-schema-validator (ESM only, so in a Node process of its own). */
function validateOpenApi(doc: unknown): Promise<{ valid: boolean; errors?: unknown; version?: string }> {
  const script = `import { Validator } from '@seriousme/openapi-schema-validator';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const validator = new Validator();
const result = await validator.validate(JSON.parse(input));
process.stdout.write(JSON.stringify({ ...result, version: validator.version }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`validator exited ${code}: ${err}`))));
    child.stdin.end(JSON.stringify(doc));
  });
}

// ---------------------------------------------------------------------------------------------------------
// JSON Schema 2020-12 (OpenAPI 3.1's dialect) over the document's own schemas

const DOC_ID = 'urn:dualgate:openapi';
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema({ ...DOC, $id: DOC_ID });
const compiled = new Map<string, ValidateFunction>();

const pointer = (parts: (string | number)[]) => parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The validator of the schema at `parts` (a JSON pointer into the document, as path segments). */
function schemaAt(parts: (string | number)[]): ValidateFunction {
  const ref = `${DOC_ID}#/${pointer(parts)}`;
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  return validate;
}

function check(parts: (string | number)[], value: unknown): string[] {
  const validate = schemaAt(parts);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
}

/** Follows a `$ref` to `#/components/...`. */
function deref<T>(node: T | { $ref: string }): T {
  const target = (node as { $ref?: string }).$ref;
  if (target === undefined) return node as T;
  return target
    .slice(2)
    .split('/')
    .reduce((at: any, key) => at[key.replace(/~1/g, '/').replace(/~0/g, '~')], DOC) as T;
}

interface Operation {
  path: string;
  method: string;
  op: any;
}

const operations: Operation[] = Object.entries(DOC.paths as Record<string, any>).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })),
);

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    const result = await validateOpenApi(DOC);
    expect(result.errors).toBeUndefined();
    expect(result).toMatchObject({ valid: true, version: '3.1' });
  });

  it('documents every JSON route of every door, from the doors\' own tables', () => {
    const documented = operations.map(({ path, method }) => `${method.toUpperCase()} ${path}`).sort();
    const routes = [
      'GET /healthz',
      'GET /openapi.json',
      ...SERVICES.map((s) => `POST /zato/json/${s.name}`),
      'POST /zato/jwt/log-in',
      'POST /zato/jwt/log-out',
      ...OPERATIONS.flatMap((op) => [`POST /xweb/JSON/${op.name}`, ...(op.get ? [`GET /xweb/JSON/${op.name}`] : [])]),
      ...studioOperations({ sessions: {} } as Core, {} as Config, {} as CookieWriter).map(
        (op) => `${op.method} /studio/api/1/services/api/1/security/${op.file}`,
      ),
    ].sort();
    expect(documented).toEqual(routes);
    for (const { op } of operations) {
      expect(op.operationId).toEqual(expect.any(String));
      expect(op.security).toBeDefined();
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        expect(deref<any>(response).content?.['application/json']?.schema).toBeDefined();
        expect(Number(status)).toBeGreaterThanOrEqual(200);
      }
    }
  });

  it('has examples that its own schemas accept, request, response and parameter alike', () => {
    let count = 0;
    const problems: string[] = [];
    for (const { path, method, op } of operations) {
      const base = ['paths', path, method];
      for (const [type, media] of Object.entries((op.requestBody?.content ?? {}) as Record<string, any>)) {
        for (const [name, example] of Object.entries((media.examples ?? {}) as Record<string, any>)) {
          count++;
          problems.push(...check([...base, 'requestBody', 'content', type, 'schema'], example.value).map((p) => `${method} ${path} request ${name}: ${p}`));
        }
      }
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, any>)) {
          for (const [name, example] of Object.entries((media.examples ?? {}) as Record<string, any>)) {
            count++;
            problems.push(...check([...base, 'responses', status, 'content', type, 'schema'], example.value).map((p) => `${method} ${path} ${status} ${name}: ${p}`));
          }
        }
      }
      (op.parameters ?? []).forEach((param: any, i: number) => {
        for (const [name, example] of Object.entries((param.examples ?? {}) as Record<string, any>)) {
          count++;
          problems.push(...check([...base, 'parameters', i, 'schema'], example.value).map((p) => `${method} ${path} ${param.name} ${name}: ${p}`));
        }
      });
    }
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThan(40);
  });

  it('takes its seed examples verbatim from the seeds (fixtures)', () => {
    const example = (path: string, method: string, where: string[]) =>
      where.reduce((at: any, key) => at[key], DOC.paths[path][method]).value;
    const json = ['content', 'application/json', 'examples', 'seed'];
    const zatoLogIn = '/zato/json/zato.security.jwt.log-in';
    const zatoLogOut = '/zato/json/zato.security.jwt.log-out';
    expect(example(zatoLogIn, 'post', ['requestBody', ...json])).toEqual(fixture('zato/log-in.request.json'));
    expect(example(zatoLogIn, 'post', ['responses', '200', ...json])).toEqual(fixture('zato/log-in.response.json'));
    expect(example(zatoLogOut, 'post', ['requestBody', ...json])).toEqual(fixture('zato/log-out.request.json'));
    expect(example(zatoLogOut, 'post', ['responses', '200', ...json])).toEqual(fixture('zato/log-out.response.json'));
    expect(example('/xweb/JSON/WebLogout', 'post', ['requestBody', ...json])).toEqual(fixture('xweb/seed-WebLogout.json'));
    expect(example('/xweb/JSON/WebLogout', 'get', ['parameters', '0', 'examples', 'seed'])).toBe(fixture('xweb/seed-WebLogout.json').WebLogout.authenticationToken);
    expect(example('/studio/api/1/services/api/1/security/logout.json', 'post', ['responses', '200', ...json])).toEqual(fixture('crafter/logout-ok.json'));
  });
});

describe('GET /openapi.json', () => {
  it('serves the document with servers[0].url the address the client used, and the Crafter paths under the configured prefix', async () => {
    const server = await startTestServer({ DUALGATE_CRAFTER_PREFIX: '/cms/studio' });
    try {
      const res = await fetch(`${server.url}/openapi.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const served = (await res.json()) as any;
      expect(served.servers[0].url).toBe(server.url);
      expect(Object.keys(served.paths)).toContain('/cms/studio/api/1/services/api/1/security/login.json');
      expect(Object.keys(served.paths).filter((p) => p.startsWith('/studio/'))).toEqual([]);
      expect({ ...served, servers: DOC.servers, paths: DOC.paths }).toEqual(DOC);
      expect(await validateOpenApi(served)).toMatchObject({ valid: true });
    } finally {
      await server.stop();
    }
  });
});

describe('every documented route, called on a live server, answers what the document says', () => {
  let server: TestServer;
  /** `METHOD path status` of every checked answer. */
  const seen = new Set<string>();

  beforeAll(async () => {
    server = await startTestServer();
    await server.addUser('alice', 'alice-pw', 'user', { firstName: 'Alice' });
    await server.addUser('integ', 'integ-pw', 'integrator');
    await server.addUser('root', 'root-pw', 'admin');
    await server.addUser('locky', 'locky-pw', 'integrator');
  });
  afterAll(() => server.stop());

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  interface Call {
    query?: Record<string, string>;
    headers?: Record<string, string>;
    /** A JSON body, checked against the documented request schema first. */
    body?: unknown;
    /** A body sent as it is (bad input on purpose), not checked. */
    raw?: string;
  }

  /** Calls a documented route and checks the answer against the document: status, headers, body schema. */
  async function call(path: string, method: string, init: Call = {}): Promise<{ status: number; headers: Headers; body: any }> {
    const op = DOC.paths[path]?.[method];
    if (!op) throw new Error(`${method} ${path} is not documented`);
    if (init.body !== undefined) {
      expect(check(['paths', path, method, 'requestBody', 'content', 'application/json', 'schema'], init.body)).toEqual([]);
    }
    const url = new URL(server.url + path);
    for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
    const res = await fetch(url, {
      method: method.toUpperCase(),
      headers: { ...(init.body !== undefined || init.raw !== undefined ? { 'Content-Type': 'application/json' } : {}), ...init.headers },
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
    const text = await res.text();
    const where = `${method.toUpperCase()} ${path} → ${res.status} ${text.slice(0, 200)}`;
    const documented = op.responses[String(res.status)];
    if (!documented) throw new Error(`undocumented status: ${where}`);
    const response = deref<any>(documented);
    expect([where, res.headers.get('content-type')]).toEqual([where, 'application/json; charset=utf-8']);
    const body = JSON.parse(text);
    expect([where, check(['paths', path, method, 'responses', String(res.status), 'content', 'application/json', 'schema'], body)]).toEqual([where, []]);
    for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, any>)) {
      const spec = deref<any>(header);
      const value = res.headers.get(name);
      if (value === null) {
        expect([where, name, spec.required ? 'missing' : 'optional']).toEqual([where, name, 'optional']);
        continue;
      }
      const validate = ajv.compile(spec.schema);
      expect([where, name, value, validate(value)]).toEqual([where, name, value, true]);
    }
    seen.add(`${method.toUpperCase()} ${path} ${res.status}`);
    return { status: res.status, headers: res.headers, body };
  }

  const S = '/studio/api/1/services/api/1/security';
  const zato = (service: string) => `/zato/json/zato.security.jwt.${service}`;

  it('operations', async () => {
    expect((await call('/healthz', 'get')).status).toBe(200);
    const self = await call('/openapi.json', 'get');
    expect(self.body.servers[0].url).toBe(server.url);
  });

  it('Zato', async () => {
    const logIn = await call(zato('log-in'), 'post', { body: { username: 'alice', password: 'alice-pw' } });
    expect(logIn.status).toBe(200);
    const token = logIn.body.zato_security_jwt_log_in_response.token as string;
    expect((await call(zato('log-in'), 'post', { body: { username: 'alice', password: 'wrong' } })).status).toBe(401);
    expect((await call(zato('log-in'), 'post', { body: fixture('zato/log-in.request.json') })).body.zato_env.details).toBe('Missing element: username');
    expect((await call(zato('log-in'), 'post', { raw: JSON.stringify({ username: 'x'.repeat(20_000) }) })).status).toBe(413);
    expect((await call(zato('log-out'), 'post', { body: { token } })).status).toBe(200);
    expect((await call(zato('log-out'), 'post', { body: { token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' } })).status).toBe(400);

    const root = { Authorization: basic('root', 'root-pw') };
    const created = await call(zato('create'), 'post', { headers: root, body: { name: 'Sales', username: 'sam', password: 'sam-pw', ttl: 600 } });
    expect(created.status).toBe(200);
    const id = created.body.zato_security_jwt_create_response.id as number;
    expect((await call(zato('create'), 'post', { headers: root, body: { name: 'Sales', username: 'sam2' } })).status).toBe(409);
    expect((await call(zato('create'), 'post', { body: { name: 'X', username: 'x' } })).status).toBe(401);
    expect((await call(zato('create'), 'post', { headers: { Authorization: basic('alice', 'alice-pw') }, body: { name: 'X', username: 'x' } })).status).toBe(403);
    expect((await call(zato('edit'), 'post', { headers: root, body: { id, is_active: false } })).status).toBe(200);
    expect((await call(zato('edit'), 'post', { headers: root, body: { id: 9999, name: 'Nobody' } })).status).toBe(404);
    expect((await call(zato('change-password'), 'post', { headers: root, body: { name: 'Sales', password1: 'pw2', password2: 'pw2' } })).status).toBe(200);
    expect((await call(zato('change-password'), 'post', { headers: root, body: { name: 'Nobody', password1: 'pw2', password2: 'pw2' } })).status).toBe(404);
    const list = await call(zato('get-list'), 'post', { headers: root, body: {} });
    expect(list.body.zato_security_jwt_get_list_response).toContainEqual({ id, name: 'Sales', is_active: false, username: 'sam', ttl: 600 });
    expect((await call(zato('get-list'), 'post', { headers: root, body: { query: 'ali' } })).body.zato_security_jwt_get_list_response).toHaveLength(1);
    expect((await call(zato('delete'), 'post', { headers: root, body: { id } })).status).toBe(200);
    expect((await call(zato('delete'), 'post', { headers: root, body: { id } })).status).toBe(404);

    const zato3 = await call('/zato/jwt/log-in', 'post', { body: { username: 'alice', password: 'alice-pw' } });
    expect(zato3.headers.get('authorization')).toBe(zato3.body.token);
    expect((await call('/zato/jwt/log-in', 'post', { body: { username: 'alice', password: 'nope' } })).status).toBe(401);
    expect((await call('/zato/jwt/log-out', 'post', { headers: { Authorization: `Bearer ${zato3.body.token}` } })).status).toBe(200);
    expect((await call('/zato/jwt/log-out', 'post')).body).toEqual({ result: 'No JWT found' });
    expect((await call('/zato/jwt/log-out', 'post', { headers: { Authorization: 'Bearer not-a-token' } })).body.zato_env.details).toBe('Invalid token');
  });

  it('xWeb', async () => {
    const auth = await call('/xweb/JSON/Authenticate', 'post', { body: { Authenticate: { userName: 'integ', password: 'integ-pw' } } });
    expect(auth.headers.get('www-authenticate')).toBe(`Bearer token = ${auth.body.Token}`);
    const bearer = { Authorization: `Bearer ${auth.body.Token}` };
    expect((await call('/xweb/JSON/Authenticate', 'post', { body: { Authenticate: { userName: 'integ', password: 'nope' } } })).status).toBe(401);
    expect((await call('/xweb/JSON/Authenticate', 'post', { raw: '{"Authenticate": 1}' })).status).toBe(400);

    const login = await call('/xweb/JSON/WebLogin', 'post', { headers: bearer, body: { WebLogin: { userLoginPlain: 'alice', passwordPlain: 'alice-pw' } } });
    const customer = login.body.WebLoginResult as string;
    expect((await call('/xweb/JSON/WebLogin', 'post', { headers: bearer, body: { WebLogin: { userLoginPlain: 'alice', passwordPlain: 'nope' } } })).body.Message).toBe('Unable to login user.');
    expect((await call('/xweb/JSON/WebLogin', 'post', { body: { WebLogin: { userLoginPlain: 'alice', passwordPlain: 'alice-pw' } } })).status).toBe(401);

    const validated = await call('/xweb/JSON/WebValidate', 'get', { headers: bearer, query: { authenticationToken: customer } });
    expect(validated.body.WebValidateResult).toBe((await server.core.accounts.findByUsername('alice'))!.customerKey);
    expect((await call('/xweb/JSON/WebValidate', 'post', { headers: { Authorization: basic('integ', 'integ-pw') }, body: { WebValidate: { authenticationToken: customer } } })).body).toEqual(validated.body);
    expect((await call('/xweb/JSON/WebValidate', 'get', { headers: { Authorization: 'Bearer 00000000-0000-0000-0000-000000000000' }, query: { authenticationToken: customer } })).status).toBe(401);
    expect((await call('/xweb/JSON/WebValidate', 'post', { headers: bearer, raw: '{"WebValidate": {}}' })).status).toBe(400);
    expect((await call('/xweb/JSON/WebLogout', 'post', { headers: bearer, body: { WebLogout: { authenticationToken: customer } } })).body).toEqual({});
    expect((await call('/xweb/JSON/WebLogout', 'get', { headers: bearer, query: { authenticationToken: customer } })).body).toEqual({});
    expect((await call('/xweb/JSON/WebValidate', 'get', { headers: bearer, query: { authenticationToken: customer } })).body).toEqual({ WebValidateResult: '00000000-0000-0000-0000-000000000000' });
    expect((await call('/xweb/JSON/WebLogout', 'post', { headers: bearer, raw: JSON.stringify({ WebLogout: { authenticationToken: 'x'.repeat(20_000) } }) })).status).toBe(413);
  });

  it('Crafter Studio', async () => {
    const inactive = await call(`${S}/validate-session.json`, 'get');
    expect(inactive.body).toEqual(fixture('crafter/session-inactive.json'));
    const xsrf = /XSRF-TOKEN=([^;]+)/.exec(inactive.headers.get('set-cookie') ?? '')![1]!;
    expect((await call(`${S}/login.json`, 'post', { headers: { Cookie: `XSRF-TOKEN=${xsrf}` }, body: { username: 'alice', password: 'alice-pw' } })).status).toBe(403);
    const pair = { Cookie: `XSRF-TOKEN=${xsrf}`, 'X-XSRF-TOKEN': xsrf };
    expect((await call(`${S}/login.json`, 'post', { headers: pair, body: { username: 'alice', password: 'nope' } })).body).toEqual(fixture('crafter/unauthorized.json'));
    expect((await call(`${S}/login.json`, 'post', { headers: pair, raw: JSON.stringify({ username: 'alice' }) })).body).toEqual({ message: 'Bad Request', field: 'password' });
    expect((await call(`${S}/login.json`, 'post', { headers: pair, raw: 'x'.repeat(20_000) })).status).toBe(413);
    const login = await call(`${S}/login.json`, 'post', { headers: pair, body: { username: 'alice', password: 'alice-pw' } });
    const session = /JSESSIONID=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
    const withSession = { Cookie: `JSESSIONID=${session}` };
    expect((await call(`${S}/validate-session.json`, 'get', { headers: withSession })).body.active).toBe(true);
    expect((await call(`${S}/logout.json`, 'post', { headers: withSession })).body).toEqual(fixture('crafter/logout-ok.json'));
    expect((await call(`${S}/validate-session.json`, 'get', { headers: withSession })).body.active).toBe(false);
  });

  it('a locked account, at each door: the answer of wrong credentials', async () => {
    for (let i = 0; i < 5; i++) await call('/xweb/JSON/Authenticate', 'post', { body: { Authenticate: { userName: 'locky', password: 'wrong' } } });
    expect((await call('/xweb/JSON/Authenticate', 'post', { body: { Authenticate: { userName: 'locky', password: 'locky-pw' } } })).body.ExceptionType).toBe('InvalidCredentialsException');
    expect((await call(zato('log-in'), 'post', { body: { username: 'locky', password: 'locky-pw' } })).status).toBe(401);
    const pair = { Cookie: 'XSRF-TOKEN=pick-any', 'X-XSRF-TOKEN': 'pick-any' };
    expect((await call(`${S}/login.json`, 'post', { headers: pair, body: { username: 'locky', password: 'locky-pw' } })).body).toEqual(fixture('crafter/unauthorized.json'));
  });

  it('the admin services with a Bearer token of an admin', async () => {
    const token = (await call(zato('log-in'), 'post', { body: { username: 'root', password: 'root-pw' } })).body.zato_security_jwt_log_in_response.token as string;
    expect((await call(zato('get-list'), 'post', { headers: { Authorization: `Bearer ${token}` }, body: {} })).status).toBe(200);
  });

  it('covered every documented operation with a success', () => {
    const succeeded = new Set([...seen].filter((s) => /\s2\d\d$/.test(s)).map((s) => s.replace(/\s\d+$/, '')));
    expect(operations.map(({ path, method }) => `${method.toUpperCase()} ${path}`).filter((o) => !succeeded.has(o))).toEqual([]);
    expect(seen.size).toBeGreaterThanOrEqual(40);
  });
});
