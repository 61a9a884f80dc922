import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { IncomingMessage } from 'node:http';
import { closeInStages } from './linger';
import { RequestError } from './request-errors';

/** The content codings a body may come in, and how each is undone. */
const DECODERS: Record<string, (() => NodeJS.ReadWriteStream) | null> = {
  identity: null,
  gzip: createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The request body as bytes, at most `limit` after any Content-Encoding is undone (so a gzip bomb stops at
 * the limit too). Raises `RequestError` for a body too large or not decodable.
 *
 * The verdict never waits for the rest of a body it refuses: a declared length over the limit is refused
 * before a byte is read, and a body that grows past it is refused at the chunk that crosses it. What the
 * client still sends is read and dropped (so the connection stays usable), for as long as the server's
 * request timeout allows.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new RequestError('BodyTooLarge', `Request body larger than ${limit} bytes`);
    const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase() || 'identity';
    const decoder = Object.hasOwn(DECODERS, coding) ? DECODERS[coding] : undefined;
    if (decoder === undefined) {
      req.resume();
      reject(new RequestError('UnsupportedEncoding', 'Unsupported content encoding'));
      return;
    }
    if (req.readableEnded) {
      resolve(Buffer.alloc(0));
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (decoder === null && declared > limit) {
      closeInStages(req);
      req.resume();
      reject(tooLarge());
      return;
    }

    const source: Readable = decoder === null ? req : (req.pipe(decoder()) as unknown as Readable);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;

    const settle = (err?: RequestError) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      req.off('error', onError);
      req.off('close', onClose);
      if (source !== req) {
        req.unpipe(source as unknown as NodeJS.WritableStream);
        source.on('error', () => {});
        source.destroy();
      }
      if (err) {
        // Drop whatever else comes; the answer goes out now, the last on its connection.
        if (err.code === 'BodyTooLarge') closeInStages(req);
        req.resume();
        reject(err);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => settle();
    const onError = () => settle(new RequestError('UnreadableBody', 'The request body could not be read'));
    const onClose = () => {
      if (!req.complete) onError();
    };

    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    if (source !== req) req.on('error', onError);
    req.on('close', onClose);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Deeper than any JSON body a door reads (theirs are two levels at most). */
export const MAX_JSON_DEPTH = 32;

/** A JSON request body: an object, within the limit and `MAX_JSON_DEPTH`. Anything else is a `RequestError`. */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const bytes = await readBody(req, limit);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new RequestError('MalformedJson', 'The request body is not valid UTF-8');
  }
  if (text.trim() === '') throw new RequestError('EmptyBody', 'Empty request body');
  const scan = scanJson(text);
  if (scan.deepest > MAX_JSON_DEPTH) {
    throw new RequestError('MalformedJson', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError('MalformedJson', 'The request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError('MalformedJson', 'The request body must be a JSON object');
  }
  // JSON.parse keeps the last of two equal keys, other parsers the first: a body two readers could read
  // differently is refused (RFC 8259 §4 leaves it to the receiver).
  if (scan.duplicate !== undefined) {
    const key = scan.duplicate.slice(0, 64);
    throw new RequestError('MalformedJson', `Duplicate key in the JSON body: ${JSON.stringify(key)}`, key);
  }
  return value as Record<string, unknown>;
}

/**
 * How deep `[` and `{` nest in `text` (outside strings), and the first key given twice in one object, in one
 * pass. Checked before `JSON.parse`, so a deep document costs a scan rather than a tree that nothing could
 * safely walk or serialise. Lenient about what is not JSON: `JSON.parse` judges that.
 */
function scanJson(text: string): { deepest: number; duplicate?: string } {
  // One entry per open bracket: the keys of an object so far, or null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  let deepest = 0;
  let duplicate: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i++; // backslash: skip the escaped character
        } else if (d === 0x22) {
          break;
        }
      }
      const keys = open[open.length - 1];
      if (expectKey && keys && duplicate === undefined) {
        const raw = text.slice(start, i + 1);
        let key: string | undefined = raw.slice(1, -1);
        if (escaped) {
          try {
            key = JSON.parse(raw) as string; // `"\u0061"` and `"a"` are the same key
          } catch {
            key = undefined;
          }
        }
        if (key !== undefined) {
          if (keys.has(key)) duplicate = key;
          else keys.add(key);
        }
      }
      expectKey = false;
    } else if (c === 0x7b || c === 0x5b) {
      open.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
      if (open.length > deepest) deepest = open.length;
      if (deepest > MAX_JSON_DEPTH) return { deepest };
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = open[open.length - 1] != null;
    }
  }
  return { deepest, duplicate };
}
