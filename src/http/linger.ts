import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long and how much a refused client may go on sending before its connection is closed. A client that
 * writes its whole body before reading (Python's http.client, many older stacks) must be able to finish
 * writing, or the close resets the connection and it never reads the answer (RFC 9112 §9.6).
 */
export interface Linger {
  /** At most this long after the answer. */
  totalMs: number;
  /** Closed sooner when nothing arrives for this long: the client is done, or gone. */
  idleMs: number;
  /** Closed sooner past this many bytes. */
  bytes: number;
}

/** After a 413: long enough for a client to finish sending a large body over a slow link. */
export const BODY_LINGER: Linger = { totalMs: 10_000, idleMs: 2_000, bytes: 64 * 1024 * 1024 };
/** After a 408 or 431: the client was slow or sent too much already; a short grace. */
export const EARLY_LINGER: Linger = { totalMs: 1_000, idleMs: 500, bytes: 1024 * 1024 };

/** The response of a request, as the pipeline records it on the request (as Express does for a mount). */
type WithResponse = IncomingMessage & { res?: ServerResponse };

/**
 * Makes the answer to `req`, which refuses its body before it was read whole, the last on its connection
 * (`Connection: close`), and its close a staged one: once the answer is written, stop writing (FIN), keep
 * reading and dropping what the client still sends within `linger`, then close. The caller answers as usual.
 */
export function closeInStages(req: IncomingMessage, linger: Linger = BODY_LINGER): void {
  const res = (req as WithResponse).res;
  if (res && !res.headersSent) res.setHeader('Connection', 'close');
  const socket = req.socket;
  // Node closes a `Connection: close` socket with destroySoon() once the answer is written: at once, unread
  // bytes and all, which makes the kernel reset the connection. Instead:
  socket.destroySoon = () => lingeringClose(socket, linger);
}

/**
 * The last stages of a close: FIN after what is written, then read and drop until the client stops sending,
 * or `linger` runs out, then close. The request parser keeps reading the socket (and drops a refused body).
 */
export function lingeringClose(socket: Socket, linger: Linger): void {
  if (socket.destroyed) return;
  socket.end();
  const started = Date.now();
  const firstByte = socket.bytesRead;
  let seen = firstByte;
  const check = setInterval(() => {
    const now = socket.bytesRead;
    if (now === seen || now - firstByte > linger.bytes || Date.now() - started >= linger.totalMs) {
      socket.destroy();
    }
    seen = now;
  }, Math.min(linger.idleMs, linger.totalMs));
  check.unref();
  socket.once('close', () => clearInterval(check));
  // Nothing more is parsed from a socket whose request was refused before its body: just drop it.
  socket.resume();
}

const ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** Sockets answered already: the parser reports its error again for every later chunk. */
const answered = new WeakSet<Socket>();

/**
 * The server's `clientError` listener: 408 (too slow), 431 (headers too large) and 413 (chunk extensions) as
 * Node answers them, but closed in stages like a refused body, so a client still writing reads its answer.
 * Any other parse error (a request that could be smuggled, say) gets Node's 400 and the socket is destroyed
 * at once: nothing after it is read.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  const status = err.code === undefined ? undefined : ANSWERS[err.code];
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  const mayAnswer = socket.writable && (!inFlight || !inFlight.headersSent);
  if (status === undefined || !mayAnswer) {
    if (mayAnswer) socket.write('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
    return;
  }
  socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  lingeringClose(socket, EARLY_LINGER);
}
