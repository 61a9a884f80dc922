import bcrypt from 'bcrypt';
import { canonicalUsername, USERNAME_PROBLEMS } from '../precis';
import { BadInput } from './errors';

export const USERNAME_MAX_CHARS = 128;
/** bcrypt reads no further than 72 bytes; a longer password is refused rather than silently cut. */
export const PASSWORD_MAX_BYTES = 72;

// Control characters could end up in headers, logs and CSV exports; no legitimate name carries them.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function requireUsername(value: unknown, field = 'username'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadInput(field, 'missing', `${field} is required`);
  }
  if ([...value].length > USERNAME_MAX_CHARS) {
    throw new BadInput(field, 'invalid', `Invalid ${field}: longer than ${USERNAME_MAX_CHARS} characters`);
  }
  return value;
}

/** A name (a Zato definition's) that may be stored: the log-in rules plus no control characters. */
export function requireNewName(value: unknown, field = 'name'): string {
  const name = requireUsername(value, field);
  if (CONTROL_CHARS.test(name)) throw new BadInput(field, 'invalid', `Invalid ${field}: control characters`);
  return name;
}

/**
 * A username that may be stored: the log-in rules, then RFC 8265's UsernameCaseMapped profile. Answers the
 * name as given (kept for display) and its key (what it is compared by).
 */
export function requireNewUsername(value: unknown, field = 'username'): { username: string; key: string } {
  const username = requireUsername(value, field);
  const canonical = canonicalUsername(username);
  if (!canonical.ok) throw new BadInput(field, 'invalid', `Invalid ${field}: ${USERNAME_PROBLEMS[canonical.problem]}`);
  if ([...canonical.key].length > USERNAME_MAX_CHARS) {
    throw new BadInput(field, 'invalid', `Invalid ${field}: longer than ${USERNAME_MAX_CHARS} characters`);
  }
  return { username, key: canonical.key };
}

export function requirePassword(value: unknown, field = 'password'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadInput(field, 'missing', `${field} is required`);
  }
  if (Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES) {
    throw new BadInput(field, 'invalid', `Invalid ${field}: longer than ${PASSWORD_MAX_BYTES} bytes`);
  }
  return value;
}

/** bcrypt through its asynchronous API only, so hashing runs on the thread pool and never blocks requests. */
export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(private readonly cost: number) {}

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  /** Whether `hash` was made at another cost than the configured one (it is rehashed at the next good log-in). */
  needsRehash(hash: string): boolean {
    try {
      return bcrypt.getRounds(hash) !== this.cost;
    } catch {
      return false;
    }
  }

  matches(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash);
  }

  /** Spends a compare on a fixed hash, so an unknown username costs what a wrong password costs. */
  async spendCompare(password: string): Promise<void> {
    this.dummy ??= bcrypt.hash('dualgate-dummy-password', this.cost);
    await bcrypt.compare(password, await this.dummy);
  }
}
