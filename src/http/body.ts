import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { IncomingMessage } from 'node:http';
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
        // Drop whatever else comes; the answer goes out now.
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
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
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
  return value as Record<string, unknown>;
}

/**
 * How deep `[` and `{` nest in `text`, outside strings, in one pass. Checked before `JSON.parse`, so a
 * deep document costs a scan rather than a tree that nothing could safely walk or serialise.
 */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > MAX_JSON_DEPTH) return deepest;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
