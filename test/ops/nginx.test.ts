import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import axios from 'axios';
import * as soap from 'soap';
import { runCli, startServeProcess, type ServeProcess } from '../support/process';
import { tempDir } from '../support/server';
import { freePort, nginxConfig, selfSignedCertificate } from './docs-config';

/**
 * dualgate behind Debian's nginx, with the config docs/operations.md shows (only its ports and certificate
 * paths changed), TLS ended by nginx: what a client that fetched a WSDL through the proxy gets and can call.
 */
const XWEB_NS = 'http://www.avectra.com/2005/';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let dir: string;
let ca: Buffer;
let ports: { upstream: number; plain: number; tls: number };
let nginx: ChildProcess | undefined;
let server: ServeProcess | undefined;
let db: string;
let agent: Agent;

/** An HTTPS request to nginx, trusting the throwaway certificate, with the Host header given. */
function viaProxy(
  path: string,
  options: { method?: string; host?: string; headers?: Record<string, string>; body?: string; from?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: ports.tls,
        path,
        method: options.method ?? 'GET',
        ca,
        localAddress: options.from,
        agent: false,
        headers: { Host: options.host ?? `localhost:${ports.tls}`, ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Resolves once something accepts connections on `port` (nginx has no "ready" line to wait for). */
async function accepting(port: number, giveUp: Promise<unknown>): Promise<void> {
  let over = false;
  void giveUp.then(() => (over = true));
  for (;;) {
    if (over) throw new Error(`nginx exited: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const soapAddress = (wsdl: string) => /<soap:address\s+location="([^"]*)"/.exec(wsdl)?.[1];

/** node-soap's client from the WSDL at `url`, its HTTP (WSDL and calls) trusting the throwaway certificate. */
function soapClient(url: string): Promise<soap.Client> {
  const httpClient = new soap.HttpClient({ request: axios.create({ httpsAgent: agent }) });
  return soap.createClientAsync(url, { httpClient });
}

/** Calls an operation whose name holds dots (node-soap defines only the callback form). */
function call(client: soap.Client, operation: string, args: Record<string, unknown>): Promise<[unknown, string, Record<string, any>]> {
  return new Promise((resolve, reject) => {
    (client[operation] as (a: unknown, cb: (err: unknown, result: unknown, raw: string, header: Record<string, any>) => void) => void)(
      args,
      (err, result, raw, header) => (err ? reject(err) : resolve([result, raw, header])),
    );
  });
}

async function startDualgate(settings: Record<string, string>): Promise<void> {
  server = await startServeProcess({ DUALGATE_DB: db, PORT: String(ports.upstream), DUALGATE_LOGIN_RATE: '0', ...settings });
}

beforeAll(async () => {
  dir = tempDir();
  db = join(dir, 'dualgate.db');
  ca = readFileSync(selfSignedCertificate(dir).cert);
  agent = new Agent({ ca });
  ports = { upstream: await freePort(), plain: await freePort(), tls: await freePort() };
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, ports, { cert: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem') }));
  nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  const exited = new Promise((resolve) => nginx!.once('exit', resolve));
  await accepting(ports.tls, exited);
  expect((await runCli(['init'], { DUALGATE_DB: db })).code).toBe(0);
  expect((await runCli(['user', 'add', 'alice', '--password-stdin'], { DUALGATE_DB: db }, 'alice-pw\n')).code).toBe(0);
  expect((await runCli(['user', 'add', 'integ', '--password-stdin', '--role', 'integrator'], { DUALGATE_DB: db }, 'integ-pw\n')).code).toBe(0);
}, 60_000);

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

afterAll(async () => {
  agent.destroy();
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx!.once('exit', resolve));
    nginx.kill('SIGQUIT');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('behind nginx with the docs\' config, TLS ended there', () => {
  it('trusting the proxy: the WSDLs name the address the client used, and node-soap clients built from them work through it', async () => {
    await startDualgate({ DUALGATE_TRUST_PROXY: '127.0.0.1' });
    const publicBase = `https://localhost:${ports.tls}`;

    const zato = await soapClient(`${publicBase}/zato/soap?wsdl`);
    expect(zato.wsdl.definitions.services.zato!.ports.zato!.location).toBe(`${publicBase}/zato/soap`);
    const [loggedIn] = await call(zato, 'zato.security.jwt.log-in', { username: 'alice', password: 'alice-pw' });
    const token = /"token":"(eyJ[^"]+)"/.exec(JSON.stringify(loggedIn))?.[1];
    expect(token).toBeDefined();
    await call(zato, 'zato.security.jwt.log-out', { token });

    const xweb = await soapClient(`${publicBase}/xweb/secure/netForumXML.asmx?WSDL`);
    expect(xweb.wsdl.definitions.services.netForumXML!.ports.netForumXMLSoap!.location).toBe(`${publicBase}/xweb/secure/netForumXML.asmx`);
    const [, , header] = await (xweb as any).AuthenticateAsync({ userName: 'integ', password: 'integ-pw' });
    xweb.addSoapHeader({ AuthorizationToken: { Token: header.AuthorizationToken.Token } }, '', 'tns', XWEB_NS);
    const [login] = await (xweb as any).WebLoginAsync({ userLoginPlain: 'alice', passwordPlain: 'alice-pw' });
    expect(login.WebLoginResult).toMatch(/^[0-9a-f-]{36}$/);

    // The OpenAPI document and an xWeb fault, fetched through the proxy, name it too.
    const openapi = JSON.parse((await viaProxy('/openapi.json')).body) as { servers: { url: string }[] };
    expect(openapi.servers[0]!.url).toBe(publicBase);
    // The client's own address, from nginx's X-Forwarded-For (the proxy is trusted), is in the request's log line.
    expect((await viaProxy('/healthz', { from: '127.0.0.2' })).status).toBe(200);
    const logged = /"path":"\/healthz","status":200,[^\n]*"clientIp":"([^"]*)"/;
    while (!logged.test(server!.stdout())) await new Promise((resolve) => setTimeout(resolve, 20)); // the log is written asynchronously
    expect(logged.exec(server!.stdout())![1]).toBe('127.0.0.2');
    // Crafter's cookies are Secure: the proxy said the client came over HTTPS.
    const crafter = await viaProxy('/studio/api/1/services/api/1/security/validate-session.json');
    expect(crafter.headers['set-cookie']).toEqual([expect.stringMatching(/^XSRF-TOKEN=[^;]+; Path=\/studio; Secure$/)]);
  });

  it('with DUALGATE_PUBLIC_URL: every address is pinned, whatever Host the client sent through the proxy', async () => {
    await startDualgate({ DUALGATE_TRUST_PROXY: '127.0.0.1', DUALGATE_PUBLIC_URL: `https://localhost:${ports.tls}/` });
    const pinned = `https://localhost:${ports.tls}`;
    for (const host of [`localhost:${ports.tls}`, 'attacker.example', `127.0.0.1:${ports.tls}`]) {
      expect(soapAddress((await viaProxy('/zato/soap?wsdl', { host })).body)).toBe(`${pinned}/zato/soap`);
      expect(soapAddress((await viaProxy('/xweb/secure/netForumXML.asmx?WSDL', { host })).body)).toBe(`${pinned}/xweb/secure/netForumXML.asmx`);
      expect((JSON.parse((await viaProxy('/openapi.json', { host })).body) as { servers: { url: string }[] }).servers[0]!.url).toBe(pinned);
      const fault = await viaProxy('/xweb/secure/netForumXML.asmx', {
        method: 'POST',
        host,
        headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"http://www.avectra.com/2005/Authenticate"' },
        body:
          '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Authenticate xmlns="http://www.avectra.com/2005/">' +
          '<userName>integ</userName><password>wrong</password></Authenticate></soap:Body></soap:Envelope>',
      });
      expect(fault.status).toBe(500);
      expect(/<faultactor>([^<]*)<\/faultactor>/.exec(fault.body)?.[1]).toBe(`${pinned}/xweb/secure/netForumXML.asmx`);
    }
    const zato = await soapClient(`${pinned}/zato/soap?wsdl`);
    const [loggedIn] = await call(zato, 'zato.security.jwt.log-in', { username: 'alice', password: 'alice-pw' });
    expect(JSON.stringify(loggedIn)).toMatch(/"token":"eyJ/);
  });

  it('without trusting the proxy: X-Forwarded-* are ignored, and the WSDL names the upstream nginx called', async () => {
    await startDualgate({});
    expect(soapAddress((await viaProxy('/zato/soap?wsdl')).body)).toBe('http://localhost/zato/soap');
  });

  it('the plain-HTTP server redirects to HTTPS, keeping the method (308)', async () => {
    await startDualgate({});
    const res = await fetch(`http://127.0.0.1:${ports.plain}/zato/soap?wsdl`, { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('https://127.0.0.1/zato/soap?wsdl');
  });
});
