import { BadInput, isCoreError, Throttled, type CoreErrorCode } from '../../core';
import { RequestError, type RequestErrorCode } from '../../http/request-errors';
import type { XwebOperation } from './operations';

/** The `<Kind>ExceptionInfo` of a fault's detail and the JSON `<Kind>Exception`. */
export type FaultKind = 'InvalidCredentials' | 'InvalidToken' | 'System';

/** How one error goes out, at either wire. */
export interface WireError {
  kind: FaultKind;
  /** Safe to show: never a password, a token or a stack. */
  message: string;
  /** The JSON status. SOAP faults go out with 500 (413 for a body too large). */
  status: number;
  /** SOAP 1.1 faultcode. */
  faultcode: 'Client' | 'Server' | 'VersionMismatch' | 'MustUnderstand';
  /** Response headers the error brings at either wire (`Retry-After` for the throttle). */
  headers: Record<string, string>;
}

type ErrorCode = CoreErrorCode | RequestErrorCode | 'Internal';

interface Row {
  kind: FaultKind;
  status: number;
  faultcode?: WireError['faultcode'];
  /** A fixed message; absent: the error's own (safe) message. */
  message?: string;
  /** Where an operation tells the same error otherwise. */
  at?: Partial<Record<XwebOperation['name'], Omit<Row, 'at'>>>;
}

const SYSTEM_400: Row = { kind: 'System', status: 400 };
const INVALID_TOKEN: Row = { kind: 'InvalidToken', status: 401, message: 'Invalid Token Value' };

/** Every error the xWeb door can meet, once: the core's, the http layer's, and the unexpected ('Internal'). */
const ERRORS: Record<ErrorCode, Row> = {
  // The core's errors.
  BadInput: SYSTEM_400,
  InvalidCredentials: {
    kind: 'InvalidCredentials',
    status: 401,
    message: 'Invalid Credentials Supplied',
    // A customer's wrong password: the integrator's own authentication is fine, so not a 401.
    at: { WebLogin: { kind: 'System', status: 400, message: 'Unable to login user.' } },
  },
  InvalidToken: INVALID_TOKEN,
  TokenExpired: INVALID_TOKEN,
  Forbidden: { kind: 'System', status: 403 },
  NotFound: { kind: 'System', status: 404 },
  Conflict: { kind: 'System', status: 409 },
  Throttled: { kind: 'System', status: 429 },
  StoreUnavailable: { kind: 'System', status: 503, faultcode: 'Server', message: 'The service is temporarily unavailable' },
  // The http layer's errors, raised before any core call.
  BodyTooLarge: { kind: 'System', status: 413 },
  EmptyBody: SYSTEM_400,
  UnsupportedEncoding: SYSTEM_400,
  ForbiddenMarkup: SYSTEM_400,
  MalformedXml: SYSTEM_400,
  UnreadableBody: SYSTEM_400,
  NotSoap: SYSTEM_400,
  VersionMismatch: { kind: 'System', status: 400, faultcode: 'VersionMismatch' },
  ActionMismatch: SYSTEM_400,
  UnknownOperation: { kind: 'System', status: 404 },
  MalformedJson: SYSTEM_400,
  MalformedPath: SYSTEM_400,
  MethodNotAllowed: { kind: 'System', status: 405 },
  Unauthenticated: INVALID_TOKEN,
  MissingToken: INVALID_TOKEN,
  CsrfMismatch: { kind: 'System', status: 403 },
  Ambiguous: SYSTEM_400,
  MustUnderstand: { kind: 'System', status: 400, faultcode: 'MustUnderstand' },
  SecurityRefused: { kind: 'System', status: 401 },
  // Anything else: the cid to find the stack in the log by.
  Internal: { kind: 'System', status: 500, faultcode: 'Server' },
};

/** How `err`, met during `operation` (if dispatch got that far), goes out. */
export function describeError(err: unknown, operation: XwebOperation | undefined, cid: string): WireError {
  const code: ErrorCode = isCoreError(err) || err instanceof RequestError ? err.code : 'Internal';
  const base = ERRORS[code];
  const row = (operation && base.at?.[operation.name]) ?? base;
  return {
    kind: row.kind,
    status: row.status,
    faultcode: row.faultcode ?? 'Client',
    message: row.message ?? ownMessage(err, operation, cid),
    headers: err instanceof Throttled ? { 'Retry-After': String(err.retryAfterSeconds) } : {},
  };
}

function ownMessage(err: unknown, operation: XwebOperation | undefined, cid: string): string {
  if (err instanceof BadInput) {
    // The core names its own fields (username, password); tell them by the operation's wire names.
    const wire = operation?.fields.find((f) => f.core === err.field)?.name;
    return wire ? err.message.replace(err.field, wire) : err.message;
  }
  if (isCoreError(err) || err instanceof RequestError) return err.message;
  return `Internal error (cid ${cid})`;
}
