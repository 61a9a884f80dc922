import type { Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Core } from '../core';

export interface Metrics {
  /** Counts one finished request (called from the request log hook). */
  observe(req: Request, res: Response, seconds: number): void;
  /** GET /metrics: Prometheus text format. */
  handler(req: Request, res: Response): Promise<void>;
}

/** Prometheus metrics of this process: requests, latency, live sessions, failures, lockouts, throttling, store errors. */
export function createMetrics(core: Core): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dualgate_' });
  const labelNames = ['door', 'operation', 'outcome'] as const;
  const requests = new Counter({ name: 'dualgate_requests_total', help: 'Requests by door, operation and outcome', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'dualgate_request_duration_seconds',
    help: 'Request latency by door and operation',
    labelNames: ['door', 'operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const loginFailures = new Counter({ name: 'dualgate_login_failures_total', help: 'Failed log-ins (any reason)', registers: [registry] });
  const lockouts = new Counter({ name: 'dualgate_lockouts_total', help: 'Accounts locked by consecutive failures', registers: [registry] });
  const throttled = new Counter({ name: 'dualgate_throttled_total', help: 'Requests refused by the log-in throttle', registers: [registry] });
  const storeErrors = new Counter({ name: 'dualgate_store_errors_total', help: 'Requests that failed because the store did not answer', registers: [registry] });
  new Gauge({
    name: 'dualgate_live_sessions',
    help: 'Sessions alive now (every door)',
    registers: [registry],
    async collect() {
      this.set(await core.sessions.countAlive());
    },
  });

  core.audit.onEntry((entry) => {
    if (entry.event === 'login' && entry.outcome === 'failed') loginFailures.inc();
    if (entry.event === 'lockout') lockouts.inc();
  });

  return {
    observe(_req, res, seconds) {
      const door = String(res.locals.door ?? 'none');
      const operation = String(res.locals.operation ?? 'none');
      const outcome = String(res.locals.outcome ?? (res.statusCode < 400 ? 'ok' : 'error'));
      requests.inc({ door, operation, outcome });
      latency.observe({ door, operation }, seconds);
      const code = (res.locals.error as { code?: string } | undefined)?.code;
      if (code === 'Throttled') throttled.inc();
      if (code === 'StoreUnavailable') storeErrors.inc();
    },
    async handler(_req, res) {
      try {
        const text = await registry.metrics();
        res.status(200).set('Content-Type', registry.contentType).send(text);
      } catch {
        res.status(503).set('Content-Type', 'text/plain').send('metrics unavailable\n');
      }
    },
  };
}
