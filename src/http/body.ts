import express from 'express';
import type { Request, Response } from 'express';
import { RequestError } from './request-errors';

const readers = new Map<number, ReturnType<typeof express.raw>>();

/**
 * The request body as bytes, at most `limit` after any Content-Encoding is undone (so a gzip bomb stops at
 * the limit too). Raises `RequestError` for a body too large or not decodable.
 */
export function readBody(req: Request, res: Response, limit: number): Promise<Buffer> {
  let reader = readers.get(limit);
  if (!reader) {
    reader = express.raw({ type: () => true, limit, inflate: true });
    readers.set(limit, reader);
  }
  return new Promise((resolve, reject) => {
    reader(req, res, (err?: unknown) => {
      if (err) {
        const type = (err as { type?: string }).type;
        if (type === 'entity.too.large') reject(new RequestError('BodyTooLarge', `Request body larger than ${limit} bytes`));
        else if (type === 'encoding.unsupported') reject(new RequestError('UnsupportedEncoding', 'Unsupported content encoding'));
        else reject(new RequestError('MalformedXml', 'The request body could not be read'));
        return;
      }
      resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    });
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON request body: an object, within the limit. Anything else is a `RequestError`. */
export async function readJsonObject(req: Request, res: Response, limit: number): Promise<Record<string, unknown>> {
  const bytes = await readBody(req, res, limit);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new RequestError('MalformedJson', 'The request body is not valid UTF-8');
  }
  if (text.trim() === '') throw new RequestError('EmptyBody', 'Empty request body');
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
