import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from 'node:http';
import type { Express, Router } from 'express';
import proxyAddr from 'proxy-addr';
import type { Logger } from '../logger';
import { newCid } from './cid';
import { exchangeOf, type Exchange } from './exchange';
import type { Metrics } from './metrics';
import { replyJson, setHeaders } from './reply';
import { isClientFault } from './request-errors';
import { RouteTable, type DirectRoute } from './routes';

export type { DirectRoute } from './routes';

/** `route` with `headers` on every answer (a door's Cache-Control, say). */
export function withHeaders(route: DirectRoute, headers: OutgoingHttpHeaders): DirectRoute {
  return {
    ...route,
    handle(req, res) {
      setHeaders(res, headers);
      return route.handle(req, res);
    },
  };
}

/** What a door serves: Express routes, and the direct routes of its hot paths. */
export interface DoorRoutes {
  router: Router;
  direct: DirectRoute[];
}

export interface FrontOptions {
  /** Everything that is not a direct route; its `trust proxy` setting also decides the client address. */
  app: Express;
  routes: readonly DirectRoute[];
  log: Logger;
  /** When given, every request is counted. */
  metrics?: Metrics;
  /** DUALGATE_PUBLIC_URL: the start of every address we write, whatever the request's headers say. */
  publicUrl?: string;
}

type TrustFn = (address: string, hop: number) => boolean;

/**
 * The request listener: a cid, the hygiene headers and the request log line for every request, then the
 * direct route for its path, or Express.
 */
export function createFront({ app, routes, log, metrics, publicUrl }: FrontOptions): RequestListener {
  const trust = app.get('trust proxy fn') as TrustFn;
  const table = new RouteTable(routes);
  const publicPath = publicUrl === undefined ? '' : new URL(publicUrl).pathname.replace(/\/+$/, '');
  // The request line is built from a fixed list of fields, none of them a secret, so it skips the logger's
  // redaction, which costs far more than the line itself. A line that carries an error object goes through
  // `log` and is redacted.
  const requestLog = log.child({}, { redact: [] });

  return (req, res) => {
    const started = process.hrtime.bigint();
    const viaProxy = trust(req.socket.remoteAddress ?? '', 0);
    const exchange: Exchange = {
      cid: newCid(),
      clientIp: proxyAddr(req, trust) ?? null,
      protocol: protocolOf(req, viaProxy),
      viaProxy,
      publicUrl,
      // Mounted in another Express app, that app has taken the mount path off `req.url` and left it here;
      // behind DUALGATE_PUBLIC_URL's path prefix, the proxy took that off first.
      mountPath: publicPath + ((req as IncomingMessage & { baseUrl?: string }).baseUrl ?? ''),
    };
    (res as ServerResponse & { locals: Exchange }).locals = exchange;
    // As Express does: the body reader finds the answer through it (`closeInStages`).
    (req as IncomingMessage & { res?: ServerResponse }).res = res;
    res.setHeader('X-Zato-CID', exchange.cid);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    metrics?.track(res);
    res.once('finish', () => {
      const err = exchange.error as { code?: string; name?: string } | undefined;
      const line = {
        cid: exchange.cid,
        door: exchange.door ?? null,
        operation: exchange.operation ?? null,
        outcome: exchange.outcome ?? (res.statusCode < 400 ? 'ok' : 'error'),
        error: err ? (err.code ?? err.name ?? 'Error') : undefined,
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        clientIp: exchange.clientIp,
      };
      metrics?.observe(res, line.durationMs / 1000);
      if (res.statusCode >= 500 && !isClientFault(exchange.error)) log.error({ ...line, err: exchange.error }, 'request failed');
      else requestLog.info(line, 'request');
    });

    const route = table.find(req.method, path);
    if (route !== undefined) {
      route.handle(req, res).catch((err: unknown) => answerUncaught(res, err));
    } else {
      app(req, res);
    }
  };
}

/**
 * Anything no door turned into its own error: a bare 500 with the cid, the stack only in the log. An error
 * that carries a 4xx status (a malformed URL, from Express) is the client's: a bare 400.
 */
export function answerUncaught(res: ServerResponse, err: unknown): void {
  const exchange = exchangeOf(res);
  exchange.error = err;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = (err as { status?: number } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    replyJson(res, status, { error: 'Bad request', cid: exchange.cid });
    return;
  }
  replyJson(res, 500, { error: 'Internal server error', cid: exchange.cid });
}

/** As Express's `req.protocol`: the connection's, or a trusted proxy's first X-Forwarded-Proto. */
function protocolOf(req: IncomingMessage, viaProxy: boolean): 'http' | 'https' {
  const own = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  if (!viaProxy) return own;
  const header = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https' || first === 'http' ? first : own;
}
