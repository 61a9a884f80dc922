import { doorSettings, type Config } from '../config';
import type { Core } from '../core';
import type { DoorRoutes } from '../http/front';
import { openApiRoute } from '../http/openapi';
import { consoleDoor } from './console';
import { crafterDoor } from './crafter';
import { zatoDoor } from './zato';
import { xwebDoor } from './xweb';

/** Every door's routes: the Express routers in the order they are mounted, and the direct routes. */
export function buildDoors(config: Config, core: Core): { routers: DoorRoutes['router'][]; direct: DoorRoutes['direct'] } {
  const own = doorSettings(config);
  const doors = [crafterDoor(own.crafter, core), xwebDoor(own.xweb, core), zatoDoor(own.zato, core)];
  return {
    routers: [
      ...doors.map((door) => door.router),
      consoleDoor(own.console, core),
      // The OpenAPI document of the JSON routes, with the Crafter door's paths under its configured prefix.
      openApiRoute((path) => path.replace(/^\/studio(?=\/)/, config.crafterPrefix)),
    ],
    direct: doors.flatMap((door) => door.direct),
  };
}
