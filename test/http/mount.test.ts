import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { cliContext } from '../../src/core/context';
import { createLogger } from '../../src/logger';
import { createGateway, type Gateway } from '../../src/server';
import { ALICE, expectAnswer, StudioBrowser, setCookie } from '../crafter/studio-browser';
import { tempDir } from '../support/temp';
import { postJson, zatoClient } from '../zato/support';

/** dualgate mounted under a prefix in another Express application, as the README shows. */
describe('createGateway, mounted with parent.use("/auth", app)', () => {
  let gateway: Gateway;
  let server: Server;
  let origin: string;
  let url: string;

  beforeAll(async () => {
    gateway = await createGateway(
      { DUALGATE_DB: join(tempDir(), 'mounted.db'), DUALGATE_BCRYPT_COST: 4, DUALGATE_PURGE_INTERVAL: 0, DUALGATE_LOGIN_RATE: 0 },
      { log: createLogger('silent') },
    );
    await gateway.core.accounts.create({ ...ALICE, role: 'user' }, cliContext);
    const parent = express();
    parent.get('/', (_req, res) => {
      res.type('text/plain').send('the parent app');
    });
    parent.use('/auth', gateway.app);
    server = await new Promise<Server>((resolve) => {
      const s = parent.listen(0, '127.0.0.1', () => resolve(s));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    url = `${origin}/auth`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.close();
  });

  it('serves the Zato SOAP door to node-soap built from the prefixed WSDL, whose soap:address has the prefix', async () => {
    const zato = await zatoClient(url);
    const result = await zato.call('zato.security.jwt.log-in', { username: ALICE.username, password: ALICE.password });
    const token = result.item.token as string;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // node-soap posted where the WSDL's soap:address said.
    expect((zato.client as unknown as { lastEndpoint: string }).lastEndpoint).toBe(`${url}/zato/soap`);
    expect((await zato.call('zato.security.jwt.log-out', { token })).zato_env.result).toBe('ZATO_OK');
    expect(await gateway.core.sessions.list({ alive: true })).toEqual([]);
  });

  it('serves the JSON doors under the prefix, the seed path and the Zato 3 alias', async () => {
    const login = await postJson(url, '/zato/json/zato.security.jwt.log-in', { username: ALICE.username, password: ALICE.password });
    expect(login.status).toBe(200);
    const token = login.body.zato_security_jwt_log_in_response.token as string;
    const out = await postJson(url, '/zato/json/zato.security.jwt.log-out', { token });
    expect(out.status).toBe(200);
    expect(out.body.zato_env.result).toBe('ZATO_OK');
    expect(out.headers.get('x-zato-cid')).toBe(out.body.zato_env.cid);
    expect(out.headers.get('cache-control')).toBe('no-store');
    const again = await postJson(url, '/zato/json/zato.security.jwt.log-in', { username: ALICE.username, password: ALICE.password });
    const bare = await fetch(`${url}/zato/jwt/log-out`, { method: 'POST', headers: { Authorization: `Bearer ${again.body.zato_security_jwt_log_in_response.token}` } });
    expect([bare.status, await bare.text()]).toEqual([200, '{}']);
  });

  it("scopes the Crafter door's cookies to the prefixed path, and a browser keeps using them", async () => {
    const browser = new StudioBrowser(url);
    const login = await browser.login();
    expectAnswer(login, 200, 'login-ok');
    expect(setCookie(login, 'JSESSIONID')).toMatch(/; Path=\/auth\/studio;/);
    expectAnswer(await browser.validate(), 200, 'session-active');
  });

  it('names the prefixed address in OpenAPI servers, answers its own 404 under the prefix, and leaves the rest to the parent', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(doc.servers[0]!.url).toBe(url);
    const missing = await fetch(`${url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe('Not found');
    expect(await (await fetch(`${origin}/`)).text()).toBe('the parent app');
    expect((await fetch(`${origin}/zato/soap?wsdl`)).status).toBe(404);
  });

  it('refuses a setting it does not know, or a bad value, with the one-line error', async () => {
    await expect(createGateway({ DUALGATE_NOPE: 1 })).rejects.toThrow('invalid setting DUALGATE_NOPE in the gateway settings: unknown setting');
    await expect(createGateway({ DUALGATE_BCRYPT_COST: 'abc' })).rejects.toThrow('invalid setting DUALGATE_BCRYPT_COST: expected a whole number from 4 to 31 (got "abc")');
  });
});
