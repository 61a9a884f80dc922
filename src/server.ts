import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Config } from './config';
import type { Core } from './core';
import { systemClock, type Clock } from './core/clock';
import { buildDoors } from './doors';
import { createApp } from './http/app';
import { createMetrics } from './http/metrics';
import { createLogger, type Logger } from './logger';
import { openCore } from './open-core';

export interface RunningServer {
  url: string;
  port: number;
  core: Core;
  log: Logger;
  http: Server;
  /** Stops taking connections, lets in-flight requests finish (up to `graceMs`), then closes the database. */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  /** Told the password of the `admin` account created on an empty database (the CLI prints it once). */
  onAdminCreated?: (password: string) => void;
}

/** Opens the store, builds the core and the doors, and listens. The composition root of the server. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const core = await openCore(config, options.clock ?? systemClock);
  const adminPassword = await core.accounts.bootstrapAdmin({ cid: null, door: 'startup', actor: 'startup' });
  if (adminPassword !== undefined) options.onAdminCreated?.(adminPassword);

  const app = createApp({
    core,
    log,
    doors: buildDoors(config, core),
    trustProxy: config.trustProxy,
    metrics: config.metrics ? createMetrics(core) : undefined,
  });
  const http = createServer(app);
  http.headersTimeout = 10_000;
  http.requestTimeout = 30_000;
  http.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url }, `dualgate listening on ${url}`);

  const purge =
    config.purgeIntervalSeconds > 0
      ? setInterval(() => {
          core.sessions.purge().then(
            (deleted) => deleted > 0 && log.info({ deleted }, 'purged ended sessions'),
            (err: unknown) => log.warn({ err }, 'session purge failed'),
          );
        }, config.purgeIntervalSeconds * 1000).unref()
      : undefined;

  let closing: Promise<void> | undefined;
  const close = (graceMs = 10_000): Promise<void> =>
    (closing ??= (async () => {
      if (purge) clearInterval(purge);
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => http.closeAllConnections(), graceMs).unref();
        http.close(() => {
          clearTimeout(force);
          resolve();
        });
        http.closeIdleConnections();
      });
      await core.close();
      log.info('dualgate stopped');
      log.flush();
    })());

  return { url, port, core, log, http, close };
}
