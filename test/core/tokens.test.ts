import { createHmac, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { InvalidToken } from '../../src/core/errors';
import { TokenMint } from '../../src/core/tokens';

/**
 * The JWT check on every log-out and renew: the mint accepts what it signed and nothing else, and agrees with
 * jsonwebtoken's own verify (HS256 pinned, expiry ignored) wherever that one accepts a token we could have
 * written. Where it is stricter (a header we never write), the case says so.
 */
const SECRET = randomBytes(48).toString('base64url');
const mint = new TokenMint(SECRET);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hmac = (input: string, key: string | Buffer, algorithm = 'sha256') => createHmac(algorithm, key).update(input).digest('base64url');
const signed = (header: unknown, claims: unknown, key: string | Buffer = SECRET, algorithm = 'sha256') => {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${hmac(input, key, algorithm)}`;
};
const issued = () => mint.mint('jwt', { username: 'ann', sessionId: 'a'.repeat(32), issuedAt: Date.now(), expiresAt: Date.now() + 60_000 });
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

const accepted = (token: string) => {
  try {
    mint.assertIssuable(token);
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidToken);
    return false;
  }
};
const libraryAccepts = (token: string) => {
  try {
    jwt.verify(token, SECRET, { algorithms: ['HS256'], ignoreExpiration: true });
    return true;
  } catch {
    return false;
  }
};

describe('TokenMint: which JWTs count as issued here', () => {
  it('accepts the tokens it mints, expired ones included (the session row decides about those)', () => {
    for (let i = 0; i < 20; i++) expect(accepted(issued())).toBe(true);
    const old = mint.mint('jwt', { username: 'ann', sessionId: 'b'.repeat(32), issuedAt: 0, expiresAt: 1000 });
    expect(libraryAccepts(old)).toBe(true);
    expect(accepted(old)).toBe(true);
  });

  it('accepts a token jsonwebtoken signs with the same secret and our claims', () => {
    const token = jwt.sign({ sub: 'ann', sid: 'c'.repeat(32), jti: 'd'.repeat(32) }, SECRET, { algorithm: 'HS256' });
    expect(accepted(token)).toBe(true);
  });

  describe('refuses, as jsonwebtoken does', () => {
    const token = issued();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = claimsOf(token);
    // Flipping the lowest bit of the last character changes only the two bits past the 256 of the HMAC.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.slice(-1)) ^ 1]!}`;
    const cases: [string, string][] = [
      ['the payload changed, the signature kept', `${header}.${b64({ ...claims, sub: 'root' })}.${signature}`],
      ['the signature changed', `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`],
      ['the signature cut short', `${header}.${payload}.${signature.slice(0, -1)}`],
      ['no signature at all', `${header}.${payload}.`],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`],
      ['HS512 with the right secret', signed({ alg: 'HS512', typ: 'JWT' }, claims, SECRET, 'sha512')],
      ['HS256 with another secret', signed({ alg: 'HS256', typ: 'JWT' }, claims, 'another-secret-another-secret-another')],
      ['RS256 signed with the secret as an HMAC key', signed({ alg: 'RS256', typ: 'JWT' }, claims)],
      ['the signature of another token', `${header}.${payload}.${issued().split('.')[2]!}`],
      ['the signature in a non-canonical spelling (its last character changed, same bits decoded)', `${header}.${payload}.${respelled}`],
    ];
    it.each(cases)('%s', (_name, forged) => {
      expect(forged).not.toBe(token);
      expect(libraryAccepts(forged)).toBe(false);
      expect(accepted(forged)).toBe(false);
    });

    it('the respelled signature decodes to the same bytes', () => {
      expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    });
  });

  describe('refuses, where jsonwebtoken would accept (a header this server never writes)', () => {
    const claims = claimsOf(issued());
    const cases: [string, string][] = [
      ['a kid, the right secret', signed({ alg: 'HS256', typ: 'JWT', kid: '1' }, claims)],
      ['the header keys in another order', signed({ typ: 'JWT', alg: 'HS256' }, claims)],
      ['no typ', signed({ alg: 'HS256' }, claims)],
    ];
    it.each(cases)('%s', (_name, token) => {
      expect(libraryAccepts(token)).toBe(true);
      expect(accepted(token)).toBe(false);
    });
  });

  it('refuses a well-signed token without the session and id claims', () => {
    const header = issued().split('.')[0]!;
    for (const claims of [{ sub: 'ann', jti: 'x' }, { sub: 'ann', sid: 'x' }, { sub: 'ann', sid: 1, jti: 'x' }]) {
      const input = `${header}.${b64(claims)}`;
      expect(accepted(`${input}.${hmac(input, SECRET)}`)).toBe(false);
    }
    const notJson = `${header}.${Buffer.from('not json').toString('base64url')}`;
    expect(accepted(`${notJson}.${hmac(notJson, SECRET)}`)).toBe(false);
    const notObject = `${header}.${b64('a string')}`;
    expect(accepted(`${notObject}.${hmac(notObject, SECRET)}`)).toBe(false);
  });
});
