import { loadConfig } from '../../src/config';
import { buildDoors } from '../../src/doors';
import { BAD_PATH, DuplicateRoute, RouteTable, type Door, type Match, type Route } from '../../src/http/routes';
import { openTestCore } from '../support/core';

const route = (path: string, methods: Route['methods'] = ['POST']): Route => ({ path, methods, handle: async () => undefined });
const door = (...routes: Route[]): Door => ({ name: 'test', routes, fail: () => undefined });
const routeOf = (found: ReturnType<RouteTable['find']>) => (found === undefined || found === BAD_PATH ? found : found.route);

describe('the route table', () => {
  it('refuses a route declared twice when it is built, however the path is spelled', () => {
    expect(() => new RouteTable([door(route('/zato/jwt/log-out'), route('/ZATO/jwt/log-out/'))])).toThrow(
      new DuplicateRoute('route declared twice: POST /ZATO/jwt/log-out/ (already as /zato/jwt/log-out)'),
    );
    // Across doors too, and whatever a parameter is called.
    expect(() => new RouteTable([door(route('/zato/json/:service')), door(route('/zato/json/:name'))])).toThrow(DuplicateRoute);
    // A route for every method clashes with any other on its path; a GET route holds HEAD as well.
    expect(() => new RouteTable([door(route('/studio/x.json', 'any'), route('/studio/x.json', ['GET']))])).toThrow(DuplicateRoute);
    expect(() => new RouteTable([door(route('/a', ['GET']), route('/a', ['HEAD']))])).toThrow(DuplicateRoute);
  });

  it('keeps routes of one path apart by method, finds each, and reads parameters', () => {
    const get = route('/a', ['GET']);
    const post = route('/a', ['POST', 'PUT']);
    const service = route('/zato/json/:service');
    const rest = route('/studio/api/*', 'any');
    const table = new RouteTable([door(get, post, service, rest)]);
    expect(routeOf(table.find('GET', '/A/'))).toBe(get);
    expect(routeOf(table.find('HEAD', '/a'))).toBe(get);
    expect(routeOf(table.find('PUT', '/a?x=1'))).toBe(post);
    expect(table.find('DELETE', '/a')).toBeUndefined();
    expect(table.find('GET', '/a/b')).toBeUndefined();
    expect(table.find('BREW', '/a')).toBeUndefined();
    // A parameter keeps its case and is decoded; an empty one or two segments do not match.
    expect((table.find('POST', '/ZATO/json/Zato.X%2Dy') as Match).params).toEqual({ service: 'Zato.X-y' });
    expect(table.find('POST', '/zato/json/')).toBeUndefined();
    expect(table.find('POST', '/zato/json/a/b')).toBeUndefined();
    expect((table.find('PATCH', '/studio/api/1/x.json') as Match).params).toEqual({ '*': '1/x.json' });
    // A percent-escape is matched as sent, as Express matches: it never reaches a route its letters do not name.
    expect(routeOf(table.find('GET', '/%61'))).toBeUndefined();
    expect((table.find('GET', '/studio/api/1/log%2Ein.json') as Match).params).toEqual({ '*': '1/log.in.json' });
    // A parameter that cannot be decoded is the client's error, answered by the route's door.
    expect(table.find('POST', '/zato/json/a%ZZ')).toEqual({ door: expect.anything(), route: service, params: {}, badPath: true });
  });

  it("holds every door's routes without a clash, with the Crafter door mounted anywhere", async () => {
    const t = await openTestCore();
    try {
      for (const prefix of ['/studio', '/cms/studio']) {
        const doors = buildDoors(loadConfig({}, { DUALGATE_CRAFTER_PREFIX: prefix }), t.core);
        const table = new RouteTable(doors);
        expect(routeOf(table.find('POST', '/zato/json/zato.security.jwt.log-out'))).toBeDefined();
        expect(routeOf(table.find('GET', `${prefix}/api/1/services/api/1/security/validate-session.json`))).toBeDefined();
      }
    } finally {
      await t.core.close();
    }
  });
});
