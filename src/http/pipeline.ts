import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { Logger } from '../logger';
import { newCid } from './cid';
import type { Exchange } from './exchange';
import type { Metrics } from './metrics';
import { replyJson, setHeaders } from './reply';
import { isClientFault, RequestError } from './request-errors';
import { BAD_PATH, RouteTable, type Door } from './routes';

export interface PipelineOptions {
  /** Every door, the gateway's own routes among them: their routes make the one table. */
  doors: readonly Door[];
  /** DUALGATE_TRUST_PROXY: which hops may set X-Forwarded-For, -Proto and -Host. */
  trustProxy: boolean | number | string;
  log: Logger;
  /** When given, every request is counted. */
  metrics?: Metrics;
  /** DUALGATE_PUBLIC_URL: the start of every address we write, whatever the request's headers say. */
  publicUrl?: string;
}

type TrustFn = (address: string, hop: number) => boolean;

/**
 * The one request pipeline, from socket to door: for every request the cid, the client address, whether it
 * came secure, the hygiene headers, the route from the one table, the door's headers, the handler, the
 * door's error table for whatever it throws, and the log line and metrics when the answer is done.
 */
export function createPipeline({ doors, trustProxy, log, metrics, publicUrl }: PipelineOptions): RequestListener {
  const trust = compileTrust(trustProxy);
  const table = new RouteTable(doors);
  const publicPath = publicUrl === undefined ? '' : new URL(publicUrl).pathname.replace(/\/+$/, '');
  // The request line is built from a fixed list of fields, none of them a secret, so it skips the logger's
  // redaction, which costs far more than the line itself. A line that carries an error object goes through
  // `log` and is redacted.
  const requestLog = log.child({}, { redact: [] });

  return (req, res) => {
    const started = process.hrtime.bigint();
    const viaProxy = trust(req.socket.remoteAddress ?? '', 0);
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const x: Exchange = {
      req,
      res,
      cid: newCid(),
      clientIp: proxyAddr(req, trust) ?? null,
      protocol: protocolOf(req, viaProxy),
      viaProxy,
      publicUrl,
      // Mounted in another Express app, that app has taken the mount path off `req.url` and left it here;
      // behind DUALGATE_PUBLIC_URL's path prefix, the proxy took that off first.
      mountPath: publicPath + ((req as IncomingMessage & { baseUrl?: string }).baseUrl ?? ''),
      path: query === -1 ? url : url.slice(0, query),
      params: NO_PARAMS,
      door: null,
      operation: null,
    };
    // The body reader finds the answer through it, as under Express (`closeInStages`).
    (req as IncomingMessage & { res?: ServerResponse }).res = res;
    res.setHeader('X-Zato-CID', x.cid);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    metrics?.track(res);
    res.once('finish', () => {
      const err = x.error as { code?: string; name?: string } | undefined;
      const line = {
        cid: x.cid,
        door: x.door,
        operation: x.operation,
        outcome: x.outcome ?? (res.statusCode < 400 ? 'ok' : 'error'),
        error: err ? (err.code ?? err.name ?? 'Error') : undefined,
        method: req.method,
        path: x.path,
        status: res.statusCode,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        clientIp: x.clientIp,
      };
      metrics?.observe(x, line.durationMs / 1000);
      if (res.statusCode >= 500 && !isClientFault(x.error)) log.error({ ...line, err: x.error }, 'request failed');
      else requestLog.info(line, 'request');
    });

    const match = table.find(req.method, url);
    if (match === BAD_PATH) {
      replyJson(res, 400, { error: 'Bad request', cid: x.cid });
      return;
    }
    if (match === undefined) {
      notFound(x);
      return;
    }
    const { door, route, params } = match;
    x.door = door.name;
    x.operation = route.operation ?? null;
    x.params = params;
    if (door.headers) setHeaders(res, door.headers);
    if (route.headers) setHeaders(res, route.headers);
    let handled: Promise<void>;
    try {
      handled = match.badPath ? Promise.reject(new RequestError('MalformedPath', 'The request path cannot be decoded')) : route.handle(x);
    } catch (err) {
      handled = Promise.reject(err); // a handler that throws before its first await
    }
    handled.then(
      () => undefined,
      (err: unknown) => {
        x.error = err;
        x.outcome = 'error';
        // An answer already under way can no longer say what went wrong: the connection is cut, so the
        // client sees it incomplete rather than silently short.
        if (res.headersSent) res.destroy();
        else (route.fail ?? door.fail)(x, err);
      },
    ).catch((err: unknown) => answerUncaught(x, err));
  };
}

const NO_PARAMS: Readonly<Record<string, string | undefined>> = Object.freeze({});

/** A path no route has: a bare JSON 404 with the cid. */
export function notFound(x: Exchange): void {
  replyJson(x.res, 404, { error: 'Not found', cid: x.cid });
}

/**
 * Anything no door turned into its own error: a bare 500 with the cid, the stack only in the log. An error
 * that carries a 4xx status is the client's: a bare 400.
 */
export function answerUncaught(x: Exchange, err: unknown): void {
  x.error = err;
  x.outcome = 'error';
  if (x.res.headersSent) {
    x.res.destroy();
    return;
  }
  const status = (err as { status?: number } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    replyJson(x.res, status, { error: 'Bad request', cid: x.cid });
    return;
  }
  replyJson(x.res, 500, { error: 'Internal server error', cid: x.cid });
}

/** DUALGATE_TRUST_PROXY as Express's `trust proxy` reads it: off, on, a hop count, or addresses and CIDRs. */
function compileTrust(setting: boolean | number | string): TrustFn {
  if (typeof setting === 'boolean') return () => setting;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return proxyAddr.compile(setting.split(',').map((entry) => entry.trim()));
}

/** As Express's `req.protocol`: the connection's, or a trusted proxy's first X-Forwarded-Proto. */
function protocolOf(req: IncomingMessage, viaProxy: boolean): 'http' | 'https' {
  const own = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  if (!viaProxy) return own;
  const header = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https' || first === 'http' ? first : own;
}
