import { isCoreError, type BadInput, type CoreErrorCode, type StoreUnavailable, type Throttled } from '../../core';
import type { Exchange } from '../../http/exchange';
import { replyJson } from '../../http/reply';
import { RequestError, type RequestErrorCode } from '../../http/request-errors';

/** Every error body of the console's API. `code` is for the page's script, `error` for the operator. */
export interface ConsoleErrorBody {
  error: string;
  code: string;
  cid: string;
  /** The field at fault, for a 400. */
  field?: string;
  /** When a locked account may try again (epoch ms). */
  lockedUntil?: number;
}

type ErrorCode = CoreErrorCode | RequestErrorCode | 'Internal';

interface Row {
  status: number;
  /** The message when it is not the error's own. */
  message?: (err: Error, cid: string) => string;
  extra?: (err: Error) => Partial<ConsoleErrorBody>;
  headers?: (err: Error) => Record<string, string>;
}

const as = (status: number, text?: string): Row => (text === undefined ? { status } : { status, message: () => text });

/**
 * The one table from every error the console can meet to its answer: the core's errors, the http layer's
 * request errors, and 'Internal' for anything else. Core messages are safe to show; nothing here adds a
 * password or a token.
 */
const TABLE: Record<ErrorCode, Row> = {
  // core
  BadInput: { status: 400, extra: (err) => ({ field: (err as BadInput).field }) },
  InvalidCredentials: as(401),
  InvalidToken: as(401, 'Not logged in'),
  TokenExpired: as(401, 'Not logged in'),
  Forbidden: as(403),
  NotFound: as(404),
  Conflict: as(409),
  Throttled: { status: 429, headers: (err) => ({ 'Retry-After': String((err as Throttled).retryAfterSeconds) }) },
  StoreUnavailable: { status: 503, message: (err) => `Store unavailable: ${(err as StoreUnavailable).reason}` },
  // http
  BodyTooLarge: as(413),
  EmptyBody: as(400),
  UnsupportedEncoding: as(415),
  ForbiddenMarkup: as(400),
  MalformedXml: as(400),
  UnreadableBody: as(400),
  NotSoap: as(400),
  VersionMismatch: as(400),
  ActionMismatch: as(400),
  UnknownOperation: as(404),
  MalformedJson: as(400),
  MalformedPath: as(400),
  MethodNotAllowed: as(405),
  Unauthenticated: as(401),
  MissingToken: as(401),
  CsrfMismatch: as(403),
  Ambiguous: as(400),
  MustUnderstand: as(400),
  SecurityRefused: as(401),
  // anything else: the cid lets an operator find the stack in the log
  Internal: { status: 500, message: (_err, cid) => `Internal server error (cid ${cid})` },
};

function codeOf(err: unknown): ErrorCode {
  if (isCoreError(err) || err instanceof RequestError) return err.code;
  return 'Internal';
}

/**
 * Answers `err` as the console's JSON error: the door's `fail`, which the pipeline calls with whatever a route
 * threw (the request log line names it, with the stack on a 500).
 */
export function sendError(x: Exchange, err: unknown): void {
  const code = codeOf(err);
  const row = TABLE[code];
  const error = err instanceof Error ? err : new Error(String(err));
  const body: ConsoleErrorBody = { error: row.message ? row.message(error, x.cid) : error.message, code, cid: x.cid, ...row.extra?.(error) };
  replyJson(x.res, row.status, body, row.headers?.(error));
}
