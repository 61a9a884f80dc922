import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Config } from './config';
import type { Core } from './core';
import { gatewayOf, type GatewayOptions } from './gateway';
import { answerClientError } from './http/linger';
import { listenMetrics } from './http/metrics';
import { createLogger, type Logger } from './logger';
import { exposedFileWarning } from './store/private-files';
import { lowerThreadPoolPriority } from './thread-pool';

/** The package's main module: `createGateway` to mount dualgate in an Express app, `startServer` to serve it. */
export { createGateway, type Gateway, type GatewayOptions } from './gateway';

/** The port could not be had; the message is the one line the CLI prints. */
export class ListenError extends Error {
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    const reason =
      cause.code === 'EADDRINUSE' ? 'the address is already in use'
      : cause.code === 'EACCES' ? 'permission denied'
      : cause.code === 'EADDRNOTAVAIL' ? 'no such local address'
      : (cause.code ?? cause.message);
    super(`cannot listen on ${host}:${port}: ${reason}`, { cause });
  }
}

export interface RunningServer {
  url: string;
  port: number;
  core: Core;
  log: Logger;
  http: Server;
  /** Where the metrics listener of its own answers (DUALGATE_METRICS_PORT), when there is one. */
  metricsUrl?: string;
  /**
   * Stops taking connections, lets in-flight requests finish (up to `graceMs`, by default
   * DUALGATE_STOP_GRACE), closes every connection, then closes the database.
   */
  close(graceMs?: number): Promise<void>;
}

export type StartOptions = GatewayOptions;

/**
 * What a start warns about, once (by the one process, or the primary of `--workers`): unknown settings, and
 * a database file other users may open.
 */
export function startWarnings(config: Config): string[] {
  const exposed = exposedFileWarning(config.dbPath, 'the database');
  return exposed === undefined ? config.warnings : [...config.warnings, exposed];
}

/** Opens the store, builds the core and the doors, and listens. The composition root of the server. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  // First, before anything else starts the thread pool: bcrypt there must never hold up the event loop.
  const lowered = await lowerThreadPoolPriority();
  const log = options.log ?? createLogger(config.logLevel);
  if (lowered > 0) log.debug({ threads: lowered }, 'thread pool runs below the event loop');
  if (!cluster.isWorker) for (const warning of startWarnings(config)) log.warn(warning);
  const gateway = await gatewayOf(config, { ...options, log });
  const { core, metrics } = gateway;
  // Slow clients: headers and the whole request must arrive in time, idle keep-alive sockets close. Node checks
  // the first two every `connectionsCheckingInterval` (30 s by default); at most 1 s here, so a late socket
  // is closed soon after its deadline rather than up to 30 s later.
  const http = createServer({ connectionsCheckingInterval: Math.min(1000, Math.ceil(config.headersTimeoutMs / 4)) }, gateway.listener);
  // 408 and 431 closed in stages, so that a client still writing reads them.
  http.on('clientError', answerClientError);
  http.headersTimeout = config.headersTimeoutMs;
  http.requestTimeout = config.requestTimeoutMs;
  http.keepAliveTimeout = config.keepAliveTimeoutMs;
  // While stopping, every answer is the last on its connection and a connection is closed once idle, so a
  // client's keep-alive connection does not hold the stop up.
  let stopping = false;
  const inFlight = new Set<ServerResponse>();
  http.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    if (stopping && !res.headersSent) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      if (stopping) http.closeIdleConnections();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await gateway.close();
    throw new ListenError(config.host, config.port, err as NodeJS.ErrnoException);
  }
  const { port } = http.address() as AddressInfo;
  const url = `http://${hostPart(config.host)}:${port}`;
  log.info({ url }, `dualgate listening on ${url}`);

  // With --workers the primary serves the sum of every worker's metrics on that port (src/cli.ts).
  const metricsServer =
    metrics && config.metricsPort !== undefined && !cluster.isWorker
      ? await listenMetrics(config.metricsHost, config.metricsPort, metrics.render)
      : undefined;
  const metricsUrl = metricsServer && `http://${hostPart(config.metricsHost)}:${(metricsServer.address() as AddressInfo).port}/metrics`;
  if (metricsUrl) log.info({ metricsUrl }, `dualgate metrics on ${metricsUrl}`);

  let closing: Promise<void> | undefined;
  const close = (graceMs = config.stopGraceSeconds * 1000): Promise<void> =>
    (closing ??= (async () => {
      stopping = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      await Promise.all([
        new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            log.warn({ inFlight: inFlight.size }, 'stop: grace period over, closing the remaining connections');
            http.closeAllConnections();
          }, graceMs).unref();
          http.close(() => {
            clearTimeout(force);
            resolve();
          });
          http.closeIdleConnections();
        }),
        metricsServer &&
          new Promise<void>((resolve) => {
            metricsServer.close(() => resolve());
            metricsServer.closeAllConnections();
          }),
      ]);
      await gateway.close();
      log.info('dualgate stopped');
      log.flush();
    })());

  return { url, port, core, log, http, metricsUrl, close };
}

/** A host as it goes into a URL (an IPv6 address in brackets). */
function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
