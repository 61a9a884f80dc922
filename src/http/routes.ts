import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A route answered straight from node:http, ahead of Express: the hot paths (log-out, validate, the SOAP
 * endpoints), where Express's per-request work cost several times what the answer itself does.
 */
export interface DirectRoute {
  /** Matched as Express matches a route path: in any case, with or without one trailing slash. */
  path: string;
  /** The methods it answers; any other goes on to Express (a `GET ?wsdl` on a SOAP endpoint, say). Absent: all. */
  methods?: readonly string[];
  /** Sends the answer, its errors included; a rejection gets the last-resort 500. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Two routes that would answer the same method on the same path: the table refuses the second. */
export class DuplicateRoute extends Error {}

/**
 * The direct routes by path, as Express matches a route path (any case, one trailing slash), and by method.
 * Built once at start; a route declared twice (the same path, a method in common) is an error then, never a
 * later route silently replacing an earlier one.
 */
export class RouteTable {
  private readonly byPath = new Map<string, DirectRoute[]>();

  constructor(routes: readonly DirectRoute[] = []) {
    for (const route of routes) this.add(route);
  }

  add(route: DirectRoute): void {
    const key = routeKey(route.path);
    const here = this.byPath.get(key) ?? [];
    const clash = here.find((other) => sharesAMethod(other, route));
    if (clash) {
      const methods = (route.methods ?? ['every method']).filter((m) => clash.methods === undefined || clash.methods.includes(m));
      throw new DuplicateRoute(`route declared twice: ${methods.join(', ')} ${route.path} (already as ${clash.path})`);
    }
    here.push(route);
    this.byPath.set(key, here);
  }

  /** The route answering `method` on `path` (no query), if any. */
  find(method: string | undefined, path: string): DirectRoute | undefined {
    const routes = this.byPath.get(routeKey(path));
    return routes?.find((route) => route.methods === undefined || route.methods.includes(method ?? ''));
  }
}

function sharesAMethod(a: DirectRoute, b: DirectRoute): boolean {
  if (a.methods === undefined || b.methods === undefined) return true;
  return a.methods.some((method) => b.methods!.includes(method));
}

function routeKey(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}
