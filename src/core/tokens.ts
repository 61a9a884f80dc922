import { createHash, createHmac, createSecretKey, randomBytes, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { TokenKind } from '../store/types';
import { InvalidToken } from './errors';

/** The only algorithm dualgate signs or accepts; pinned on every verify. */
const JWT_ALGORITHM = 'HS256' as const;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const COOKIE_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** What the database keeps instead of a token: its SHA-256. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function newSessionId(): string {
  return randomBytes(16).toString('hex');
}

/** The kind a presented token has by its shape, so any door can end a session opened at another. */
export function kindOf(token: string): TokenKind | undefined {
  if (UUID_V4.test(token)) return 'guid';
  if (COOKIE_TOKEN.test(token)) return 'cookie';
  if (token.length <= 4096 && JWT_SHAPE.test(token)) return 'jwt';
  return undefined;
}

export interface JwtClaims {
  username: string;
  sessionId: string;
  /** Epoch ms; becomes `exp`. */
  expiresAt: number;
  /** Epoch ms; becomes `iat`. */
  issuedAt: number;
}

export class TokenMint {
  /**
   * The secret as a key object, made once. Given a string, jsonwebtoken first tries it as a PEM key on every
   * sign and verify and pays for OpenSSL's failure each time (about half a millisecond of CPU); the key
   * object's bytes are the same, so tokens are the same.
   */
  private readonly jwtKey: KeyObject;
  /** The first segment of every JWT minted here, as jsonwebtoken writes it for HS256: the only one accepted. */
  private readonly jwtHeader: string;

  constructor(jwtSecret: string) {
    this.jwtKey = createSecretKey(Buffer.from(jwtSecret, 'utf8'));
    this.jwtHeader = jwt.sign({}, this.jwtKey, { algorithm: JWT_ALGORITHM }).split('.')[0]!;
  }

  mint(kind: TokenKind, claims: JwtClaims): string {
    switch (kind) {
      case 'guid':
        return randomUUID();
      case 'cookie':
        return randomBytes(32).toString('base64url');
      case 'jwt':
        return jwt.sign(
          {
            sub: claims.username,
            sid: claims.sessionId,
            jti: randomBytes(16).toString('hex'),
            iat: Math.floor(claims.issuedAt / 1000),
            exp: Math.ceil(claims.expiresAt / 1000),
          },
          this.jwtKey,
          { algorithm: JWT_ALGORITHM },
        );
    }
  }

  /**
   * Checks that this server could have issued `token`, without deciding whether its session still lives:
   * that is the session row's word. An expired JWT still passes here (its session row says it is dead);
   * a forged, re-signed or `alg: none` one does not.
   */
  assertIssuable(token: string): TokenKind {
    const kind = kindOf(token);
    if (!kind) throw new InvalidToken();
    if (kind === 'jwt' && !this.signedHere(token)) throw new InvalidToken();
    return kind;
  }

  /**
   * A JWT is ours when its header is byte for byte the one we write (so HS256, no `kid`, no other header),
   * its signature is the HMAC of its first two segments under our key, in canonical base64url, and it names
   * a session and an id. Checked here rather than by `jwt.verify`, which looks the algorithm up in the header
   * it parses and cost about a sixth of a log-out's CPU; a token also counts only once its hash is found stored.
   */
  private signedHere(token: string): boolean {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    if (header !== this.jwtHeader) return false;
    const expected = Buffer.from(createHmac('sha256', this.jwtKey).update(`${header}.${payload}`).digest('base64url'));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    try {
      const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const ids = claims as JwtIds | null;
      return typeof ids === 'object' && ids !== null && typeof ids.sid === 'string' && typeof ids.jti === 'string';
    } catch {
      return false;
    }
  }
}

/** The claims that tie a JWT to its session. */
interface JwtIds {
  sid?: unknown;
  jti?: unknown;
}
