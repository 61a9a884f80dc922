import type { ServerResponse } from 'node:http';

/**
 * What one request's answer and its log line need to know, whichever lane answered it: the front sets it up
 * as `res.locals`, so Express routes read and write the very same object.
 */
export interface Exchange {
  cid: string;
  /** The client's address; forwarded addresses count only through trusted proxies (DUALGATE_TRUST_PROXY). */
  clientIp: string | null;
  /** How the client reached us: `https` directly over TLS, or as a trusted proxy says. */
  protocol: 'http' | 'https';
  /**
   * Where dualgate is mounted in another Express app (`parent.use('/auth', app)`: `/auth`), or '' at the root.
   * Every address and cookie path dualgate hands out starts with it.
   */
  mountPath: string;
  /** The request came from a trusted proxy (DUALGATE_TRUST_PROXY): its X-Forwarded-* headers count. */
  viaProxy: boolean;
  /** DUALGATE_PUBLIC_URL, when set: every address we write starts with it. */
  publicUrl?: string;
  door?: string;
  operation?: string;
  outcome?: 'ok' | 'error';
  error?: unknown;
}

export function exchangeOf(res: ServerResponse): Exchange {
  return (res as ServerResponse & { locals: Exchange }).locals;
}
