/**
 * The figures behind one design decision: host the SOAP doors with node-soap's server, or with our own
 * codec (its reader on saxes)? Both answer the same xWeb WebValidate request (header token and body) from
 * the real WSDL with a fixed result and no core call, so only the SOAP hosting differs. Both servers run in
 * this process; the load generator runs in its own. `npm run bench` prints this table too; alone:
 *   npx tsc -p tsconfig.bench.json && node build/bench/soap-hosting.js
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { join } from 'node:path';
import * as soap from 'soap';
import { createPipeline } from '../src/http/pipeline';
import { soapEndpoint } from '../src/http/soap/endpoint';
import { load, type LoadJob, type LoadResult } from './load';

const WSDL = join(__dirname, '..', '..', 'fixtures', 'xweb', 'reference', 'xweb-auth.wsdl');
const NS = 'http://www.avectra.com/2005/';
const TOKEN = '80d8f6fe-a5c5-4ec7-b46e-71ebd041d965';
const RESULT = '3147d4b5-d04a-4a8f-bbf3-3fe54fd2fcaa';

const request = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:av="${NS}">
<soap:Header><av:AuthorizationToken><av:Token>${TOKEN}</av:Token></av:AuthorizationToken></soap:Header>
<soap:Body><av:WebValidate><av:authenticationToken>9e2eee63-07cc-4ac3-aff3-dfe34d995c42</av:authenticationToken></av:WebValidate></soap:Body>
</soap:Envelope>`;

async function listen(server: Server): Promise<{ url: string; close(): void }> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() });
    });
  });
}

// Both on a plain node:http server, as dualgate's SOAP endpoints are served (through the one pipeline).
async function nodeSoapServer() {
  const http = createServer();
  const server = await listen(http);
  const hosted = soap.listen(http, '/xweb', {
    netForumXML: {
      netForumXMLSoap: {
        WebValidate: (_args: unknown, _cb: unknown, headers: { AuthorizationToken?: { Token?: string } }) => {
          if (headers?.AuthorizationToken?.Token !== TOKEN) throw new Error('no token');
          return { WebValidateResult: RESULT };
        },
      },
    },
  }, readFileSync(WSDL, 'utf8'));
  hosted.addSoapHeader(() => ({ AuthorizationToken: { Token: TOKEN } }));
  await new Promise((resolve) => setImmediate(resolve)); // node-soap registers its route a tick late
  return server;
}

async function ownCodecServer() {
  const endpoint = soapEndpoint({
      namespace: NS,
      path: '/xweb',
      wsdlFile: WSDL,
      xmlLimit: 65536,
      versions: ['1.1'],
      operations: [
        {
          name: 'WebValidate',
          soapAction: `${NS}WebValidate`,
          requestElement: 'WebValidate',
          handle: async (req) => {
            const header = req.headers.find((h) => h.name === 'AuthorizationToken');
            if (header?.children.find((c) => c.name === 'Token')?.text !== TOKEN) throw new Error('no token');
            return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><AuthorizationToken xmlns="${NS}"><Token>${TOKEN}</Token></AuthorizationToken></soap:Header><soap:Body><WebValidateResponse xmlns="${NS}"><WebValidateResult>${RESULT}</WebValidateResult></WebValidateResponse></soap:Body></soap:Envelope>`;
          },
        },
      ],
      fault: () => ({ status: 500, xml: '<fault/>' }),
  });
  const door = { name: 'bench', routes: endpoint, fail: () => undefined };
  return listen(createServer(createPipeline({ doors: [door], trustProxy: false, log: pino({ level: 'silent' }) })));
}

export interface SoapHostingFigures {
  nodeSoap: LoadResult;
  own: LoadResult;
}

/** Measures both hostings, each `seconds` long, twice in turn, keeping the better run of each (the machine is shared). */
export async function measureSoapHosting(seconds: number, connections = 10): Promise<SoapHostingFigures> {
  const headers = { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${NS}WebValidate"` };
  const a = await nodeSoapServer();
  const b = await ownCodecServer();
  const job = (url: string, s: number): LoadJob => ({ url: `${url}/xweb`, method: 'POST', headers, body: request, connections, seconds: s });
  try {
    for (const s of [a, b]) await load(job(s.url, 1));
    const runs: { soap: LoadResult[]; own: LoadResult[] } = { soap: [], own: [] };
    for (let i = 0; i < 2; i++) {
      runs.soap.push(await load(job(a.url, seconds)));
      runs.own.push(await load(job(b.url, seconds)));
    }
    const best = (rs: LoadResult[]) => rs.reduce((x, y) => (y.rps > x.rps ? y : x));
    return { nodeSoap: best(runs.soap), own: best(runs.own) };
  } finally {
    a.close();
    b.close();
  }
}

function row(name: string, r: LoadResult, base?: LoadResult): string {
  const ratio = base ? (r.rps / base.rps).toFixed(2) : '1.00';
  return `| ${name} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors + r.non2xx} | ${ratio} |`;
}

/** The figures as a Markdown table. */
export function soapHostingTable({ nodeSoap, own }: SoapHostingFigures): string {
  return [
    '| hosting | req/s | p50 ms | p99 ms | errors | ratio |',
    '| --- | --- | --- | --- | --- | --- |',
    row('node-soap server (baseline)', nodeSoap),
    row('own codec (saxes reader)', own, nodeSoap),
  ].join('\n');
}

if (require.main === module) {
  measureSoapHosting(Number(process.env.BENCH_SECONDS ?? 5)).then(
    (figures) => console.log(soapHostingTable(figures)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
