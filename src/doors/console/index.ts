import type { DoorSettings } from '../../config';
import type { Core } from '../../core';
import { notFound } from '../../http/pipeline';
import type { Door } from '../../http/routes';
import { apiRoutes } from './api/routes';
import { CONSOLE_DOOR, CONSOLE_PATH } from './auth';
import { sendError } from './errors';
import { pageRoutes } from './page';

/**
 * The operator console at /console: a static page and its script, served from the package, over a small
 * JSON API under /console/api that calls only the core. Admin accounts only, with the console's own
 * cookie session and a per-session CSRF token.
 */
export function consoleDoor(config: DoorSettings['console'], core: Core): Door {
  return {
    name: CONSOLE_DOOR,
    // No other page may frame the console, and no address of it leaves with a link.
    headers: { 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' },
    routes: [
      ...apiRoutes(core, config),
      ...pageRoutes(),
      // Any other path of the door: the plain 404, with the door's headers.
      { methods: 'any', path: `${CONSOLE_PATH}/*`, handle: async (x) => notFound(x) },
    ],
    fail: sendError,
  };
}
