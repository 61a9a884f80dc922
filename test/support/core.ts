import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createCore, type Core } from '../../src/core';
import type { CoreSettings } from '../../src/core';
import { ManualClock } from '../../src/core/clock';
import { parseStoreLocation } from '../../src/store/location';
import { openStore } from '../../src/store/open';
import { tempDir } from './server';

export const TEST_CORE_SETTINGS: CoreSettings = {
  bcryptCost: 4,
  idleTtl: 3600,
  maxAge: 43_200,
  retention: 7 * 86_400,
  lockoutThreshold: 5,
  lockoutAccountThreshold: 50,
  lockoutMinutes: 15,
  auditRetention: 90 * 86_400,
  loginRatePerMinute: 0,
};

export interface TestCore {
  core: Core;
  clock: ManualClock;
  dbPath: string;
  /** A second, read-only look at the same file, to check what is really stored. */
  raw(): Database.Database;
}

/** The core over a real SQLite file in a fresh directory (or the store `at.dbPath` names). */
export async function openTestCore(
  settings: Partial<CoreSettings> = {},
  at: { dbPath?: string; clock?: ManualClock } = {},
): Promise<TestCore> {
  const dbPath = at.dbPath ?? join(tempDir(), 'core.db');
  const clock = at.clock ?? new ManualClock(Date.UTC(2026, 5, 1, 12));
  // A file path opens SQLite; a PostgreSQL URL (test/support/store.ts) opens that database.
  const store = await openStore(parseStoreLocation(dbPath, 4).location!, { synchronous: 'NORMAL', busyTimeoutMs: 2000 });
  const core = await createCore(store, { ...TEST_CORE_SETTINGS, ...settings }, clock);
  return { core, clock, dbPath, raw: () => new Database(dbPath, { readonly: true }) };
}
