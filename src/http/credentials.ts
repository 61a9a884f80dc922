import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * HTTP Basic credentials (RFC 7617): `Basic <base64 of user-id ":" password>`, the scheme in any case; a
 * header that is not that carries no credentials. Decoded without a colon, it is a user-id and no password:
 * every door refuses it as it refuses a wrong password (the one answer for every bad log-in).
 */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const encoded = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { username: decoded, password: '' };
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether two secrets are equal, compared through their digests: the time taken says nothing about where
 * they differ, nor about their lengths.
 */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
