/**
 * The figures behind one design decision: host the SOAP doors with node-soap's server, or with our own
 * codec on fast-xml-parser? Both answer the same xWeb WebValidate request (header token and body) from
 * the real WSDL with a fixed result and no core call, so only the SOAP hosting differs.
 *   npm run build:bench && node build/bench/soap-hosting.js
 */
import express from 'express';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as soap from 'soap';
import { soapEndpoint } from '../src/http/soap/endpoint';
import { load, type LoadResult } from './load';

const WSDL = join(__dirname, '..', '..', '..', 'shared', 'reference', 'xweb-auth.wsdl');
const NS = 'http://www.avectra.com/2005/';
const TOKEN = '80d8f6fe-a5c5-4ec7-b46e-71ebd041d965';
const RESULT = '3147d4b5-d04a-4a8f-bbf3-3fe54fd2fcaa';

const request = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:av="${NS}">
<soap:Header><av:AuthorizationToken><av:Token>${TOKEN}</av:Token></av:AuthorizationToken></soap:Header>
<soap:Body><av:WebValidate><av:authenticationToken>9e2eee63-07cc-4ac3-aff3-dfe34d995c42</av:authenticationToken></av:WebValidate></soap:Body>
</soap:Envelope>`;

async function listen(app: express.Express): Promise<{ url: string; close(): void }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() });
    });
  });
}

async function nodeSoapServer() {
  const app = express();
  const server = await listen(app);
  const hosted = soap.listen(app, '/xweb', {
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
  const app = express();
  app.use(
    soapEndpoint({
      door: 'bench',
      namespace: NS,
      path: '/xweb',
      wsdlFile: WSDL,
      xmlLimit: 65536,
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
    }),
  );
  return listen(app);
}

function row(name: string, r: LoadResult, base?: LoadResult): string {
  const ratio = base ? (r.requestsPerSecond / base.requestsPerSecond).toFixed(2) : '1.00';
  return `| ${name} | ${Math.round(r.requestsPerSecond)} | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx} | ${ratio} |`;
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const headers = { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${NS}WebValidate"` };
  const a = await nodeSoapServer();
  const b = await ownCodecServer();
  // Warm both up, then measure each in turn, twice, keeping the better run of each (the machine is shared).
  for (const s of [a, b]) await load({ url: `${s.url}/xweb`, headers, body: request, seconds: 1 });
  const runs: { soap: LoadResult[]; own: LoadResult[] } = { soap: [], own: [] };
  for (let i = 0; i < 2; i++) {
    runs.soap.push(await load({ url: `${a.url}/xweb`, headers, body: request, seconds }));
    runs.own.push(await load({ url: `${b.url}/xweb`, headers, body: request, seconds }));
  }
  const best = (rs: LoadResult[]) => rs.reduce((x, y) => (y.requestsPerSecond > x.requestsPerSecond ? y : x));
  console.log('| hosting | req/s | p50 ms | p99 ms | errors | ratio |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(row('node-soap server (baseline)', best(runs.soap)));
  console.log(row('own codec on fast-xml-parser', best(runs.own), best(runs.soap)));
  a.close();
  b.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
