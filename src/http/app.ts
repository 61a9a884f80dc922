import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Core } from '../core';
import type { Logger } from '../logger';
import { newCid } from './cid';
import type { Metrics } from './metrics';

export interface AppOptions {
  core: Core;
  log: Logger;
  /** The doors' routers, mounted in order. */
  doors: Router[];
  /** Express `trust proxy`: which hops may set X-Forwarded-For / -Proto. */
  trustProxy?: boolean | string | number;
  /** When given, every request is counted and GET /metrics answers. */
  metrics?: Metrics;
  /** false: count, but leave GET /metrics to a listener of its own (DUALGATE_METRICS_PORT). */
  metricsRoute?: boolean;
}

/** The Express app: cid and request log around every request, /healthz, the doors, and a last-resort 500. */
export function createApp({ core, log, doors, trustProxy = false, metrics, metricsRoute = true }: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', trustProxy);
  app.set('query parser', 'simple');

  // The request line is built below from a fixed list of fields, none of them a secret, so it skips the
  // logger's redaction, which costs far more than the line itself (tens of microseconds a request). A line
  // that carries an error object still goes through `log` and is redacted.
  const requestLog = log.child({}, { redact: [] });

  app.use((req, res, next) => {
    const cid = newCid();
    const started = process.hrtime.bigint();
    res.locals.cid = cid;
    res.set('X-Zato-CID', cid);
    res.set('X-Content-Type-Options', 'nosniff');
    metrics?.track(res);
    res.on('finish', () => {
      const err = res.locals.error as { code?: string; name?: string } | undefined;
      const line = {
        cid,
        door: res.locals.door ?? null,
        operation: res.locals.operation ?? null,
        outcome: res.locals.outcome ?? (res.statusCode < 400 ? 'ok' : 'error'),
        error: err ? (err.code ?? err.name ?? 'Error') : undefined,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        clientIp: req.ip ?? null,
      };
      metrics?.observe(req, res, line.durationMs / 1000);
      if (res.statusCode >= 500) log.error({ ...line, err: res.locals.error }, 'request failed');
      else requestLog.info(line, 'request');
    });
    next();
  });

  app.get('/healthz', async (_req, res) => {
    try {
      await core.ping();
      res.status(200).json({ status: 'ok' });
    } catch (err) {
      res.locals.error = err; // the reason goes to the request log line (and the store error count)
      res.status(503).json({ status: 'unavailable' });
    }
  });

  if (metrics && metricsRoute) app.get('/metrics', metrics.handler);

  for (const door of doors) app.use(door);

  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found', cid: res.locals.cid });
  });

  // Anything a door did not turn into its own error: a bare 500 with the cid, the stack only in the log.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.locals.error = err;
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'Bad request', cid: res.locals.cid });
      return;
    }
    res.status(500).json({ error: 'Internal server error', cid: res.locals.cid });
  });

  return app;
}
