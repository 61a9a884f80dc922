import { randomBytes } from 'node:crypto';
import type { Store } from '../store/types';
import { Accounts } from './accounts';
import { AuditLog } from './audit';
import { systemClock, type Clock } from './clock';
import { PasswordHasher } from './credentials';
import { Nonces } from './nonces';
import { Sessions, type SessionSettings } from './sessions';
import { LoginThrottle } from './throttle';
import { TokenMint } from './tokens';
import { guardStore } from './guarded-store';

export interface CoreSettings extends SessionSettings {
  bcryptCost: number;
  /** Log-in attempts a client address may make per minute, across every door; 0 turns the limit off. */
  loginRatePerMinute: number;
  /** From DUALGATE_JWT_SECRET; absent: generated once and kept in the database. */
  jwtSecret?: string;
}

export interface Core {
  accounts: Accounts;
  sessions: Sessions;
  audit: AuditLog;
  /** Nonces good once (WS-Security), across workers and nodes. */
  nonces: Nonces;
  clock: Clock;
  /** Answers when the store answers; throws `StoreUnavailable` when it does not. */
  ping(): Promise<void>;
  /** An online copy of the database, consistent even while requests write. */
  backup(path: string): Promise<void>;
  close(): Promise<void>;
}

export async function createCore(rawStore: Store, settings: CoreSettings, clock: Clock = systemClock): Promise<Core> {
  const store = guardStore(rawStore);
  const jwtSecret = settings.jwtSecret ?? (await store.secret('jwt', randomBytes(48).toString('base64url')));
  const hasher = new PasswordHasher(settings.bcryptCost);
  const audit = new AuditLog(store, clock);
  return {
    accounts: new Accounts(store, hasher, audit, clock),
    sessions: new Sessions(
      store,
      hasher,
      new TokenMint(jwtSecret),
      audit,
      clock,
      settings,
      new LoginThrottle(store, clock, settings.loginRatePerMinute),
    ),
    audit,
    nonces: new Nonces(store),
    clock,
    ping: () => store.ping(),
    backup: (path) => store.backup(path),
    close: () => store.close(),
  };
}

export * from './errors';
export type { RequestContext } from './context';
export type { Account } from './accounts';
export type { Issued, LiveSession, LoginOptions } from './sessions';
