import { Agent, request } from 'node:http';
import Database from 'better-sqlite3';
import type { TestServer } from '../support/server';

/** What came back: status, headers, and the body as text. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The client's address: the socket is bound to it (127.0.0.2, 127.0.0.3, ... all reach a server on 127.0.0.1). */
  from?: string;
  agent?: Agent;
}

/** One request over node:http from the given local address. */
export function call(server: Pick<TestServer, 'url'>, c: Call): Promise<Reply> {
  const { hostname, port } = new URL(server.url);
  const body = c.body === undefined ? undefined : Buffer.from(c.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        method: c.method ?? 'POST',
        path: c.path,
        localAddress: c.from ?? '127.0.0.1',
        agent: c.agent ?? false,
        headers: {
          ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {}),
          ...c.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

/** Zato JSON log-in. */
export const zatoLogin = (server: Pick<TestServer, 'url'>, username: string, password: string, from?: string) =>
  call(server, { path: '/zato/json/zato.security.jwt.log-in', body: JSON.stringify({ username, password }), from });

/** A body with its cid (which differs each time) blanked. */
export const withoutCid = (text: string) => text.replace(/K[0-9A-Za-z]{20,}/g, 'K…');

/** A read-only look at the server's database. */
export function readDb<T>(server: Pick<TestServer, 'dbPath'>, work: (db: Database.Database) => T): T {
  const db = new Database(server.dbPath, { readonly: true });
  try {
    return work(db);
  } finally {
    db.close();
  }
}
