import type { Config } from './config';
import { createCore, type Core } from './core';
import { systemClock, type Clock } from './core/clock';
import { initialPasswordFile, initialPasswordPath } from './initial-password-file';
import { openStore } from './store/open';

/** How often a server checkpoints the write-ahead log, off the event loop (src/store/checkpointer.ts). */
const SERVER_CHECKPOINT_MS = 100;

/**
 * The configured store and the core over it: what `serve` and every CLI command start from. A server
 * (`serving`) checkpoints from a thread of its own; a CLI command leaves it to SQLite. Only `create` makes
 * a database that is not there (`serve`, `init`); other commands must find the server's.
 */
export async function openCore(config: Config, clock: Clock = systemClock, serving = false, create = true): Promise<Core> {
  const store = await openStore(config.store, {
    synchronous: config.synchronous,
    busyTimeoutMs: config.busyTimeoutMs,
    checkpointEveryMs: serving ? SERVER_CHECKPOINT_MS : undefined,
    mustExist: !create,
  });
  return createCore(
    store,
    {
      bcryptCost: config.bcryptCost,
      jwtSecret: config.jwtSecret,
      idleTtl: config.sessionTtl,
      maxAge: config.sessionMaxAge,
      retention: config.sessionRetention,
      lockoutThreshold: config.lockoutThreshold,
      lockoutAccountThreshold: config.lockoutAccountThreshold,
      lockoutMinutes: config.lockoutMinutes,
      loginRatePerMinute: config.loginRatePerMinute,
      loginRateExempt: config.loginRateExempt,
      auditRetention: config.auditRetention,
    },
    clock,
    initialPasswordFile(initialPasswordPath(config.dbPath, config.initialPasswordFile)),
  ).catch(async (err: unknown) => {
    await store.close().catch(() => undefined);
    throw err;
  });
}
