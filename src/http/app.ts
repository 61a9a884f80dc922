import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Core } from '../core';
import { answerUncaught } from './front';
import type { Metrics } from './metrics';

export interface AppOptions {
  core: Core;
  /** The doors' routers, mounted in order. */
  doors: Router[];
  /** Express `trust proxy`: which hops may set X-Forwarded-For / -Proto. */
  trustProxy?: boolean | string | number;
  /** When given, GET /metrics answers (the front counts every request). */
  metrics?: Metrics;
  /** false: leave GET /metrics to a listener of its own (DUALGATE_METRICS_PORT). */
  metricsRoute?: boolean;
}

/** The Express app behind the front (`front.ts`): /healthz, the doors' routes, a 404 and a last-resort 500. */
export function createApp({ core, doors, trustProxy = false, metrics, metricsRoute = true }: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', trustProxy);
  app.set('query parser', 'simple');

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

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => answerUncaught(res, err));

  return app;
}
