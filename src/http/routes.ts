import { METHODS, type OutgoingHttpHeaders } from 'node:http';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { Exchange } from './exchange';

/** Every handler has this one shape: it answers the exchange, or throws for its door's error table to answer. */
export type Handler = (x: Exchange) => Promise<void>;

/** One route: where it is, which methods reach it, what the log line calls it, and its handler. */
export interface Route {
  /**
   * The methods it answers (a GET route answers HEAD too), or `'any'`: every method reaches the handler, which
   * answers a wrong one in its dialect's own words (Studio's 405, say).
   */
  methods: readonly string[] | 'any';
  /**
   * Matched in any case, with or without one trailing slash, as Express matches: `/zato/json/:service` (a
   * segment), `/studio/api/*` (the rest of the path). A static path wins over a parameter.
   */
  path: string;
  /** The operation for the log line and metrics, when the route alone says it; a handler may set it later. */
  operation?: string;
  /** On every answer of this route, errors included, after the door's (the console API's `no-store`, say). */
  headers?: OutgoingHttpHeaders;
  handle: Handler;
  /** Where a route speaks another dialect than the rest of its door (SOAP beside JSON): its own renderer. */
  fail?(x: Exchange, err: unknown): void;
}

/** A door: its routes, the headers every answer of them carries, and its one error table. */
export interface Door {
  /** For the log line and metrics; null for the gateway's own routes (/healthz, /metrics, /openapi.json). */
  name: string | null;
  /** On every answer of the door's routes, errors included (`Cache-Control: no-store`, say). */
  headers?: OutgoingHttpHeaders;
  routes: readonly Route[];
  /** Answers an error a route raised, through the door's one table (a SOAP fault, a JSON error body...). */
  fail(x: Exchange, err: unknown): void;
}

/** What the table finds for a request. */
export interface Match {
  door: Door;
  route: Route;
  params: Record<string, string | undefined>;
  /** A parameter's percent-escapes do not decode: the route's door answers it as a bad request. */
  badPath?: true;
}

/** Two routes that would answer the same method on the same path: the table refuses the second. */
export class DuplicateRoute extends Error {}

/** A request path find-my-way cannot read at all: the client's error, no door's. */
export const BAD_PATH = Symbol('bad path');

interface Entry {
  door: Door;
  route: Route;
}

const ALL_METHODS = METHODS as HTTPMethod[];
/** The table keeps each route as find-my-way's `store`; its handler slot is never called. */
const noop = (): void => undefined;

/**
 * Every route of every door, declared once and built once at start (find-my-way's radix tree). A route
 * declared twice (the same path as it is matched, a method in common) is an error then, never a later route
 * silently replacing an earlier one.
 */
export class RouteTable {
  private readonly router = FindMyWay({
    caseSensitive: false,
    ignoreTrailingSlash: true,
    // A parameter is a service or method name, or a console id; a longer one must still reach its door's
    // "unknown" answer rather than a 404 (node refuses a request line over 16 KiB anyway).
    maxParamLength: 65_536,
    onBadUrl: () => undefined,
  });
  private readonly declared = new Map<string, string>();

  constructor(doors: readonly Door[] = []) {
    for (const door of doors) for (const route of door.routes) this.add(door, route);
  }

  add(door: Door, route: Route): void {
    const methods = route.methods === 'any' ? ALL_METHODS : withHead(route.methods);
    for (const method of methods) {
      const key = `${method} ${routeKey(route.path)}`;
      const earlier = this.declared.get(key);
      if (earlier !== undefined) throw new DuplicateRoute(`route declared twice: ${method} ${route.path} (already as ${earlier})`);
      // HEAD comes with GET unless the route names it.
      this.declared.set(key, route.path);
    }
    const entry: Entry = { door, route };
    try {
      this.router.on(methods as HTTPMethod[], route.path, noop, entry);
    } catch (err) {
      throw new DuplicateRoute(`route declared twice: ${route.path} (${(err as Error).message})`);
    }
  }

  /** The route answering `method` on `url` (the query is ignored), `BAD_PATH`, or undefined. */
  find(method: string | undefined, url: string): Match | typeof BAD_PATH | undefined {
    // A method no route has (BREW, say) finds no tree in find-my-way: no match, without a list to search.
    if (method === undefined) return undefined;
    // As Express does, a path is matched as it was sent: `log%2Dout` is not `log-out` (a percent-escape must
    // not reach a route its letters do not name). So every `%` goes to find-my-way escaped, which leaves the
    // static part as sent, and the parameters come back as sent, to be decoded here.
    const escaped = url.includes('%');
    const found = this.router.find(method as HTTPMethod, escaped ? url.replaceAll('%', '%25') : url);
    if (found === null) return undefined;
    // find-my-way's answer for a path it cannot read carries no store.
    const entry = found.store as Entry | null;
    if (entry === null) return BAD_PATH;
    if (!escaped) return { door: entry.door, route: entry.route, params: found.params };
    const params: Record<string, string | undefined> = {};
    try {
      for (const [name, value] of Object.entries(found.params)) params[name] = value === undefined ? undefined : decodeURIComponent(value);
    } catch {
      return { door: entry.door, route: entry.route, params: {}, badPath: true };
    }
    return { door: entry.door, route: entry.route, params };
  }
}

function withHead(methods: readonly string[]): string[] {
  const upper = methods.map((m) => m.toUpperCase());
  return upper.includes('GET') && !upper.includes('HEAD') ? [...upper, 'HEAD'] : upper;
}

/** A path as the table matches it: in lower case, without a trailing slash, every parameter alike. */
function routeKey(path: string): string {
  const lower = path.toLowerCase().replace(/:[^/]+/g, ':');
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}
