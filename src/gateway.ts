import type { RequestListener } from 'node:http';
import express, { type Express } from 'express';
import { configFrom, settingsObject, type Config } from './config';
import type { Core } from './core';
import { systemClock, type Clock } from './core/clock';
import { buildDoors } from './doors';
import { gatewayRoutes } from './http/gateway-routes';
import { createMetrics, type Metrics } from './http/metrics';
import { openApiRoute } from './http/openapi';
import { createPipeline } from './http/pipeline';
import { initialPasswordPath } from './initial-password-file';
import { createLogger, type Logger } from './logger';
import { openCore } from './open-core';

export interface GatewayOptions {
  clock?: Clock;
  log?: Logger;
  /**
   * Told the password of the `admin` account created on an empty database, and the file that holds it (the
   * CLI prints it when its output is a terminal).
   */
  onAdminCreated?: (password: string, file: string) => void;
}

export interface Gateway {
  /**
   * Every door as one Express app, to mount in another (`parent.use('/auth', app)`): WSDL addresses, OpenAPI
   * servers and cookie paths then start with the mount path.
   */
  app: Express;
  /** Stops the purge and closes the database. The host stops its own server first. */
  close(): Promise<void>;
  core: Core;
  config: Config;
  log: Logger;
  metrics?: Metrics;
  /** The same pipeline as a node:http request listener: what `dualgate serve` listens with. */
  listener: RequestListener;
}

/**
 * dualgate, ready to serve: `settings` are the keys of the JSON settings file (`DUALGATE_DB`, ...; the
 * environment is not read), each checked as at a start. Opens the store, builds the core and the doors.
 */
export async function createGateway(settings: Record<string, unknown> = {}, options: GatewayOptions = {}): Promise<Gateway> {
  return gatewayOf(configFrom(settingsObject(settings, 'in the gateway settings')), options);
}

/** The composition root: store -> core -> doors -> the one request pipeline. */
export async function gatewayOf(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel);
  const core = await openCore(config, options.clock ?? systemClock, true);
  const adminPassword = await core.accounts.bootstrapAdmin({ cid: null, door: 'startup', actor: 'startup' });
  if (adminPassword !== undefined) {
    const file = initialPasswordPath(config.dbPath, config.initialPasswordFile);
    log.info({ file }, `created the account "admin"; its password is in ${file}`);
    options.onAdminCreated?.(adminPassword, file);
  }

  const metrics = config.metrics ? createMetrics(core) : undefined;
  const own = gatewayRoutes({
    core,
    // With DUALGATE_METRICS_PORT the metrics have a listener of their own, off the public port.
    metrics: config.metricsPort === undefined ? metrics : undefined,
    // The OpenAPI document of the JSON routes, with the Crafter door's paths under its configured prefix.
    more: [openApiRoute((path) => path.replace(/^\/studio(?=\/)/, config.crafterPrefix))],
  });
  const listener = createPipeline({ doors: [...buildDoors(config, core), own], trustProxy: config.trustProxy, log, metrics, publicUrl: config.publicUrl });
  // Mounted, the parent hands each request over with the mount path taken off `req.url` (and kept in
  // `req.baseUrl`, which the pipeline reads); every request of the mount is dualgate's.
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req, res) => listener(req, res));

  // The purge deletes in batches and yields between them. A run still going when the next is due is left
  // to finish; a stop ends it at the next batch.
  const stopPurge = new AbortController();
  let purging: Promise<void> | undefined;
  const purge =
    config.purgeIntervalSeconds > 0
      ? setInterval(() => {
          if (purging) return;
          const started = Date.now();
          purging = core.sessions
            .purge(undefined, stopPurge.signal)
            .then(
              (deleted) => {
                if (deleted > 0) log.info({ deleted, durationMs: Date.now() - started }, 'purged ended sessions');
              },
              (err: unknown) => log.warn({ err }, 'session purge failed'),
            )
            .finally(() => (purging = undefined));
        }, config.purgeIntervalSeconds * 1000).unref()
      : undefined;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (purge) clearInterval(purge);
      stopPurge.abort();
      await purging;
      await core.close();
    })());

  return { app, close, core, config, log, metrics, listener };
}
