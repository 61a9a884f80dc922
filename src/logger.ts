import pino from 'pino';
import type { LogLevel } from './config';

export type Logger = pino.Logger;

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
      redact: {
        paths: [
          'password',
          'token',
          '*.password',
          '*.token',
          '*.password1',
          '*.password2',
          '*.authorization',
          '*.cookie',
          'headers.authorization',
          'headers.cookie',
          'req.headers.authorization',
          'req.headers.cookie',
        ],
        censor: '[redacted]',
      },
      serializers: { err: pino.stdSerializers.err },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
