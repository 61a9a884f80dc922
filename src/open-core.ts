import type { Config } from './config';
import { createCore, type Core } from './core';
import { systemClock, type Clock } from './core/clock';
import { openSqliteStore } from './store/sqlite';

/** The configured store and the core over it: what `serve` and every CLI command start from. */
export function openCore(config: Config, clock: Clock = systemClock): Promise<Core> {
  const store = openSqliteStore({
    path: config.dbPath,
    synchronous: config.synchronous,
    busyTimeoutMs: config.busyTimeoutMs,
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
      lockoutMinutes: config.lockoutMinutes,
      loginRatePerMinute: config.loginRatePerMinute,
    },
    clock,
  );
}
