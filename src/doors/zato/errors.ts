import { isCoreError, type BadInput, type Conflict, type CoreErrorCode, type Throttled } from '../../core';
import { RequestError, type RequestErrorCode } from '../../http/request-errors';

export const REALM = 'Zato public API';

/** How one error goes out: the JSON status, the SOAP faultcode, the human message, and any extra headers. */
export interface ZatoError {
  status: number;
  faultcode: 'soap:Client' | 'soap:Server' | 'soap:VersionMismatch' | 'soap:MustUnderstand';
  message: string;
  headers: Record<string, string>;
  /** HTTP status of the SOAP fault: 500 as SOAP 1.1 and WS-I have it, except a body too large (413). */
  soapStatus: number;
  /** Zato 3's bare JSON answer `{"result": message}` instead of the `zato_env` envelope. */
  bare: boolean;
}

type ErrorCode = CoreErrorCode | RequestErrorCode | 'Internal';

interface Row {
  status: number;
  fault: 'Client' | 'Server' | 'VersionMismatch' | 'MustUnderstand';
  /** The message when it is not the error's own. */
  message?: (err: Error) => string;
  headers?: (err: Error) => Record<string, string>;
  bare?: true;
}

const challenge = () => ({ 'WWW-Authenticate': `Basic realm="${REALM}"` });
const client = (status: number, extra: Omit<Row, 'status' | 'fault'> = {}): Row => ({ status, fault: 'Client', ...extra });

/**
 * The one table from every error the Zato door can meet to its wire: the core's errors, the http layer's
 * request errors, and 'Internal' for anything else. Messages are safe to show: core messages never carry
 * a password or token, and nothing here adds one.
 */
const TABLE: Record<ErrorCode, Row> = {
  // core
  BadInput: client(400, {
    message: (err) => ((err as BadInput).problem === 'missing' ? `Missing element: ${(err as BadInput).field}` : err.message),
  }),
  InvalidCredentials: client(401, { headers: challenge }),
  InvalidToken: client(400),
  TokenExpired: client(400),
  Forbidden: client(403),
  NotFound: client(404),
  Conflict: client(409, {
    message: (err) => {
      const { field, value } = err as Conflict;
      return field === 'name' ? `JWT definition \`${value}\` already exists` : `JWT definition with ${field} \`${value}\` already exists`;
    },
  }),
  Throttled: client(429, { headers: (err) => ({ 'Retry-After': String((err as Throttled).retryAfterSeconds) }) }),
  StoreUnavailable: { status: 500, fault: 'Server' },
  // http
  BodyTooLarge: client(413),
  EmptyBody: client(400),
  UnsupportedEncoding: client(400),
  ForbiddenMarkup: client(400),
  MalformedXml: client(400),
  UnreadableBody: client(400),
  NotSoap: client(400),
  VersionMismatch: { status: 400, fault: 'VersionMismatch' },
  ActionMismatch: client(400),
  UnknownOperation: client(404),
  MalformedJson: client(400),
  MalformedPath: client(400),
  MethodNotAllowed: client(405),
  Unauthenticated: client(401, { headers: challenge }),
  // Zato 3's `/zato/jwt/log-out` without a token: its own words, bare.
  MissingToken: client(400, { bare: true }),
  CsrfMismatch: client(403),
  Ambiguous: client(400),
  MustUnderstand: { status: 400, fault: 'MustUnderstand' },
  SecurityRefused: client(401),
  // anything else: the stack goes to the log, the cid lets an operator find it
  Internal: { status: 500, fault: 'Server', message: () => 'Internal server error' },
};

function codeOf(err: unknown): ErrorCode {
  if (isCoreError(err) || err instanceof RequestError) return err.code;
  return 'Internal';
}

/** Looks `err` up in the table. */
export function zatoError(err: unknown): ZatoError {
  const row = TABLE[codeOf(err)];
  const error = err instanceof Error ? err : new Error(String(err));
  return {
    status: row.status,
    faultcode: `soap:${row.fault}`,
    message: row.message ? row.message(error) : error.message,
    headers: row.headers ? row.headers(error) : {},
    soapStatus: row.status === 413 ? 413 : 500,
    bare: row.bare === true,
  };
}
