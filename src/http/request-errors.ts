/**
 * What can be wrong with a request before any core call: the http layer raises these, and each door maps
 * each code once, beside the core's errors, in its error table.
 */
export type RequestErrorCode =
  | 'BodyTooLarge'
  | 'EmptyBody'
  | 'UnsupportedEncoding'
  | 'ForbiddenMarkup'
  | 'MalformedXml'
  | 'NotSoap'
  | 'VersionMismatch'
  | 'ActionMismatch'
  | 'UnknownOperation'
  | 'MalformedJson'
  | 'MethodNotAllowed'
  | 'Unauthenticated'
  | 'CsrfMismatch';

export class RequestError extends Error {
  constructor(
    readonly code: RequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}
