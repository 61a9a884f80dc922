import { isCoreError, type BadInput, type CoreErrorCode, type StoreUnavailable, type Throttled } from '../../core';
import type { Exchange } from '../../http/exchange';
import { replyJson } from '../../http/reply';
import { RequestError, type RequestErrorCode } from '../../http/request-errors';

/** Every error body of this door: Studio's `{"message": ...}`, and the field at fault for a 400 when known. */
export interface StudioError {
  message: string;
  field?: string;
}

interface WireError {
  status: number;
  body: StudioError;
  headers?: Record<string, string>;
}

type ErrorCode = CoreErrorCode | RequestErrorCode | 'Internal';

const reply =
  (status: number, message: string) =>
  (): WireError => ({ status, body: { message } });

const badRequest = reply(400, 'Bad Request');
/** A request error that names its field (a JSON key given twice) says it, as a BadInput does. */
const badRequestNaming = (err: Error): WireError => {
  const field = (err as RequestError).field;
  return { status: 400, body: field === undefined ? { message: 'Bad Request' } : { message: 'Bad Request', field } };
};
const unauthorized = reply(401, 'Unauthorized');
const notFound = reply(404, 'Not Found');

/**
 * The one table from every error this door can meet to Studio's wire: the core's errors, the http layer's
 * request errors, and 'Internal' for anything else. `message` keeps Studio's exact wording, so a client
 * that compares it keeps working; a 500 adds the short cause after it, as the seed shows.
 */
const TABLE: Record<ErrorCode, (err: Error, cid: string) => WireError> = {
  // core
  BadInput: (err) => ({ status: 400, body: { message: 'Bad Request', field: (err as BadInput).field } }),
  InvalidCredentials: unauthorized,
  InvalidToken: unauthorized,
  TokenExpired: unauthorized,
  Forbidden: reply(403, 'Forbidden'),
  NotFound: notFound,
  Conflict: reply(409, 'Conflict'),
  Throttled: (err) => ({
    status: 429,
    body: { message: 'Too Many Requests' },
    headers: { 'Retry-After': String((err as Throttled).retryAfterSeconds) },
  }),
  StoreUnavailable: (err) => internal((err as StoreUnavailable).reason),
  // http
  BodyTooLarge: reply(413, 'Payload Too Large'),
  EmptyBody: badRequest,
  UnsupportedEncoding: reply(415, 'Unsupported Media Type'),
  ForbiddenMarkup: badRequest,
  MalformedXml: badRequest,
  UnreadableBody: badRequest,
  NotSoap: badRequest,
  VersionMismatch: badRequest,
  ActionMismatch: badRequest,
  UnknownOperation: notFound,
  MalformedJson: badRequestNaming,
  MalformedPath: badRequest,
  MethodNotAllowed: reply(405, 'Method Not Allowed'),
  Unauthenticated: unauthorized,
  MissingToken: unauthorized,
  CsrfMismatch: reply(403, 'Forbidden'),
  Ambiguous: badRequest,
  MustUnderstand: badRequest,
  SecurityRefused: unauthorized,
  // anything else: the cid lets an operator find the stack in the log
  Internal: (_err, cid) => internal(`unexpected error, cid ${cid}`),
};

function internal(reason: string): WireError {
  return { status: 500, body: { message: `Internal server error. ${reason}` } };
}

function codeOf(err: unknown): ErrorCode {
  if (isCoreError(err) || err instanceof RequestError) return err.code;
  return 'Internal';
}

/** Answers `err` the Studio way; the request log line names the error (and carries its stack on a 500). */
export function sendError(x: Exchange, err: unknown): void {
  const wire = TABLE[codeOf(err)](err instanceof Error ? err : new Error(String(err)), x.cid);
  replyJson(x.res, wire.status, wire.body, wire.headers);
}
