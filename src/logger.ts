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
    destination ?? new LineBatch(pino.destination({ sync: false })),
  );
}

type Sink = pino.DestinationStream & { flush(cb?: (err?: Error) => void): void; flushSync(): void };

/** Batches holding lines not yet handed to their sink: written out synchronously should the process exit. */
const pending = new Set<LineBatch>();
let exitHooked = false;

/** How long a line may wait to be written, at most; and how many bytes may wait before they are written at once. */
const BATCH_MS = 20;
const BATCH_BYTES = 64 * 1024;

/**
 * The lines logged over a few milliseconds, handed to the asynchronous sink as one write. Each asynchronous
 * write costs about 20 µs of CPU however short it is (a hop to the thread pool and back), which under load
 * was the request line's largest cost: one write for a batch of lines instead of one each. No line waits more
 * than `BATCH_MS`. At exit (the end of a graceful stop, `process.exit`, an uncaught exception) what is pending
 * is written synchronously, as the sink's own buffer is; only a kill that gives the process no exit at all
 * (SIGKILL, out of memory) loses the last few milliseconds' lines.
 */
export class LineBatch implements pino.DestinationStream {
  private lines = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sink: Sink) {
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => {
        for (const batch of pending) {
          try {
            batch.flushSync();
          } catch {
            // Exiting anyway: a sink that cannot write now loses its lines, as it would have without the batch.
          }
        }
      });
    }
  }

  write(line: string): void {
    if (this.lines === '') {
      pending.add(this);
      // Not unref'd: a process whose work is done lives on until its last lines are handed over.
      this.timer = setTimeout(this.handOver, BATCH_MS);
    }
    this.lines += line;
    if (this.lines.length >= BATCH_BYTES) this.handOver();
  }

  /** pino's `logger.flush(cb)`: what is pending goes to the sink now, and `cb` once the sink has written it. */
  flush(cb?: (err?: Error) => void): void {
    this.handOver();
    this.sink.flush(cb);
  }

  flushSync(): void {
    this.handOver();
    this.sink.flushSync();
  }

  private readonly handOver = (): void => {
    if (this.lines === '') return;
    clearTimeout(this.timer);
    const lines = this.lines;
    this.lines = '';
    pending.delete(this);
    this.sink.write(lines);
  };
}
