import cluster from 'node:cluster';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AddressInfo } from 'node:net';
import type { Core } from '../core';
import type { Logger } from '../logger';
import type { Exchange } from './exchange';

export interface Metrics {
  /** Counts a request in flight from now until its response closes (called when the request comes in). */
  track(res: ServerResponse): void;
  /** Counts one finished request (called from the request log hook). */
  observe(x: Exchange, seconds: number): void;
  /** The metrics in Prometheus text format. */
  render(): Promise<Rendered>;
  /** GET /metrics: Prometheus text format. */
  handle(x: Exchange): Promise<void>;
}

export interface Rendered {
  contentType: string;
  body: string;
}

/**
 * Prometheus metrics of this process: requests, latency, requests in flight, live sessions, failures,
 * lockouts, throttling, store errors. In a `--workers` worker the registry also answers the primary, which
 * serves the sum of every worker's (see `listenAggregatedMetrics`).
 */
export function createMetrics(core: Core): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dualgate_' });
  replaceEventLoopDelay(registry, 'dualgate_');
  const labelNames = ['door', 'operation', 'outcome'] as const;
  const requests = new Counter({ name: 'dualgate_requests_total', help: 'Requests by door, operation and outcome', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'dualgate_request_duration_seconds',
    help: 'Request latency by door and operation',
    labelNames: ['door', 'operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: 'dualgate_requests_in_flight', help: 'Requests received and not yet answered', registers: [registry] });
  const loginFailures = new Counter({ name: 'dualgate_login_failures_total', help: 'Failed log-ins (any reason)', registers: [registry] });
  const lockouts = new Counter({
    name: 'dualgate_lockouts_total',
    help: 'Lockouts by failed log-ins: an address locked out of an account, or a whole account',
    registers: [registry],
  });
  const auditPurged = new Counter({ name: 'dualgate_audit_purged_total', help: 'Audit rows deleted by the purge (older than DUALGATE_AUDIT_RETENTION)', registers: [registry] });
  const throttled = new Counter({ name: 'dualgate_throttled_total', help: 'Requests refused by the log-in throttle', registers: [registry] });
  const storeErrors = new Counter({ name: 'dualgate_store_errors_total', help: 'Requests that failed because the store did not answer', registers: [registry] });
  new Gauge({
    name: 'dualgate_live_sessions',
    help: 'Sessions alive now (every door)',
    registers: [registry],
    // Every worker reads the same database: summing their answers would count each session N times.
    aggregator: 'max',
    async collect() {
      // When the store does not answer the gauge keeps its last value: a scrape must still work, to show the
      // store errors above all.
      await core.sessions.countAlive().then(
        (n) => this.set(n),
        () => undefined,
      );
    },
  });

  core.audit.onEntry((entry) => {
    if (entry.event === 'login' && entry.outcome === 'failed') loginFailures.inc();
    if (entry.event === 'lockout') lockouts.inc();
  });
  core.audit.onPurge((deleted) => auditPurged.inc(deleted));

  if (cluster.isWorker) {
    // prom-client answers the primary's requests for the registries named here (the listener comes with
    // the first AggregatorRegistry made in the process).
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry();
  }

  const render = async (): Promise<Rendered> => ({ contentType: registry.contentType, body: await registry.metrics() });

  return {
    track(res) {
      inFlight.inc();
      res.once('close', () => inFlight.dec());
    },
    observe(exchange, seconds) {
      const { res } = exchange;
      const door = exchange.door ?? 'none';
      const operation = exchange.operation ?? 'none';
      const outcome = exchange.outcome ?? (res.statusCode < 400 ? 'ok' : 'error');
      requests.inc({ door, operation, outcome });
      latency.observe({ door, operation }, seconds);
      const code = (exchange.error as { code?: string } | undefined)?.code;
      if (code === 'Throttled') throttled.inc();
      if (code === 'StoreUnavailable') storeErrors.inc();
    },
    render,
    async handle(x) {
      await answer(render, x.res);
    },
  };
}

/** The event-loop delay statistics of the default metrics, by name, with how workers' values combine. */
const DELAY_STATS: { name: string; help: string; aggregator: 'min' | 'max' | 'average'; read(h: IntervalHistogram): number }[] = [
  { name: 'min', help: 'The minimum recorded event loop delay.', aggregator: 'min', read: (h) => h.min },
  { name: 'max', help: 'The maximum recorded event loop delay.', aggregator: 'max', read: (h) => h.max },
  { name: 'mean', help: 'The mean of the recorded event loop delays.', aggregator: 'average', read: (h) => h.mean },
  { name: 'stddev', help: 'The standard deviation of the recorded event loop delays.', aggregator: 'average', read: (h) => h.stddev },
  { name: 'p50', help: 'The 50th percentile of the recorded event loop delays.', aggregator: 'average', read: (h) => h.percentile(50) },
  { name: 'p90', help: 'The 90th percentile of the recorded event loop delays.', aggregator: 'average', read: (h) => h.percentile(90) },
  { name: 'p99', help: 'The 99th percentile of the recorded event loop delays.', aggregator: 'average', read: (h) => h.percentile(99) },
];

/**
 * The default metrics' event-loop delay statistics, with the same names, reading 0 while the histogram
 * holds no sample. prom-client reads Node's histogram as it is, and an empty one (right after start, or a
 * scrape that comes again within a sampling interval) has a minimum of 2^63-1 ns, shown as 9223372036 s,
 * and a NaN mean. Like prom-client's, the statistics cover the time since the previous scrape.
 */
function replaceEventLoopDelay(registry: Registry, prefix: string): void {
  const histogram = monitorEventLoopDelay();
  histogram.enable();
  // The first gauge reads the histogram for all of them (a scrape collects in registration order), then starts
  // the next interval.
  const collect = () => {
    const empty = histogram.count === 0;
    DELAY_STATS.forEach(({ read }, i) => gauges[i]!.set(empty ? 0 : read(histogram) / 1e9));
    histogram.reset();
  };
  const gauges = DELAY_STATS.map(({ name, help, aggregator }, i) => {
    const metric = `${prefix}nodejs_eventloop_lag_${name}_seconds`;
    registry.removeSingleMetric(metric);
    return new Gauge({ name: metric, help, aggregator, registers: [registry], collect: i === 0 ? collect : undefined });
  });
}

async function answer(render: () => Promise<Rendered>, res: ServerResponse): Promise<void> {
  try {
    const { contentType, body } = await render();
    res.writeHead(200, { 'Content-Type': contentType }).end(body);
  } catch {
    res.writeHead(503, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n');
  }
}

/**
 * A listener of its own that answers only `GET /metrics` (everything else 404), so metrics can stay off the
 * public port. Resolves once listening.
 */
export async function listenMetrics(host: string, port: number, render: () => Promise<Rendered>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    void answer(render, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** In the `--workers` primary: the metrics listener serving the sum of every worker's registry. */
export async function listenAggregatedMetrics(host: string, port: number, log: Logger): Promise<Server> {
  const registry = new AggregatorRegistry();
  const server = await listenMetrics(host, port, async () => ({ contentType: registry.contentType, body: await registry.clusterMetrics() }));
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}/metrics`;
  log.info({ metricsUrl: url }, `dualgate metrics on ${url} (every worker's, summed)`);
  return server;
}
