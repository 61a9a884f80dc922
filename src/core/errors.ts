/**
 * The core's error catalogue. Every failure the core reports is one of these classes; each door maps
 * each `code` once, in its own table, to its wire format. `message` is safe to show to a caller: it never
 * carries a password, a token or a stack.
 */
export type CoreErrorCode =
  | 'BadInput'
  | 'InvalidCredentials'
  | 'InvalidToken'
  | 'TokenExpired'
  | 'Forbidden'
  | 'NotFound'
  | 'Conflict'
  | 'Throttled'
  | 'StoreUnavailable';

export abstract class CoreError extends Error {
  abstract readonly code: CoreErrorCode;
}

/**
 * A field is missing (`missing`), or of the wrong type or out of range (`invalid`). `field` names it, with
 * the wire's name for it, so a door can word the error its own way.
 */
export class BadInput extends CoreError {
  readonly code = 'BadInput';
  constructor(
    readonly field: string,
    readonly problem: 'missing' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Unknown user, wrong password, a name locked for this address or a locked account, inactive account, or a
 * role that may not log in here: one error for all, so no answer tells which.
 */
export class InvalidCredentials extends CoreError {
  readonly code = 'InvalidCredentials';
  constructor() {
    super('Invalid username or password');
  }
}

/** A token this server never issued: garbage, a wrong signature or algorithm, or an unknown value. */
export class InvalidToken extends CoreError {
  readonly code = 'InvalidToken';
  constructor() {
    super('Invalid token');
  }
}

/** A token this server issued whose session has ended (expired, revoked, or the token was replaced). */
export class TokenExpired extends CoreError {
  readonly code = 'TokenExpired';
  constructor() {
    super('Token expired');
  }
}

export class Forbidden extends CoreError {
  readonly code = 'Forbidden';
  constructor(message = 'Forbidden') {
    super(message);
  }
}

export class NotFound extends CoreError {
  readonly code = 'NotFound';
  constructor(message: string) {
    super(message);
  }
}

/** A unique name or username is taken. `field` and `value` let a door word it its own way. */
export class Conflict extends CoreError {
  readonly code = 'Conflict';
  constructor(
    readonly field: string,
    readonly value: string,
  ) {
    super(`An account with ${field} "${value}" already exists`);
  }
}

export class Throttled extends CoreError {
  readonly code = 'Throttled';
  constructor(
    readonly retryAfterSeconds: number,
    /** The throttle window that is full (epoch ms), for the audit's one row per address and window. */
    readonly windowStart = 0,
  ) {
    super('Too many attempts');
  }
}

/** The store could not answer (locked, read-only, missing, full). `reason` is short and safe to show. */
export class StoreUnavailable extends CoreError {
  readonly code = 'StoreUnavailable';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Store unavailable: ${reason}`, options);
  }
}

export function isCoreError(err: unknown): err is CoreError {
  return err instanceof CoreError;
}
