import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { runCli } from '../support/process';
import { startTestServer, tempDir, type TestServer } from '../support/server';
import { join } from 'node:path';

/** Temporary directories of this file, removed after its tests. */
const scratchDirs: string[] = [];
const scratch = (): string => {
  const dir = tempDir();
  scratchDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

const ZATO = '/zato/soap';
const XWEB = '/xweb/secure/netForumXML.asmx';
const CRAFTER_LOGIN = '/studio/api/1/services/api/1/security/login.json';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the headers given verbatim (fetch will not send a Host of our choosing). */
function send(server: TestServer, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const soapAddress = (wsdl: string) => /<soap:address\s+location="([^"]*)"/.exec(wsdl)?.[1];

/** Every address the server writes, as a client sending `headers` gets them. */
async function addressesSeen(server: TestServer, headers: Record<string, string>) {
  const fault = await send(
    server,
    'POST',
    XWEB,
    { ...headers, 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"http://www.avectra.com/2005/Authenticate"' },
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Authenticate xmlns="http://www.avectra.com/2005/">' +
      '<userName>nobody</userName><password>wrong</password></Authenticate></soap:Body></soap:Envelope>',
  );
  expect(fault.status).toBe(500);
  const crafter = await send(server, 'POST', CRAFTER_LOGIN, {
    ...headers,
    'Content-Type': 'application/json',
    Cookie: 'XSRF-TOKEN=x1',
    'X-XSRF-TOKEN': 'x1',
  }, JSON.stringify({ username: 'alice', password: 'alice-pw' }));
  expect(crafter.status).toBe(200);
  const consoleLogin = await send(server, 'POST', '/console/api/login', { ...headers, 'Content-Type': 'application/json' }, JSON.stringify({ username: 'root', password: 'root-pw' }));
  expect(consoleLogin.status).toBe(200);
  return {
    zatoWsdl: soapAddress((await send(server, 'GET', `${ZATO}?wsdl`, headers)).body),
    zatoPublicWsdl: soapAddress((await send(server, 'GET', '/public-api/zato.wsdl', headers)).body),
    xwebWsdl: soapAddress((await send(server, 'GET', `${XWEB}?WSDL`, headers)).body),
    openApi: (JSON.parse((await send(server, 'GET', '/openapi.json', headers)).body) as { servers: { url: string }[] }).servers[0]!.url,
    faultactor: /<faultactor>([^<]*)<\/faultactor>/.exec(fault.body)?.[1],
    crafterCookiePaths: [...new Set((crafter.headers['set-cookie'] as string[]).map((c) => /Path=([^;]*)/.exec(c)?.[1]))],
    consoleCookiePath: /Path=([^;]*)/.exec((consoleLogin.headers['set-cookie'] as string[])[0]!)?.[1],
  };
}

const hostile = { Host: 'attacker.example', 'X-Forwarded-Host': 'forged.example', 'X-Forwarded-Proto': 'https' };

describe('DUALGATE_PUBLIC_URL', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  const start = async (settings: Record<string, string>) => {
    server = await startTestServer(settings);
    await server.addUser('alice', 'alice-pw');
    await server.addUser('root', 'root-pw', 'admin');
    return server;
  };

  it('with a path prefix, pins every address and cookie path, whatever Host and X-Forwarded-* say, trusted proxy or not', async () => {
    for (const trust of ['false', 'loopback']) {
      const s = await start({ DUALGATE_PUBLIC_URL: 'https://auth.example.com:8443/gateway/', DUALGATE_TRUST_PROXY: trust });
      const base = 'https://auth.example.com:8443/gateway';
      expect(await addressesSeen(s, hostile)).toEqual({
        zatoWsdl: `${base}${ZATO}`,
        zatoPublicWsdl: `${base}${ZATO}`,
        xwebWsdl: `${base}${XWEB}`,
        openApi: base,
        faultactor: `${base}${XWEB}`,
        crafterCookiePaths: ['/gateway/studio'],
        consoleCookiePath: '/gateway/console',
      });
      await s.stop();
      server = undefined;
    }
  });

  it('without a prefix, pins the origin and leaves the cookie paths alone', async () => {
    const s = await start({ DUALGATE_PUBLIC_URL: 'https://auth.example.com' });
    expect(await addressesSeen(s, hostile)).toEqual({
      zatoWsdl: `https://auth.example.com${ZATO}`,
      zatoPublicWsdl: `https://auth.example.com${ZATO}`,
      xwebWsdl: `https://auth.example.com${XWEB}`,
      openApi: 'https://auth.example.com',
      faultactor: `https://auth.example.com${XWEB}`,
      crafterCookiePaths: ['/studio'],
      consoleCookiePath: '/console',
    });
  });

  it('unset, behind a trusted proxy: X-Forwarded-Host and X-Forwarded-Proto are honoured', async () => {
    const s = await start({ DUALGATE_TRUST_PROXY: 'loopback' });
    const seen = await addressesSeen(s, { Host: '127.0.0.1:8080', 'X-Forwarded-Host': 'gw.example.org:8443', 'X-Forwarded-Proto': 'https' });
    expect(seen).toMatchObject({ zatoWsdl: `https://gw.example.org:8443${ZATO}`, xwebWsdl: `https://gw.example.org:8443${XWEB}`, openApi: 'https://gw.example.org:8443', faultactor: `https://gw.example.org:8443${XWEB}` });
    // A proxy that appends to the header: the first value is the client's.
    const appended = await send(s, 'GET', `${ZATO}?wsdl`, { Host: 'upstream', 'X-Forwarded-Host': 'gw.example.org, inner.example' });
    expect(soapAddress(appended.body)).toBe(`http://gw.example.org${ZATO}`);
    // Without the header, Host.
    expect(soapAddress((await send(s, 'GET', `${ZATO}?wsdl`, { Host: 'direct.example:9000' })).body)).toBe(`http://direct.example:9000${ZATO}`);
  });

  it('unset, with no trusted proxy: X-Forwarded-* are ignored and Host is used', async () => {
    const s = await start({});
    const seen = await addressesSeen(s, { Host: 'direct.example:9000', 'X-Forwarded-Host': 'forged.example', 'X-Forwarded-Proto': 'https' });
    expect(seen).toMatchObject({ zatoWsdl: `http://direct.example:9000${ZATO}`, openApi: 'http://direct.example:9000', faultactor: `http://direct.example:9000${XWEB}` });
  });

  it('a forwarded host that is not a host is not echoed', async () => {
    const s = await start({ DUALGATE_TRUST_PROXY: 'loopback' });
    const answer = await send(s, 'GET', `${ZATO}?wsdl`, { Host: 'good.example', 'X-Forwarded-Host': 'bad"><x' });
    expect(soapAddress(answer.body)).toBe(`http://good.example${ZATO}`);
  });

  it.each([
    ['ftp://files.example.com'],
    ['https://user:pw@auth.example.com'],
    ['https://auth.example.com/?a=1'],
    ['https://auth.example.com/#top'],
    ['auth.example.com'],
  ])('refuses %s in one line', async (value) => {
    const result = await runCli(['serve'], { DUALGATE_DB: join(scratch(), 'x.db'), DUALGATE_PUBLIC_URL: value });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `dualgate: invalid setting DUALGATE_PUBLIC_URL: expected an http or https URL such as https://auth.example.com or https://example.com/dualgate (got ${JSON.stringify(value)})\n`,
    });
  });
});
