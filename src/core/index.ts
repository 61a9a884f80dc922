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
import { StoreUnavailable } from './errors';
import type { InitialPassword } from './initial-password';

export interface CoreSettings extends SessionSettings {
  bcryptCost: number;
  /** Failed log-ins a client address may make per minute, across every door; 0 turns the limit off. */
  loginRatePerMinute: number;
  /** Addresses and CIDRs the log-in rate never applies to. */
  loginRateExempt?: readonly string[];
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

export async function createCore(
  rawStore: Store,
  settings: CoreSettings,
  clock: Clock = systemClock,
  /** Where the first admin's password goes on an empty database (absent: nowhere but the caller). */
  initialPassword?: InitialPassword,
): Promise<Core> {
  const store = guardStore(rawStore);
  const jwtSecret = settings.jwtSecret ?? (await store.secret('jwt', randomBytes(48).toString('base64url')));
  const hasher = new PasswordHasher(settings.bcryptCost);
  const audit = new AuditLog(store, clock);
  const throttle = new LoginThrottle(store, clock, settings.loginRatePerMinute, settings.loginRateExempt);
  const sessions = new Sessions(store, hasher, new TokenMint(jwtSecret), audit, clock, settings, throttle);
  return {
    accounts: new Accounts(store, hasher, audit, clock, initialPassword),
    sessions,
    audit,
    nonces: new Nonces(store),
    clock,
    ping: () => store.ping(),
    backup: (path) => (rawStore.backup ? store.backup!(path) : Promise.reject(new StoreUnavailable('this store has no backup of its own: use its own tools'))),
    close: async () => {
      await sessions.settle();
      await store.close();
    },
  };
}

export * from './errors';
export type { RequestContext } from './context';
export type { Account } from './accounts';
export type { AddressLock } from '../store/types';
export type { AuditQuery } from '../store/types';
export type { Issued, LiveSession, LoginOptions } from './sessions';
