import { isCoreError, StoreUnavailable } from '../core';

/**
 * What can be wrong with a request before any core call: the http layer raises these, and each door maps
 * each code once, beside the core's errors, in its error table.
 */
export type RequestErrorCode =
  | 'BodyTooLarge'
  | 'EmptyBody'
  | 'UnsupportedEncoding'
  /** The body stopped half-way, or its Content-Encoding could not be undone (a corrupt gzip stream). */
  | 'UnreadableBody'
  | 'ForbiddenMarkup'
  | 'MalformedXml'
  | 'NotSoap'
  | 'VersionMismatch'
  | 'ActionMismatch'
  | 'UnknownOperation'
  | 'MalformedJson'
  /** A path parameter whose percent-escapes do not decode (`/zato/json/a%ZZ`). */
  | 'MalformedPath'
  | 'MethodNotAllowed'
  | 'Unauthenticated'
  /** A call that carries its token in a header (a Zato 3 style log-out) came without one. */
  | 'MissingToken'
  | 'CsrfMismatch'
  /** What two readers could read differently: a field given twice, an element inside a value, a second Body. */
  | 'Ambiguous'
  /** A `mustUnderstand` header entry the door does not process. */
  | 'MustUnderstand'
  /** A WS-Security header refused before its credentials are checked (digest, replayed nonce, stale Created). */
  | 'SecurityRefused';

export class RequestError extends Error {
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    /** The field or key at fault, when one is (a JSON key given twice). */
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * Whether the client caused `err` (a bad request, a wrong password, a dead token...) rather than the server.
 * A SOAP fault is HTTP 500 whoever is at fault, so the status alone cannot tell the operator's log.
 */
export function isClientFault(err: unknown): boolean {
  return err instanceof RequestError || (isCoreError(err) && !(err instanceof StoreUnavailable));
}
