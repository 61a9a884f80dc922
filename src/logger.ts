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
 * Lines wait at most this long, or until this many bytes wait, and then go out in one asynchronous write:
 * each write is a trip to the thread pool and back, about 20 µs of CPU however short it is, which under load
 * was the request line's largest cost. pino writes out what still waits when the process exits (a graceful
 * stop, `process.exit`, an uncaught exception); only a kill that gives it no exit (SIGKILL, out of memory)
 * loses the last lines.
 */
const BATCH_MS = 20;
const BATCH_BYTES = 8 * 1024;

let stdout: pino.DestinationStream | undefined;

/**
 * The process's one batched stdout. Shared, because its flush timer lives as long as the process: a logger of
 * its own for every gateway a process opens and closes (an embedder's, a test suite's) would leave one more
 * timer writing every 20 ms each time.
 */
function batchedStdout(): pino.DestinationStream {
  return (stdout ??= pino.destination({ sync: false, minLength: BATCH_BYTES, periodicFlush: BATCH_MS }));
}

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
    destination ?? batchedStdout(),
  );
}
