import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';

/**
 * One request and everything its answer and its log line need to know: the pipeline (`pipeline.ts`) makes it,
 * every route handler takes it, and the log line and metrics read it when the answer is done.
 */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly cid: string;
  /** The client's address; forwarded addresses count only through trusted proxies (DUALGATE_TRUST_PROXY). */
  readonly clientIp: string | null;
  /** How the client reached us: `https` directly over TLS, or as a trusted proxy says. */
  readonly protocol: 'http' | 'https';
  /**
   * DUALGATE_PUBLIC_URL's path prefix, then where dualgate is mounted in another Express app
   * (`parent.use('/auth', app)`: `/auth`), or '' at the root. Every address and cookie path we hand out starts
   * with it.
   */
  readonly mountPath: string;
  /** The request came from a trusted proxy (DUALGATE_TRUST_PROXY): its X-Forwarded-* headers count. */
  readonly viaProxy: boolean;
  /** DUALGATE_PUBLIC_URL, when set: every address we write starts with it. */
  readonly publicUrl?: string;
  /** The request's path, without the query (and without the mount path when mounted). */
  readonly path: string;
  /** The matched route's path parameters, decoded: `:name` by its name, a trailing `*` as `'*'`. */
  params: Readonly<Record<string, string | undefined>>;
  /** The door that answers, for the log line and metrics (null: the gateway's own routes, and 404s). */
  door: string | null;
  /** The operation, for the log line and metrics: the route's, or what its handler found (a SOAP body's). */
  operation: string | null;
  outcome?: 'ok' | 'error';
  error?: unknown;
}

const queries = new WeakMap<Exchange, ParsedUrlQuery>();

/** The query string's fields (`?a=1&a=2` gives `a: ['1', '2']`), read on first use. */
export function queryOf(x: Exchange): ParsedUrlQuery {
  let query = queries.get(x);
  if (query === undefined) {
    const url = x.req.url ?? '';
    const at = url.indexOf('?');
    query = at === -1 ? {} : parseQuery(url.slice(at + 1));
    queries.set(x, query);
  }
  return query;
}
