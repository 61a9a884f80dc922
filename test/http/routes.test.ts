import { loadConfig } from '../../src/config';
import { buildDoors } from '../../src/doors';
import { DuplicateRoute, RouteTable, type DirectRoute } from '../../src/http/routes';
import { openTestCore } from '../support/core';

const route = (path: string, methods?: string[]): DirectRoute => ({ path, methods, handle: async () => undefined });

describe('the route table', () => {
  it('refuses a route declared twice when it is built, however the path is spelled', () => {
    expect(() => new RouteTable([route('/zato/jwt/log-out', ['POST']), route('/ZATO/jwt/log-out/', ['POST'])])).toThrow(
      new DuplicateRoute('route declared twice: POST /ZATO/jwt/log-out/ (already as /zato/jwt/log-out)'),
    );
    // A route for every method clashes with any other on its path.
    expect(() => new RouteTable([route('/studio/x.json'), route('/studio/x.json', ['GET'])])).toThrow(DuplicateRoute);
  });

  it('keeps routes of one path apart by method, and finds each', () => {
    const get = route('/a', ['GET']);
    const post = route('/a', ['POST', 'PUT']);
    const table = new RouteTable([get, post]);
    expect(table.find('GET', '/A/')).toBe(get);
    expect(table.find('PUT', '/a')).toBe(post);
    expect(table.find('DELETE', '/a')).toBeUndefined();
    expect(table.find('GET', '/a/b')).toBeUndefined();
  });

  it("holds every door's routes without a clash, with the Crafter door mounted anywhere", async () => {
    const t = await openTestCore();
    try {
      for (const prefix of ['/studio', '/cms/studio']) {
        const doors = buildDoors(loadConfig({}, { DUALGATE_CRAFTER_PREFIX: prefix }), t.core);
        expect(() => new RouteTable(doors.direct)).not.toThrow();
        expect(new RouteTable(doors.direct).find('POST', '/zato/json/zato.security.jwt.log-out')).toBeDefined();
      }
    } finally {
      await t.core.close();
    }
  });
});
