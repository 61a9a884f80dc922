import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseUrlOf } from './client';
import { replyJson } from './reply';
import type { Route } from './routes';

/** The OpenAPI 3.1 document of every JSON route, kept as a file like the WSDLs. */
export const OPENAPI_FILE = join(__dirname, '..', '..', 'openapi', 'dualgate.openapi.json');

interface OpenApiDocument {
  servers?: { url: string; description?: string }[];
  paths: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * `GET /openapi.json`: the document, read once, with `servers[0].url` set to the address the client used (as
 * a WSDL's soap:address is) and each path passed through `rewritePath` (a door mounted elsewhere than the
 * file says).
 */
export function openApiRoute(rewritePath: (path: string) => string = (path) => path, file = OPENAPI_FILE): Route {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
  const paths = Object.fromEntries(Object.entries(doc.paths).map(([path, item]) => [rewritePath(path), item]));
  const server = doc.servers?.[0] ?? {};
  return {
    methods: ['GET'],
    path: '/openapi.json',
    handle: async (x) => replyJson(x.res, 200, { ...doc, servers: [{ ...server, url: baseUrlOf(x) }], paths }),
  };
}
