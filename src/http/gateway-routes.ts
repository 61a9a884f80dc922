import type { Core } from '../core';
import type { Metrics } from './metrics';
import { answerUncaught } from './pipeline';
import { replyJson } from './reply';
import type { Door, Route } from './routes';

export interface GatewayRoutesOptions {
  core: Core;
  /** When given, GET /metrics answers here. */
  metrics?: Metrics;
  /** Routes of the gateway that no door owns (the OpenAPI document). */
  more?: readonly Route[];
}

/** The gateway's own routes, no door's: the health check, the metrics, the OpenAPI document. */
export function gatewayRoutes({ core, metrics, more = [] }: GatewayRoutesOptions): Door {
  const routes: Route[] = [
    {
      methods: ['GET'],
      path: '/healthz',
      async handle(x) {
        try {
          await core.ping();
          replyJson(x.res, 200, { status: 'ok' });
        } catch (err) {
          x.error = err; // the reason goes to the request log line (and the store error count)
          replyJson(x.res, 503, { status: 'unavailable' });
        }
      },
    },
    ...more,
  ];
  if (metrics) routes.push({ methods: ['GET'], path: '/metrics', handle: (x) => metrics.handle(x) });
  return { name: null, routes, fail: answerUncaught };
}
