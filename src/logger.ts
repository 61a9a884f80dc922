import pino from 'pino';
import type { LogLevel } from './config';

export type Logger = pino.Logger;

/**
 * Every field that carries a password, a token or a secret in any door's dialect (Zato, xWeb, Crafter),
 * in any header, or in the settings. Redacted at the top of a log line's object and two levels down.
 */
export const SECRET_FIELDS = [
  'password',
  'password1',
  'password2',
  'passwordPlain',
  'token',
  'Token',
  'authenticationToken',
  'AuthorizationToken',
  'keyOverride',
  'jwtSecret',
  'secret',
  'authorization',
  'cookie',
  'set-cookie',
  'x-xsrf-token',
  'JSESSIONID',
  'DUALGATE_JWT_SECRET',
  'DUALGATE_XWEB_KEY_OVERRIDE',
] as const;

const key = (field: string) => (/^[A-Za-z_$][\w$]*$/.test(field) ? `.${field}` : `["${field}"]`);
const REDACTED_PATHS = SECRET_FIELDS.flatMap((field) => [key(field).replace(/^\./, ''), `*${key(field)}`, `*.*${key(field)}`]);

/**
 * JSON lines on stdout. Request bodies are never logged; the redaction list is a second line of defence
 * should a password or token field ever reach a log call.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
