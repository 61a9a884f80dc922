import { randomUUID } from 'node:crypto';
import { sameSecret } from '../../http/credentials';
import { RequestError } from '../../http/request-errors';

export const XSRF_HEADER = 'X-XSRF-TOKEN';

/** A fresh value for the `XSRF-TOKEN` cookie (a UUID, as Studio's own). */
export function newXsrfValue(): string {
  return randomUUID();
}

/**
 * Studio's double submit: the `XSRF-TOKEN` cookie and the `X-XSRF-TOKEN` header must both be there and
 * equal. A page on another site can make the browser send the cookie but cannot read it to set the header.
 * The two are compared through their digests, so the time taken says nothing about where they differ,
 * nor about their lengths.
 */
export function requireXsrfPair(cookie: string | undefined, header: string | undefined): void {
  if (!cookie || !header || !sameSecret(cookie, header)) {
    throw new RequestError('CsrfMismatch', 'The XSRF-TOKEN cookie and the X-XSRF-TOKEN header must match');
  }
}
